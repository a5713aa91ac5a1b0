-- Saved by an editor in Latin-1: the named query has bytes that are not UTF-8.
-- name: orphan_items
SELECT oi.id, oi.order_id, oi.product_id, oi.quantity, oi.price  -- éléments orphelins
FROM order_items oi
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id)
ORDER BY oi.id;
