#!/usr/bin/env bash
# Reference solution for course-10-backup-restore: one custom-format dump per run.
set -euo pipefail
: "${BACKUP_DIR:?BACKUP_DIR must name the directory the dump goes to}"
: "${PGDATABASE:?PGDATABASE must name the database to back up}"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
target="$BACKUP_DIR/$PGDATABASE-$stamp.dump"

# Custom format: compressed, and pg_restore can restore all of it or single tables.
# --no-password: fail at once instead of waiting for a prompt nobody will answer.
pg_dump --format=custom --no-password --file="$target.partial"

# A file that pg_restore cannot read is not a backup: check the archive's table of
# contents before giving it its final name.
pg_restore --list "$target.partial" > /dev/null
mv "$target.partial" "$target"
echo "backup written: $target ($(wc -c < "$target") bytes)"
