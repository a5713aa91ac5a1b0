-- Wrong on purpose: an index on every foreign-key column, without looking at what exists —
-- duplicates of Pagila's own indexes, the payment partitions indexed one by one instead of
-- the partitioned table, inventory's film_id only as the second column of a new index, and
-- Pagila's own duplicate indexes left in place.

-- name: unindexed_foreign_keys
SELECT con.conrelid::regclass::text AS table_name, con.conname AS constraint_name
FROM pg_catalog.pg_constraint AS con
WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index AS i
                  WHERE i.indrelid = con.conrelid
                    AND (i.indkey::int2[])[0:cardinality(con.conkey) - 1] @> con.conkey
                    AND (i.indkey::int2[])[0:cardinality(con.conkey) - 1] <@ con.conkey);

CREATE INDEX ON rental (customer_id);
CREATE INDEX ON rental (staff_id);
CREATE INDEX ON rental (inventory_id);          -- idx_fk_inventory_id exists already
CREATE INDEX ON film_actor (film_id);           -- idx_fk_film_id exists already
CREATE INDEX ON film_category (category_id);
CREATE INDEX ON inventory (store_id, film_id);  -- film_id second: no help for film lookups
CREATE INDEX ON staff (store_id);
CREATE INDEX ON staff (address_id);
CREATE INDEX ON store (address_id);
CREATE INDEX ON payment_p2022_01 (rental_id);
CREATE INDEX ON payment_p2022_02 (rental_id);
CREATE INDEX ON payment_p2022_03 (rental_id);
CREATE INDEX ON payment_p2022_04 (rental_id);
CREATE INDEX ON payment_p2022_05 (rental_id);
CREATE INDEX ON payment_p2022_06 (rental_id);
