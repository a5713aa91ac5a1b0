-- 2.3 Check table statistics and bloat. Explore first:  python grade.py lab up  &&  python grade.py lab psql
-- Write each query right under its -- name: line. Diagnose only: no VACUUM, no ANALYZE.
-- Grade yourself:  python grade.py -e techshop-2-3-statistics-bloat

-- table_name, last_vacuum, last_autovacuum, last_analyze, last_autoanalyze, autovacuum_enabled
-- name: maintenance_history


-- table_name, n_mod_since_analyze, needs_analyze
-- name: stale_statistics


-- orders.status: status, planner_frequency (pg_stats), actual_frequency (the data)
-- name: status_statistics


-- table_name, n_dead_tup, dead_pct
-- name: dead_tuples


-- table_name, wasted_pct (pgstattuple)
-- name: table_bloat

