-- Reference solution for techshop-2-1-slow-queries.

-- This database only, not my own statements; slowest per call first.
-- name: slowest_queries
SELECT s.queryid,
       s.calls,
       round(s.mean_exec_time::numeric, 2)  AS mean_ms,
       round(s.total_exec_time::numeric, 1) AS total_ms,
       s.rows / greatest(s.calls, 1)        AS rows_per_call,
       pg_get_userbyid(s.userid)            AS run_by,
       left(regexp_replace(s.query, '\s+', ' ', 'g'), 70) AS query
FROM pg_stat_statements AS s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.userid <> current_user::text::regrole
ORDER BY s.mean_exec_time DESC
LIMIT 5;

-- The search's Seq Scan reads every product: it returns the names containing the lowercase
-- word and removes all the others. (ILIKE shows how many laptops the search misses.)
-- name: search_plan
SELECT count(*) FILTER (WHERE name LIKE '%laptop%')      AS rows_returned,
       count(*) FILTER (WHERE NOT name LIKE '%laptop%')  AS rows_removed,
       count(*) FILTER (WHERE name ILIKE '%laptop%')     AS laptops_in_catalogue
FROM products;

-- The planner's estimate, asked from the planner itself, next to the real count.
CREATE FUNCTION pg_temp.estimated_rows(query text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$;

SET max_parallel_workers_per_gather = 0;

-- name: status_plan
SELECT pg_temp.estimated_rows($q$SELECT id FROM orders WHERE status = 'delivered'$q$) AS planner_rows,
       (SELECT count(*) FROM orders WHERE status = 'delivered')                     AS actual_rows;

RESET max_parallel_workers_per_gather;
