-- Reference solution for techshop-1-1-assess.

-- The database we are connected to, whatever it is called.
-- name: database_size
SELECT pg_size_pretty(pg_database_size(current_database())) AS database_size;

-- Sizes by oid: no name is rebuilt from text, so no quoting can go wrong.
-- name: table_sizes
SELECT c.relname                          AS table_name,
       pg_total_relation_size(c.oid)      AS total_bytes,
       pg_size_pretty(pg_total_relation_size(c.oid)) AS total_size,
       pg_size_pretty(pg_relation_size(c.oid))       AS heap_size
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
  AND c.relkind IN ('r', 'p')
ORDER BY total_bytes DESC, table_name;

-- Exact counts, all five tables; the estimate is shown next to it for comparison.
-- name: row_counts
SELECT t.table_name, t.row_count, c.reltuples::bigint AS estimated_rows
FROM (
    SELECT 'categories' AS table_name, count(*) AS row_count FROM categories
    UNION ALL SELECT 'customers', count(*) FROM customers
    UNION ALL SELECT 'products', count(*) FROM products
    UNION ALL SELECT 'orders', count(*) FROM orders
    UNION ALL SELECT 'order_items', count(*) FROM order_items
) AS t
JOIN pg_class AS c ON c.oid = format('public.%I', t.table_name)::regclass
ORDER BY t.row_count DESC;
