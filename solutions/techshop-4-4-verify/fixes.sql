-- Reference fixes for techshop-4-4-verify: Tasks 4.1, 4.2 and 4.3 in the order they must run.
-- Why it is written this way: NOTES.md.

-- ===== 4.1 Indexes (built CONCURRENTLY: the shop keeps writing) ============================
DROP INDEX CONCURRENTLY products_name_lower_uniq;   -- INVALID, left by a failed build
DROP INDEX CONCURRENTLY idx_customers_email;        -- duplicates customers_email_key
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX CONCURRENTLY idx_products_name_trgm ON products USING gin (name gin_trgm_ops);
CREATE INDEX CONCURRENTLY idx_products_category ON products (category_id);
CREATE INDEX CONCURRENTLY idx_order_items_order_id ON order_items (order_id);
CREATE INDEX CONCURRENTLY idx_order_items_product_id ON order_items (product_id);
CREATE INDEX CONCURRENTLY idx_orders_customer_id ON orders (customer_id);
CREATE INDEX CONCURRENTLY idx_orders_open_status ON orders (status, order_date) WHERE status <> 'delivered';
CREATE INDEX CONCURRENTLY idx_orders_date ON orders (order_date);

-- ===== 4.2 Clean-up =======================================================================
-- Orphaned order lines: keep the evidence in a quarantine table, then delete them.
BEGIN;
CREATE TABLE order_items_orphaned AS
SELECT oi.* FROM order_items AS oi
WHERE NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.id = oi.order_id);
DELETE FROM order_items AS oi
WHERE NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.id = oi.order_id);
COMMIT;

-- Negative stock: 0 until a stock take says otherwise, and a CHECK so the next oversell fails.
UPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0;
ALTER TABLE products ADD CONSTRAINT products_stock_quantity_nonnegative
  CHECK (stock_quantity >= 0) NOT VALID;
ALTER TABLE products VALIDATE CONSTRAINT products_stock_quantity_nonnegative;

-- Duplicate e-mails: merge each second account into the first one. customers_email_key is
-- corrupt (it lacks the second accounts), so the duplicates are found by reading the table,
-- with index scans off for this session.
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;
BEGIN;
CREATE TEMP TABLE account_merge ON COMMIT DROP AS
SELECT c.id AS duplicate_id, k.keep_id
FROM customers AS c
JOIN (SELECT email, min(id) AS keep_id FROM customers GROUP BY email HAVING count(*) > 1) AS k
  ON k.email = c.email
WHERE c.id <> k.keep_id;
UPDATE orders AS o SET customer_id = m.keep_id
FROM account_merge AS m WHERE o.customer_id = m.duplicate_id;
DELETE FROM customers AS c USING account_merge AS m WHERE c.id = m.duplicate_id;
COMMIT;
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;
-- Now the unique index can be rebuilt: every row gets its entry back.
REINDEX INDEX CONCURRENTLY customers_email_key;

-- ===== 4.3 Maintenance ====================================================================
VACUUM (ANALYZE) orders;
VACUUM (ANALYZE) products;
VACUUM (ANALYZE) order_items;
VACUUM (ANALYZE) customers;     -- safe now: the index it may answer from is sound again
ANALYZE categories;
ALTER TABLE orders RESET (autovacuum_enabled);
ALTER TABLE products RESET (autovacuum_enabled);
ALTER TABLE order_items RESET (autovacuum_enabled);
