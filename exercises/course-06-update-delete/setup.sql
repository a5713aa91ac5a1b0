-- What happened to Northwind before you arrived. The grader runs this file as superuser on
-- your copy of the database before your solution.sql; reading it is allowed (a real
-- incident rarely comes with one).

-- 1. Friday 17:55: the price script meant for the staging server ran against production.
--    It logged every product's old and new price, then raised all prices by 15 %,
--    rounded to cents.
CREATE TABLE price_change_log (
    product_id smallint PRIMARY KEY,
    old_price  real NOT NULL,
    new_price  real NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO price_change_log (product_id, old_price, new_price)
SELECT product_id, unit_price, round((unit_price * 1.15)::numeric, 2)::real
FROM products
WHERE unit_price IS NOT NULL;
UPDATE products AS p
SET unit_price = l.new_price
FROM price_change_log AS l
WHERE l.product_id = p.product_id;
ALTER TABLE price_change_log OWNER TO learner;

-- 2. Saturday: a load test replayed order lines into production with foreign-key triggers
--    switched off "to go faster" (session_replication_role = replica skips them). The
--    orders those lines belong to were never created.
SET session_replication_role = replica;
INSERT INTO order_details (order_id, product_id, unit_price, quantity, discount)
SELECT o.order_id, p.product_id, p.unit_price, 1 + (o.order_id + p.product_id) % 7, 0
FROM (SELECT max(order_id) + 1000 + g AS order_id
      FROM orders, generate_series(1, 4) AS g GROUP BY g) AS o
CROSS JOIN LATERAL (SELECT product_id, unit_price FROM products
                    ORDER BY (product_id * 7 + o.order_id) % 77 LIMIT 3) AS p;
RESET session_replication_role;
