-- Reference verification for techshop-4-4-verify: each query proves one fix, and each is
-- written so that it would show the problem if the fix were missing.

-- Data integrity (Task 4.2): each count must be 0.
-- name: orphan_items
SELECT count(*) AS orphan_items
FROM order_items AS oi
WHERE NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.id = oi.order_id);

-- name: negative_stock
SELECT count(*) AS negative_stock FROM products WHERE stock_quantity < 0;

-- Grouped by lower(email), an expression no index of customers covers: the table itself is
-- read, so a corrupt unique index could not hide a duplicate from this query.
-- name: duplicate_emails
SELECT count(*) AS duplicate_emails
FROM (SELECT lower(email) FROM customers GROUP BY lower(email) HAVING count(*) > 1) AS d;

-- Index usage (Task 4.1): the application's own queries, as the planner now runs them.
-- name: search_plan
EXPLAIN SELECT * FROM products WHERE name LIKE '%laptop%';

-- name: order_lines_plan
EXPLAIN SELECT * FROM order_items WHERE order_id = 12345;

-- Maintenance (Task 4.3): when each busy table was last vacuumed and analyzed.
-- name: maintenance
SELECT relname AS table_name,
       GREATEST(last_vacuum, last_autovacuum) AS last_vacuumed,
       GREATEST(last_analyze, last_autoanalyze) AS last_analyzed
FROM pg_stat_user_tables
WHERE schemaname = 'public' AND relname IN ('products', 'orders', 'order_items')
ORDER BY relname;
