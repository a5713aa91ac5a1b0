-- Right on the real Pagila only by accident: the list typed in from the lab. The test puts it in
-- place of the reference solution's own unindexed_foreign_keys (the fixes stay the reference's).

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
