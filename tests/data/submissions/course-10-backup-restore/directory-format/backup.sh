#!/usr/bin/env bash
# Right, written differently: a directory-format dump taken with two parallel jobs, under a
# hidden name until pg_restore has read its table of contents.
set -eu
: "${BACKUP_DIR:?}"
final="$BACKUP_DIR/pagila.$(date -u +%Y-%m-%d_%H%M%S).d"
work="$BACKUP_DIR/.in-progress"
rm -rf "$work"
if ! pg_dump -Fd --jobs=2 --no-password -f "$work" || ! pg_restore -l "$work" > /dev/null; then
    rm -rf "$work"
    echo "backup failed" >&2
    exit 1
fi
mv "$work" "$final"
