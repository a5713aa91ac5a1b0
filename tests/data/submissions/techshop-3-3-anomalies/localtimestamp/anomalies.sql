-- Reference solution for techshop-3-3-anomalies.

-- name: nonpositive_totals
SELECT id, customer_id, total_amount, order_date
FROM orders
WHERE total_amount <= 0
ORDER BY total_amount, id;

-- IS NULL, never = NULL: a comparison with NULL is unknown, and WHERE keeps only true rows.
-- name: products_null_critical
SELECT id, name, sku, price, stock_quantity
FROM products
WHERE name IS NULL OR sku IS NULL OR price IS NULL OR stock_quantity IS NULL
ORDER BY id;

-- name: orders_in_future
SELECT id, customer_id, order_date
FROM orders
WHERE localtimestamp < order_date
ORDER BY order_date;

-- name: orders_before_customer
SELECT o.id AS order_id, o.order_date, c.id AS customer_id, c.created_at AS customer_created_at
FROM orders o
JOIN customers c ON c.id = o.customer_id
WHERE o.order_date < c.created_at
ORDER BY c.id, o.order_date;
