-- 2.2 Check index usage. Explore first:  python grade.py lab up  &&  python grade.py lab psql
-- Write each query right under its -- name: line. Diagnose only: drop nothing yet.
-- Grade yourself:  python grade.py -e techshop-2-2-index-usage

-- Every index of schema public and the scans it served: index_name, idx_scan. (Keep it first.)
-- name: index_usage


-- Foreign-key columns no valid index starts with: table_name, column_name.
-- name: fk_without_index


-- Never scanned and enforcing nothing: table_name, index_name.
-- name: unused_indexes


-- Each index repeating another: table_name, redundant_index, duplicate_of.
-- name: duplicate_indexes


-- Indexes marked INVALID: table_name, index_name.
-- name: invalid_indexes

