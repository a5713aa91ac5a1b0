-- Reference solution for demo-first-fix.

-- name: orphan_items
SELECT oi.id, oi.order_id, oi.product_id, oi.quantity, oi.price
FROM order_items oi
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id)
ORDER BY oi.id;

-- A btree cannot serve LIKE '%laptop%'; a trigram GIN index can.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX CONCURRENTLY idx_products_name_trgm ON products USING gin (name gin_trgm_ops);

-- Quarantine the orphans before deleting them: the evidence outlives the fix.
BEGIN;
CREATE TABLE order_items_orphaned AS
SELECT oi.* FROM order_items oi
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id);
DELETE FROM order_items oi
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id);
COMMIT;

-- Negative stock: set to 0 for now (the real count needs a stock take) and forbid it.
UPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0;
ALTER TABLE products ADD CONSTRAINT products_stock_quantity_nonnegative
  CHECK (stock_quantity >= 0) NOT VALID;
ALTER TABLE products VALIDATE CONSTRAINT products_stock_quantity_nonnegative;

ANALYZE products;
