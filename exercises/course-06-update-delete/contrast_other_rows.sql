-- Contrast "other-rows" (grader-side, never shown to learners): another Northwind, before the
-- incident. The grader runs this on the contrast's copy of Northwind, then setup.sql (the price
-- script and the load test happen to it as they happen to the graded copy), then the learner's
-- solution.sql; the end state is compared with this file's Northwind alone, untouched.
--
-- A fix that fits the graded copy's rows by accident stops fitting:
-- * other prices (a price list typed in from the graded copy restores the wrong ones) and a
--   product more, which the script raises too;
-- * a real order numbered 1001 after the last one, with its lines: the load test numbers its
--   orders from the last real order, so its junk lines move on too, and ids or a range typed
--   in from the graded copy (IN (…), > 11077, >= 12000) miss them or delete the real order.

UPDATE products
SET unit_price = round((unit_price * 1.07)::numeric, 2)::real
WHERE product_id % 4 = 1;

INSERT INTO products (product_id, product_name, supplier_id, category_id, quantity_per_unit,
                      unit_price, units_in_stock, units_on_order, reorder_level, discontinued)
SELECT max(product_id) + 1, 'Fjordblå Sild', 17, 8, '12 - 250 g jars', 23.45, 40, 0, 10, 0
FROM products;

-- An order placed after the last one of the sample, a thousand numbers further on (the order
-- system reserved a block for a marketplace): where the graded copy's first junk line is.
INSERT INTO orders (order_id, customer_id, employee_id, order_date, required_date, ship_via, freight,
                    ship_name, ship_country)
SELECT max(order_id) + 1001, 'FOLKO', 4, DATE '1998-05-07', DATE '1998-06-04', 2, 31.20,
       'Folk och fä HB', 'Sweden'
FROM orders;

INSERT INTO order_details (order_id, product_id, unit_price, quantity, discount)
SELECT o.order_id, p.product_id, p.unit_price, 6 + p.product_id % 5, 0
FROM (SELECT max(order_id) AS order_id FROM orders) AS o
CROSS JOIN (SELECT product_id, unit_price FROM products WHERE product_id IN (11, 42, 72)) AS p;
