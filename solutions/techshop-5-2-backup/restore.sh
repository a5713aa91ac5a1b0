#!/usr/bin/env bash
# TechShop restore (reference solution; why: NOTES.md).
# Restores the newest dump in BACKUP_DIR into the existing, empty database PGDATABASE
# (PGHOST, PGPORT, PGUSER as for any libpq program). Run it against a scratch database first:
# an untested restore procedure is a hope, not a procedure.
set -euo pipefail
: "${BACKUP_DIR:?BACKUP_DIR must name the backup directory}"
: "${PGDATABASE:?PGDATABASE must name the (empty) target database}"

dump=$(find "$BACKUP_DIR" -maxdepth 1 -name '*.dump' -type f -printf '%T@ %p\n' | sort -nr | head -n 1 | cut -d' ' -f2-)
if [ -z "$dump" ]; then
    echo "no dump found in $BACKUP_DIR" >&2
    exit 1
fi
echo "restoring $dump into $PGDATABASE"

# --no-owner / --no-privileges: the target server may not have the same roles.
# --no-comments: COMMENT ON EXTENSION needs the extension's owner (a superuser), and the
# extensions themselves are installed by the DBA before the restore (see the runbook).
# --exit-on-error: stop at the first error instead of leaving a half-restored database that
# looks fine. --jobs: tables and indexes load in parallel.
pg_restore --dbname="$PGDATABASE" --no-owner --no-privileges --no-comments --exit-on-error \
           --jobs=2 --no-password "$dump"

# A restored database has no planner statistics yet.
psql --no-psqlrc --no-password --quiet -v ON_ERROR_STOP=1 -c 'ANALYZE'

# Show what came back, so whoever runs this can compare with the source.
psql --no-psqlrc --no-password -v ON_ERROR_STOP=1 -c \
  "SELECT relname AS table_name, n_live_tup AS rows FROM pg_stat_user_tables ORDER BY relname"
