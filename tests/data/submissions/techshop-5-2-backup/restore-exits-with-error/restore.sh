#!/usr/bin/env bash
# Wrong on purpose: pg_restore without options. The data comes back, but pg_restore reports the
# errors it ignored (COMMENT ON EXTENSION needs the extension's owner) and exits with status 1 —
# so nobody can tell this run from a failed one.
set -euo pipefail
pg_restore --no-password --dbname="$PGDATABASE" "$(ls -1t "$BACKUP_DIR"/*.dump | head -n 1)"
