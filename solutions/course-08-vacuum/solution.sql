-- Reference solution for course-08-vacuum.

-- What the migration left: dead row versions, stale statistics, autovacuum off.
-- name: table_health_before
SELECT s.relname, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze, c.reloptions
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
WHERE s.relname IN ('rental', 'inventory')
ORDER BY s.relname;

-- Reclaim the dead rows and refresh the statistics in one pass per table. Plain VACUUM
-- works alongside reads and writes; VACUUM FULL would lock both tables for its whole run.
VACUUM (ANALYZE, VERBOSE) rental;
VACUUM (ANALYZE, VERBOSE) inventory;

-- Hand the tables back to autovacuum (RESET restores the server-wide default, on).
ALTER TABLE rental RESET (autovacuum_enabled);
ALTER TABLE inventory RESET (autovacuum_enabled);
