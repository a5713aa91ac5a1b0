#!/usr/bin/env bash
# Wrong on purpose (for the restore procedure): a plain SQL dump, which restores, but cannot be
# listed, restored selectively or in parallel by pg_restore.
set -euo pipefail
pg_dump --no-password > "$BACKUP_DIR/techshop.sql"
