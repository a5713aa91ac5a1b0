-- Replace the tables by views: products over a renamed table (with the trigram index on the
-- renamed table), and order_items over a view that hides the orphans instead of removing them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE products RENAME TO products_data;
CREATE INDEX idx_products_data_name_trgm ON products_data USING gin (name gin_trgm_ops);
CREATE VIEW products AS SELECT * FROM products_data;
ALTER TABLE order_items RENAME TO order_items_data;
CREATE VIEW order_items AS
SELECT oi.* FROM order_items_data oi WHERE EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id);
ANALYZE products_data;
