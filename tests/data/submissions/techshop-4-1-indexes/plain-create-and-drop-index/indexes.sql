-- Wrong on purpose (tests): the right indexes, built and dropped without CONCURRENTLY while
-- the shop is open. Every query gets its index; the shop's writes wait for each statement.

-- 1. The dead weight first: every write pays for these and no query gains from them.
-- An INVALID unique index left by a failed CREATE UNIQUE INDEX (names repeat):
DROP INDEX products_name_lower_uniq;
-- A plain btree on customers.email, which the UNIQUE constraint's own index already covers:
DROP INDEX idx_customers_email;

-- 2. The name search: LIKE '%laptop%' has a leading wildcard, which no B-tree can serve.
-- A trigram GIN index can (pg_trgm is a trusted extension: the database owner's CREATE right
-- is enough).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX idx_products_name_trgm ON products USING gin (name gin_trgm_ops);

-- 3. Plain B-tree lookups by a foreign-key-like column.
CREATE INDEX idx_products_category ON products (category_id);
CREATE INDEX idx_order_items_order_id ON order_items (order_id);
CREATE INDEX idx_order_items_product_id ON order_items (product_id);
CREATE INDEX idx_orders_customer_id ON orders (customer_id);

-- 4. Status: ~90 % of orders are 'delivered', a value no query should fetch by index. Index
-- only the rest (pending, processing, shipped, cancelled, refunded), ordered by date so the
-- back office's "oldest open orders first" needs no sort.
CREATE INDEX idx_orders_open_status ON orders (status, order_date)
  WHERE status <> 'delivered';

-- 5. Date ranges (last week's orders, daily reports).
CREATE INDEX idx_orders_date ON orders (order_date);

-- 6. A failed build leaves an INVALID index behind and reports an error; make
-- sure none is left (this should return no rows).
-- name: invalid_indexes
SELECT i.indexrelid::regclass AS index_name, i.indrelid::regclass AS table_name
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND NOT (i.indisvalid AND i.indisready);
