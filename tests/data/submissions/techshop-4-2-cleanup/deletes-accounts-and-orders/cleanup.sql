-- Wrong on purpose (tests): delete whatever looks wrong, and fight the constraints.

-- Orphaned lines: quarantined and deleted correctly.
CREATE TABLE order_items_quarantine AS
SELECT oi.* FROM order_items oi WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id);
DELETE FROM order_items oi WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id);

-- "REINDEX fails, so the index is the problem": drop the UNIQUE constraint ...
ALTER TABLE customers DROP CONSTRAINT customers_email_key;
-- ... and delete every account whose address is shared: the customer goes with the copy.
DELETE FROM customers
WHERE email IN (SELECT email FROM customers GROUP BY email HAVING count(*) > 1);

-- A table owner trying to switch the foreign-key triggers off (needs a superuser).
ALTER TABLE order_items DISABLE TRIGGER ALL;

-- Negative stock: fixed and forbidden.
UPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0;
ALTER TABLE products ADD CONSTRAINT products_stock_quantity_check CHECK (stock_quantity >= 0);

-- Orders without a customer (now also those of the deleted accounts): quarantined, then
-- deleted with their lines, so that the foreign key can be added.
BEGIN;
CREATE TABLE orders_quarantine AS
SELECT o.* FROM orders o
WHERE o.customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id);
CREATE TABLE order_items_of_deleted_orders AS
SELECT oi.* FROM order_items oi WHERE oi.order_id IN (SELECT id FROM orders_quarantine);
DELETE FROM order_items WHERE order_id IN (SELECT id FROM orders_quarantine);
DELETE FROM orders WHERE id IN (SELECT id FROM orders_quarantine);
COMMIT;
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
  FOREIGN KEY (customer_id) REFERENCES customers (id);
