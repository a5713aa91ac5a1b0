-- Contrast "near-now" (grader-side, never shown to learners): the same incident with orders
-- placed just on each side of the boundaries the task names. The incident's own anomalies are
-- far from them (orders decades ahead, orders months before the account), so a cutoff typed in
-- ('2030-01-01'), a margin (now() + interval '1 day') or a comparison of dates instead of
-- timestamps finds them as well as the rule does. Here it does not:
--
-- * one order 20 minutes after the contrast was set up (in the future while it is graded) and
--   one 20 minutes before (in the past): only order_date > now() tells them apart;
-- * one order a minute before its customer's account was created, on the same day, and one at
--   the very same instant: only order_date < created_at tells them apart.
--
-- pgdrill.contrast_started_at is the moment the grader first set this contrast up; the
-- untouched copy the reference reads gets the same timestamps.
--
-- The clock. order_date is a timestamp without time zone: "20 minutes from now" is written, and
-- now(), current_date and ::date are read, in the session's TimeZone. In the server's own zone
-- a comparison of days would pass whenever the contrast is set up close to midnight there:
-- order_date::date > current_date from 23:40 to midnight (the order 20 minutes ahead is
-- tomorrow, as the future's are), order_date > current_date from midnight to 00:20 (the order
-- 20 minutes ago is yesterday). So both clones of this contrast, and every session opened on
-- them afterwards (the learner's, the grader's), run in the zone a whole number of hours from
-- UTC where it is between 12:00 and 13:00 when the contrast is set up: both orders fall on
-- today, hours from either midnight, whatever the hour of grading and the server's zone.

DO $$
DECLARE
    -- hours east of UTC where it is now 12:xx: from -11 to +12
    east integer := 12 - pg_catalog.date_part('hour',
        pg_catalog.current_setting('pgdrill.contrast_started_at')::pg_catalog.timestamptz AT TIME ZONE 'UTC')::integer;
    -- POSIX signs: Etc/GMT-5 is five hours east of Greenwich
    zone text := CASE WHEN east > 0 THEN 'Etc/GMT-' || east
                      WHEN east < 0 THEN 'Etc/GMT+' || -east
                      ELSE 'Etc/GMT' END;
BEGIN
    EXECUTE pg_catalog.format('ALTER DATABASE %I SET "TimeZone" TO %L', pg_catalog.current_database(), zone);
    PERFORM pg_catalog.set_config('TimeZone', zone, false);
END $$;

CREATE TEMPORARY TABLE near_now AS
WITH anchor AS (
    SELECT (pg_catalog.current_setting('pgdrill.contrast_started_at')::pg_catalog.timestamptz)::pg_catalog.timestamp AS t
), plain AS (
    -- ordinary orders: a positive total, placed well after their customer signed up, dated
    -- before the incident's Monday (the fault rows stay as they are)
    SELECT o.id, c.created_at, pg_catalog.row_number() OVER (ORDER BY o.id) AS n
    FROM orders AS o
    JOIN customers AS c ON c.id = o.customer_id
    WHERE o.total_amount > 0
      AND o.order_date < TIMESTAMP '2026-11-23 09:00:00'
      AND o.order_date > c.created_at + interval '1 day'
      AND c.created_at::pg_catalog.time BETWEEN TIME '01:00' AND TIME '23:00'
      AND o.id % 97 = 13
)
SELECT p.id,
       CASE p.n WHEN 1 THEN a.t + interval '20 minutes'
                WHEN 2 THEN a.t - interval '20 minutes'
                WHEN 3 THEN p.created_at - interval '1 minute'
                ELSE p.created_at END AS order_date
FROM plain AS p CROSS JOIN anchor AS a
WHERE p.n <= 4;

UPDATE orders AS o
SET order_date = n.order_date
FROM near_now AS n
WHERE n.id = o.id;

DO $$
BEGIN
    IF (SELECT pg_catalog.count(*) FROM near_now) <> 4 THEN
        RAISE EXCEPTION 'contrast near-now: expected 4 ordinary orders to move, found %',
            (SELECT pg_catalog.count(*) FROM near_now);
    END IF;
END $$;
