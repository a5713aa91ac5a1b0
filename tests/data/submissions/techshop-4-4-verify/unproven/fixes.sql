-- Wrong on purpose: the clean-up of Task 4.2 is missing.
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

-- ===== 4.3 Maintenance ====================================================================
VACUUM (ANALYZE) orders;
VACUUM (ANALYZE) products;
VACUUM (ANALYZE) order_items;
ANALYZE categories;
ALTER TABLE orders RESET (autovacuum_enabled);
ALTER TABLE products RESET (autovacuum_enabled);
ALTER TABLE order_items RESET (autovacuum_enabled);
