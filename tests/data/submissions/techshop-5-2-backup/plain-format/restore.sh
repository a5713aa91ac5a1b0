#!/usr/bin/env bash
set -euo pipefail
psql --no-psqlrc --no-password -v ON_ERROR_STOP=1 -f "$BACKUP_DIR/techshop.sql"
