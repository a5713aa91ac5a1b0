-- Contrast "near-future" (grader-side, never shown to learners): the same incident, plus the
-- orders of a till whose clock ran fast. The incident's own orders in the future are decades
-- ahead (the year's last two digits swapped: 2025 became 2052), so a repair that only looks far
-- ahead (order_date > '2030-01-01', extract(year FROM order_date) > 2030, order_date > now() +
-- interval '1 year') repairs them as well as the rule "no order_date after now" does. Here it
-- does not:
--
-- * three orders rung up on a till whose clock was almost three hours fast, dated 25 minutes,
--   1 h 10 min and 2 h 40 min after the contrast was set up: still in the future while the fixes
--   run and are graded, so they must be repaired (the spec's planted: names them as rows of the
--   fault future_orders, which a fix may change and must not delete);
-- * two orders from a till with a correct clock, 2 and 40 minutes before it: in the past, so a
--   fix must leave them as they are (rows_preserved compares them with the untouched copy).
--
-- pgdrill.contrast_started_at is the moment the grader first set this contrast up; the
-- untouched copy the end state is compared with gets the same timestamps.
--
-- The orders moved are ordinary ones, far from every fault of the incident: a positive total
-- that equals their lines, a customer with an address of their own, signed up long before and
-- with no order before that (so no repair of another finding touches them).

CREATE TEMPORARY TABLE near_future AS
WITH anchor AS (
    SELECT (pg_catalog.current_setting('pgdrill.contrast_started_at')::pg_catalog.timestamptz)::pg_catalog.timestamp AS t
), plain AS (
    SELECT o.id, pg_catalog.row_number() OVER (ORDER BY o.id) AS n
    FROM orders AS o
    JOIN customers AS c ON c.id = o.customer_id
    WHERE o.total_amount > 0
      AND o.order_date < TIMESTAMP '2026-11-16 00:00:00'
      AND o.order_date > c.created_at + interval '30 days'
      AND o.id % 89 = 7
      AND o.total_amount = (SELECT pg_catalog.sum(oi.quantity * oi.price) FROM order_items AS oi
                            WHERE oi.order_id = o.id)
      AND NOT EXISTS (SELECT 1 FROM orders AS earlier
                      WHERE earlier.customer_id = c.id AND earlier.order_date < c.created_at)
      AND (SELECT pg_catalog.count(*) FROM customers AS same
           WHERE pg_catalog.lower(same.email) = pg_catalog.lower(c.email)) = 1
)
SELECT p.id,
       CASE p.n WHEN 1 THEN a.t + interval '25 minutes'
                WHEN 2 THEN a.t + interval '1 hour 10 minutes'
                WHEN 3 THEN a.t + interval '2 hours 40 minutes'
                WHEN 4 THEN a.t - interval '2 minutes'
                ELSE a.t - interval '40 minutes' END AS order_date
FROM plain AS p CROSS JOIN anchor AS a
WHERE p.n <= 5;

DO $$
DECLARE
    moved integer;
BEGIN
    UPDATE orders AS o SET order_date = n.order_date FROM near_future AS n WHERE n.id = o.id;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved <> 5 THEN
        RAISE EXCEPTION 'contrast near-future: expected to move 5 ordinary orders, moved %', moved;
    END IF;
END $$;
