#!/usr/bin/env bash
# TechShop nightly logical backup (reference solution; why: NOTES.md).
# libpq reads PGHOST, PGPORT, PGUSER and PGDATABASE from the environment; BACKUP_DIR is where
# the dumps go. No password in this file: use ~/.pgpass or peer authentication.
set -euo pipefail
: "${BACKUP_DIR:?BACKUP_DIR must name the backup directory}"
: "${PGDATABASE:?PGDATABASE must name the database to back up}"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
target="$BACKUP_DIR/${PGDATABASE}-${stamp}.dump"
partial="$BACKUP_DIR/.${PGDATABASE}-${stamp}.partial"
trap 'rm -f "$partial"' EXIT

# Custom format: compressed, and pg_restore can list it, pick tables from it and restore it
# in parallel. One consistent snapshot of the whole database; the shop keeps running.
pg_dump --format=custom --compress=6 --no-password --file="$partial"

# A dump nobody can read is no backup: make pg_restore read its table of contents first.
pg_restore --list "$partial" > /dev/null

# Only a complete, readable dump gets the real name.
mv "$partial" "$target"
echo "backup written: $target ($(du -h "$target" | cut -f1))"

# Keep two weeks of nightly dumps.
find "$BACKUP_DIR" -maxdepth 1 -name "${PGDATABASE}-*.dump" -mtime +14 -delete
