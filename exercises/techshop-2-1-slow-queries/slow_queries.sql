-- 2.1 Identify slow queries. Explore first:  python grade.py lab up  &&  python grade.py lab psql
-- Write each query right under its -- name: line.
-- Grade yourself:  python grade.py -e techshop-2-1-slow-queries

-- The five statements with the highest mean time in this database, not yours, slowest first:
-- queryid, calls, …
-- name: slowest_queries


-- The product search's scan of products, one row: rows_returned, rows_removed.
-- name: search_plan


-- The delivered-orders scan of orders, one row: planner_rows (estimate), actual_rows.
-- name: status_plan

