-- A trigram index with the right table, column, method and operator class, left INVALID:
-- two very long names make the concurrent build slow, and a short timeout cancels it after
-- its catalog entry was committed (exactly what a failed build in production leaves).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
DROP INDEX products_name_lower_uniq;
ALTER TABLE products ALTER COLUMN name TYPE text;
UPDATE products SET name = name || repeat(md5(id::text), 300000)
WHERE id IN (SELECT id FROM products ORDER BY id LIMIT 2);
SET statement_timeout = '300ms';
CREATE INDEX CONCURRENTLY idx_products_name_trgm ON products USING gin (name gin_trgm_ops);
