-- TechShop 3.3: check for data anomalies.
-- Explore first:  python grade.py lab up  &&  python grade.py lab psql
--
-- Write one query under each name line (keep the name lines as they are):
--   nonpositive_totals      id, customer_id, total_amount, order_date of orders with a total <= 0
--   products_null_critical  id, name, sku, price, stock_quantity of products missing any of them
--   orders_in_future        id, customer_id, order_date of orders dated after now
--   orders_before_customer  order_id, order_date, customer_id, customer_created_at of orders
--                           placed before their customer's account was created
--
-- Grade yourself:  python grade.py -e techshop-3-3-anomalies

-- name: nonpositive_totals


-- name: products_null_critical


-- name: orders_in_future


-- name: orders_before_customer

