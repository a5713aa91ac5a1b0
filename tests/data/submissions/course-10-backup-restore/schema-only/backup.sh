#!/usr/bin/env bash
# Wrong on purpose: a schema-only dump restores every table — empty.
set -euo pipefail
pg_dump --schema-only --format=custom --no-password --file="$BACKUP_DIR/pagila.dump"
