-- Reference solution for techshop-4-2-cleanup.
-- Each fix is one transaction: it either happens completely or not at all.

-------------------------------------------------------------------------------------------
-- 1. Orphaned order lines: their orders were purged, so they cannot be re-attached.
--    Quarantine them (the evidence stays, the fix can be undone), then delete them.
-------------------------------------------------------------------------------------------
BEGIN;
CREATE TABLE order_items_quarantine AS
SELECT oi.*, now() AS quarantined_at, 'order deleted by the replica-mode purge'::text AS reason
FROM order_items oi
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id);

DELETE FROM order_items oi
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id);
COMMIT;

-------------------------------------------------------------------------------------------
-- 2. Duplicate accounts: merge each copy into the original (the older account).
--    The pairs are found by reading the table: customers_email_key has no entries for the
--    copies, so a plan that reads it (or a self-join it lets PostgreSQL 18 eliminate)
--    would find no duplicates and the merge would silently do nothing.
-------------------------------------------------------------------------------------------
BEGIN;
CREATE TABLE customer_merges AS
WITH customer_rows AS MATERIALIZED (          -- a plain scan of the table, whatever the plan
    SELECT id, email, created_at FROM customers
)
SELECT id AS merged_id,
       first_value(id) OVER (PARTITION BY email ORDER BY created_at, id) AS kept_id,
       email
FROM customer_rows;
DELETE FROM customer_merges WHERE merged_id = kept_id;

-- Keep the copies, too: who was merged into whom, and what the copy held.
CREATE TABLE customers_merged AS
SELECT c.*, m.kept_id AS merged_into, now() AS merged_at
FROM customers c JOIN customer_merges m ON m.merged_id = c.id;

UPDATE orders o SET customer_id = m.kept_id
FROM customer_merges m
WHERE o.customer_id = m.merged_id;

DELETE FROM customers c USING customer_merges m WHERE c.id = m.merged_id;
DROP TABLE customer_merges;
COMMIT;

-- Now the index can be rebuilt: it fails with 23505 while the duplicates exist.
-- CONCURRENTLY keeps the table writable (it cannot run inside a transaction block).
REINDEX INDEX CONCURRENTLY customers_email_key;

-------------------------------------------------------------------------------------------
-- 3. Negative stock: the real count needs a stock take; until then nothing is on the shelf.
--    Then make the database refuse it: NOT VALID takes only a brief lock, VALIDATE checks
--    the existing rows without blocking writes.
-------------------------------------------------------------------------------------------
UPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0;
ALTER TABLE products ADD CONSTRAINT products_stock_quantity_check
  CHECK (stock_quantity >= 0) NOT VALID;
ALTER TABLE products VALIDATE CONSTRAINT products_stock_quantity_check;

-------------------------------------------------------------------------------------------
-- 4. Orders whose customer was erased: keep the orders (sales records), and give them the
--    anonymised customer the GDPR job should have left behind instead of deleting the row.
--    created_at = the first order, so the placeholder is not "younger" than its orders.
-------------------------------------------------------------------------------------------
-- New orders are checked from now on (a brief lock); existing rows are not checked yet. It
-- commits on its own: in one transaction with the INSERT below, the lock it takes on orders
-- would stay while the INSERT reads every order, and the shop's writes would wait for it.
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
  FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;

INSERT INTO customers (id, email, first_name, last_name, created_at)
SELECT o.customer_id, 'erased-customer-' || o.customer_id || '@erased.invalid', NULL, NULL, min(o.order_date)
FROM orders o
WHERE o.customer_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id)
GROUP BY o.customer_id;

-- Checks every existing order without blocking writes.
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;

ANALYZE customers;
ANALYZE orders;
ANALYZE order_items;
ANALYZE products;
