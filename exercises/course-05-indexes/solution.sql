-- Course 5: indexes for the foreign keys nobody indexed.
-- 1. First find them. Name the query like this, with the columns table_name, constraint_name:
--
--   -- name: unindexed_foreign_keys
--   SELECT … AS table_name, … AS constraint_name FROM pg_catalog.pg_constraint …;
--
-- 2. Then create one index per foreign key it lists (and no others).
--
-- Grade yourself with:  python grade.py -e course-05-indexes

-- name: unindexed_foreign_keys

