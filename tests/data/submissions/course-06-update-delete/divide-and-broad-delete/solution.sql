-- Wrong on purpose: "undo" the price rise by dividing, and delete the junk lines with a
-- range of order ids that also catches real orders.
UPDATE products SET unit_price = unit_price / 1.15;
DELETE FROM order_details WHERE order_id > 11070;
