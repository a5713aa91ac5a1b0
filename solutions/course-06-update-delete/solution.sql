-- Reference solution for course-06-update-delete.

-- 1. Restore the prices from the script's own log, in one transaction, touching only the
--    rows the script changed (and still hold the price it set).
BEGIN;
UPDATE products AS p
SET unit_price = l.old_price
FROM price_change_log AS l
WHERE l.product_id = p.product_id
  AND p.unit_price = l.new_price;
COMMIT;

-- 2. The lines without an order: look at them, then delete exactly those.
-- name: orphan_lines
SELECT d.*
FROM order_details AS d
WHERE NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.order_id = d.order_id)
ORDER BY d.order_id, d.product_id;

BEGIN;
DELETE FROM order_details AS d
WHERE NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.order_id = d.order_id);
COMMIT;
