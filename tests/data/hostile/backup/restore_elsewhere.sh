#!/usr/bin/env bash
# A restore script logs in as learner — in the scratch database made for it, and nowhere
# else. Before restoring, it tries every other database: the graded clone, the untouched
# clone the grader compares with, postgres.
echo "restore runs as $(id -un)"
for db in $(psql -X -At -c "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND datname <> current_database()"); do
  if psql -X -d "$db" -c "SELECT 1" >/dev/null 2>&1; then echo "got into $db"; else echo "kept out of $db"; fi
done
# REFERENCE_RESTORE
