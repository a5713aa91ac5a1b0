#!/usr/bin/env bash
# TechShop backup script (Task 5.2).
# The grader runs it with PGHOST, PGPORT, PGUSER and PGDATABASE describing the database, and
# BACKUP_DIR naming an empty directory the dump must be written to.
set -euo pipefail

# Write your backup here.
