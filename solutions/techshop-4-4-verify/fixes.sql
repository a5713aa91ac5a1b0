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

-- ===== The rest of Phase 3: every integrity check must pass ================================
-- Each bad row is repaired in place; its old values are kept in incident_evidence.
CREATE SCHEMA IF NOT EXISTS incident_evidence;

-- Orders whose customer was erased: anonymised tombstones under the old ids (the orders are
-- the shop's financial record), then the foreign key back, checked in two steps.
BEGIN;
INSERT INTO customers (id, email, first_name, last_name, created_at)
SELECT o.customer_id, 'erased-' || o.customer_id || '@customers.invalid', NULL, NULL, min(o.order_date)
FROM orders AS o
WHERE o.customer_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM customers AS c WHERE c.id = o.customer_id)
GROUP BY o.customer_id;
COMMIT;
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
  FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;

-- Products of the retired category: a holding category merchandising can see, not a guess.
BEGIN;
CREATE TABLE incident_evidence.products_without_category AS
SELECT p.id AS product_id, p.category_id AS deleted_category_id
FROM products AS p
WHERE p.category_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM categories AS c WHERE c.id = p.category_id);
INSERT INTO categories (name) VALUES ('Needs review: retired category');
UPDATE products
SET category_id = currval(pg_get_serial_sequence('categories', 'id'))
WHERE id IN (SELECT product_id FROM incident_evidence.products_without_category);
COMMIT;

-- Unknown (NULL) stock: 0 until counted, like the oversold products.
BEGIN;
CREATE TABLE incident_evidence.unknown_stock AS
SELECT id AS product_id, stock_quantity AS old_stock_quantity FROM products WHERE stock_quantity IS NULL;
UPDATE products SET stock_quantity = 0
WHERE id IN (SELECT product_id FROM incident_evidence.unknown_stock);
COMMIT;

-- Promo orders were charged the discounted total: record the discount, keep the total.
ALTER TABLE orders ADD COLUMN discount_amount numeric(10, 2) NOT NULL DEFAULT 0;
UPDATE orders AS o
SET discount_amount = l.lines_total - o.total_amount
FROM (SELECT order_id, sum(quantity * price) AS lines_total FROM order_items GROUP BY order_id) AS l
WHERE l.order_id = o.id AND o.total_amount > 0 AND abs(o.total_amount - l.lines_total) > 0.01;

-- Refunds written as a negative total: the order keeps its real (positive) total.
BEGIN;
CREATE TABLE incident_evidence.negative_totals AS
SELECT id AS order_id, total_amount AS old_total_amount FROM orders WHERE total_amount < 0;
UPDATE orders SET total_amount = -total_amount
WHERE id IN (SELECT order_id FROM incident_evidence.negative_totals);
COMMIT;

-- Double submissions are not orders: no lines, seconds after a real order of the same
-- customer. Kept in the evidence schema, then removed.
BEGIN;
CREATE TABLE incident_evidence.double_submitted_orders AS
SELECT o.*
FROM orders AS o
WHERE o.total_amount = 0
  AND NOT EXISTS (SELECT 1 FROM order_items AS oi WHERE oi.order_id = o.id)
  AND EXISTS (SELECT 1 FROM orders AS first
              WHERE first.customer_id = o.customer_id AND first.id < o.id
                AND o.order_date - first.order_date BETWEEN interval '0' AND interval '10 seconds');
DELETE FROM orders WHERE id IN (SELECT id FROM incident_evidence.double_submitted_orders);
COMMIT;

-- Orders dated in the future (order_date > now()), two causes. Decades ahead: a phone order
-- whose year has its last two digits swapped (2025 typed as 2052): swapped back, where that
-- lands in the past. Minutes or hours ahead: a till whose clock ran fast (swapping 2026 gives
-- 2062, still ahead): when the sale really happened is unknown, but not later than now, so the
-- order is dated at the time of the fix. Either way the old value stays in the evidence table.
BEGIN;
CREATE TABLE incident_evidence.future_orders AS
SELECT id AS order_id, order_date AS old_order_date,
       order_date - make_interval(years => typed - (typed / 100 * 100 + typed % 10 * 10 + typed / 10 % 10))
           AS year_swapped_back
FROM (SELECT id, order_date, extract(year FROM order_date)::int AS typed
      FROM orders WHERE order_date > now()) AS f;
UPDATE orders AS o
SET order_date = CASE WHEN e.year_swapped_back <= now() THEN e.year_swapped_back
                      ELSE now()::timestamp END
FROM incident_evidence.future_orders AS e
WHERE o.id = e.order_id;
COMMIT;

-- Accounts the CRM re-import stamped with the import time: the first order is the closest
-- known bound of the real sign-up date.
BEGIN;
CREATE TABLE incident_evidence.customer_created_at AS
SELECT c.id AS customer_id, c.created_at AS old_created_at, min(o.order_date) AS first_order
FROM customers AS c JOIN orders AS o ON o.customer_id = c.id
GROUP BY c.id, c.created_at
HAVING min(o.order_date) < c.created_at;
UPDATE customers AS c SET created_at = e.first_order
FROM incident_evidence.customer_created_at AS e WHERE c.id = e.customer_id;
COMMIT;

-- ===== 4.3 Maintenance ====================================================================
VACUUM (ANALYZE) orders;
VACUUM (ANALYZE) products;
VACUUM (ANALYZE) order_items;
VACUUM (ANALYZE) customers;     -- safe now: the index it may answer from is sound again
ANALYZE categories;
ALTER TABLE orders RESET (autovacuum_enabled);
ALTER TABLE products RESET (autovacuum_enabled);
ALTER TABLE order_items RESET (autovacuum_enabled);
