-- Wrong on purpose: the lists typed in from the lab, or queries that name the objects they
-- expect. Right on the graded copy (same catalog as the lab), wrong on the grader's contrast
-- database, where other foreign keys lack an index and other indexes are unused, duplicated
-- or INVALID.

-- name: fk_without_index
SELECT t.table_name, t.column_name
FROM (VALUES ('categories', 'parent_id'), ('order_items', 'order_id'),
             ('order_items', 'product_id')) AS t(table_name, column_name);

-- A query, but one that only looks where the lab's answer was.
-- name: unused_indexes
SELECT s.relname AS table_name, s.indexrelname AS index_name
FROM pg_stat_user_indexes AS s
WHERE s.relname = 'customers' AND s.idx_scan = 0 AND s.indexrelname LIKE 'idx_%';

-- name: duplicate_indexes
SELECT 'customers' AS table_name, 'idx_customers_email' AS redundant_index,
       'customers_email_key' AS duplicate_of;

-- name: invalid_indexes
SELECT 'products' AS table_name, 'products_name_lower_uniq' AS index_name;
