#!/usr/bin/env bash
# Wrong on purpose (for the restore procedure): a plain SQL dump, which restores, but cannot be
# listed, restored selectively or in parallel by pg_restore. (It fails cleanly: the dump is
# written under a hidden name and renamed only when pg_dump succeeded.)
set -euo pipefail
pg_dump --no-password > "$BACKUP_DIR/.techshop.sql.partial"
mv "$BACKUP_DIR/.techshop.sql.partial" "$BACKUP_DIR/techshop.sql"
