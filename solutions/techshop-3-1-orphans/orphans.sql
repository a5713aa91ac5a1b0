-- Reference solution for techshop-3-1-orphans.
-- NOT EXISTS, not NOT IN: it means "no matching row" whatever NULLs the other side holds,
-- and the planner runs it as an anti-join (see NOTES.md).

-- name: orphan_order_items
SELECT oi.*
FROM order_items oi
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id)
ORDER BY oi.id;

-- The foreign key was dropped, so nothing in the schema says these are wrong any more.
-- A NULL customer_id (a guest checkout) is no orphan, but NOT EXISTS alone would list it:
-- NULL = c.id is never true, so the subquery finds no row. Hence the explicit IS NOT NULL.
-- name: orders_without_customers
SELECT o.*
FROM orders o
WHERE o.customer_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id)
ORDER BY o.id;

-- name: products_without_categories
SELECT p.*
FROM products p
WHERE p.category_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM categories c WHERE c.id = p.category_id)
ORDER BY p.id;
