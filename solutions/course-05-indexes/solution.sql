-- Reference solution for course-05-indexes.

-- Foreign keys whose columns are not the leading columns of any index of their table.
-- name: unindexed_foreign_keys
SELECT con.conrelid::regclass::text AS table_name,
       con.conname AS constraint_name
FROM pg_catalog.pg_constraint AS con
WHERE con.contype = 'f'
  AND con.connamespace = 'public'::regnamespace
  AND NOT EXISTS (
        SELECT 1
        FROM pg_catalog.pg_index AS i
        WHERE i.indrelid = con.conrelid
          AND (i.indkey::int2[])[0:cardinality(con.conkey) - 1] @> con.conkey
          AND (i.indkey::int2[])[0:cardinality(con.conkey) - 1] <@ con.conkey)
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
