-- Orders whose stored total (plus an adjustment: none, or ± a column the fix added, such as a
-- discount) differs from the sum of their lines by more than the tolerance; an order without
-- lines sums to 0 and a NULL total counts as 0.
-- Placeholders: orders, items, order_key, item_order, total, quantity, price, adjustment
-- (a signed term over the order row o: "+ 0", or "+ COALESCE(o.discount, 0)").
-- Params: tolerance, limit.
SELECT o.{order_key} AS order_id,
       o.{total} AS stored_total,
       COALESCE(l.lines_total, 0) AS lines_total,
       COALESCE(o.{total}, 0) {adjustment} - COALESCE(l.lines_total, 0) AS difference,
       pg_catalog.count(*) OVER () AS mismatches
FROM {orders} AS o
LEFT JOIN (SELECT i.{item_order} AS order_ref, pg_catalog.sum(i.{quantity} * i.{price}) AS lines_total
           FROM {items} AS i GROUP BY i.{item_order}) AS l
       ON l.order_ref = o.{order_key}
WHERE pg_catalog.abs(COALESCE(o.{total}, 0) {adjustment} - COALESCE(l.lines_total, 0)) > %(tolerance)s
ORDER BY pg_catalog.abs(COALESCE(o.{total}, 0) {adjustment} - COALESCE(l.lines_total, 0)) DESC, 1
LIMIT %(limit)s
