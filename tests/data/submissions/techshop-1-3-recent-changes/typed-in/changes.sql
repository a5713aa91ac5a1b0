-- Wrong on purpose: the answers typed in from the lab instead of read from the catalog. On
-- the graded copy the catalog is the lab's, so they look right; the grader's contrast
-- database (the "elsewhere" variant) lacks another foreign key and has other hand-made
-- indexes, and there the typed-in rows are wrong.

-- name: missing_foreign_keys
SELECT 'orders' AS table_name, 'customer_id' AS column_name, 'customers' AS references_table;

-- name: undocumented_indexes
SELECT t.table_name, t.index_name
FROM (VALUES ('customers', 'idx_customers_email'), ('customers', 'idx_customers_name'),
             ('products', 'products_name_lower_uniq')) AS t(table_name, index_name);

-- name: backup_status
SELECT 'off' AS archive_mode, 0 AS archived_count, NULL::timestamptz AS last_archived_time;
