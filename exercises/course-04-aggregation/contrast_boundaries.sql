-- Contrast "boundaries" (grader-side, never shown to learners): the same Northwind with
-- rows placed where a query that is right only by accident breaks.
--
-- * Boundary Traders places exactly 20 orders (at the HAVING count(*) >= 20 boundary) and
--   Nearly Loyal exactly 19: a LIMIT n where a HAVING belongs, or a > where >= belongs, now
--   returns the wrong customers.
-- * Orders on 1996-12-31, 1997-01-01, 1997-12-31 and 1998-01-01: the edges of 1997.
-- * Every new order has one line, so the sums and the average order value move as well:
--   numbers typed in from the graded database no longer match.
-- The new orders go to employees 5 and 2, whose totals stay apart from everyone else's
-- (no ties in the orderings the exercise asks for).

INSERT INTO customers (customer_id, company_name, contact_name, country)
VALUES ('BNDRY', 'Boundary Traders', 'Ada Edge', 'Norway'),
       ('NEARL', 'Nearly Loyal Ltd', 'Ben Close', 'Ireland');

-- Boundary Traders: 20 orders in 1997, two of them on its first and last day. Nearly Loyal:
-- 19 orders, on 1996-12-31, 1998-01-01 and in early 1998.
INSERT INTO orders (order_id, customer_id, employee_id, order_date, ship_via, freight)
SELECT c.first_id + n, c.customer_id, c.employee_id,
       CASE n WHEN 1 THEN c.before WHEN 2 THEN c.after ELSE c.rest_from + n * c.step END,
       c.ship_via, c.freight
FROM (VALUES ('BNDRY', 5, 20000, 20, DATE '1997-01-01', DATE '1997-12-31', DATE '1997-01-20', 17, 1, 10),
             ('NEARL', 2, 20100, 19, DATE '1996-12-31', DATE '1998-01-01', DATE '1998-01-05', 5, 2, 5))
     AS c(customer_id, employee_id, first_id, orders, before, after, rest_from, step, ship_via, freight)
CROSS JOIN LATERAL generate_series(1, c.orders) AS n;

INSERT INTO order_details (order_id, product_id, unit_price, quantity, discount)
SELECT o.order_id, CASE WHEN o.customer_id = 'BNDRY' THEN 1 ELSE 2 END,
       CASE WHEN o.customer_id = 'BNDRY' THEN 18 ELSE 19 END, 2,
       CASE WHEN o.customer_id = 'BNDRY' THEN 0.05 ELSE 0 END
FROM orders AS o
WHERE o.customer_id IN ('BNDRY', 'NEARL');
