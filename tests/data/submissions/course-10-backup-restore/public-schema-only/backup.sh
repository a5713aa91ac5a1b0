#!/usr/bin/env bash
# Wrong on purpose: only schema public, where all of the lab's Pagila lives. A schema added
# later is not in the backup.
set -euo pipefail
target="$BACKUP_DIR/pagila-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-password --schema=public --file="$target.partial"
pg_restore --list "$target.partial" > /dev/null
mv "$target.partial" "$target"
