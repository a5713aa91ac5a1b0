-- 1.3 Review recent changes. Explore first:  python grade.py lab up  &&  python grade.py lab psql
-- Write each query right under its -- name: line. Diagnose only: change nothing.
-- Grade yourself:  python grade.py -e techshop-1-3-recent-changes

-- Each table's newest row version, by commit time: table_name, last_change (timestamptz), newest first.
-- name: last_modified


-- Foreign keys of the documented schema the database lacks: table_name, column_name, references_table.
-- name: missing_foreign_keys


-- Indexes that no PRIMARY KEY or UNIQUE constraint explains: table_name, index_name.
-- name: undocumented_indexes


-- One row: archive_mode, archived_count, last_archived_time.
-- name: backup_status

