#!/usr/bin/env bash
# TechShop restore script (Task 5.2).
# The grader runs it with BACKUP_DIR holding what backup.sh wrote, and PGHOST, PGPORT, PGUSER
# and PGDATABASE naming an existing, empty database to restore into.
set -euo pipefail

# Write your restore here.
