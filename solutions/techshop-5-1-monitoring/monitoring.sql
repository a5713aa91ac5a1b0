-- Reference solution for techshop-5-1-monitoring. Why it is written this way: NOTES.md.

-- 1. The health view, fixed: tables by oid (any name works), every table in every metric,
-- the latest vacuum of either kind.
CREATE OR REPLACE VIEW db_health_summary AS
SELECT 'Table Sizes'::text AS metric_type,
       s.relname::text AS item,
       pg_size_pretty(pg_total_relation_size(s.relid)) AS value
FROM pg_stat_user_tables AS s
WHERE s.schemaname = 'public'
UNION ALL
SELECT 'Dead Tuples',
       s.relname::text,
       s.n_dead_tup || ' ('
         || COALESCE(round(s.n_dead_tup * 100.0 / NULLIF(s.n_live_tup + s.n_dead_tup, 0), 1), 0.0)
         || '%)'
FROM pg_stat_user_tables AS s
WHERE s.schemaname = 'public'
UNION ALL
SELECT 'Last Vacuum',
       s.relname::text,
       COALESCE(GREATEST(s.last_vacuum, s.last_autovacuum)::text, 'Never')
FROM pg_stat_user_tables AS s
WHERE s.schemaname = 'public';

COMMENT ON VIEW db_health_summary IS
  'TechShop health: size, dead tuples and last vacuum of every table in schema public';

-- The key monitoring queries, kept with the view (their results appear in the grading output).
-- name: health
SELECT * FROM db_health_summary ORDER BY metric_type, item;

-- Tables whose dead tuples are past the point where autovacuum should have run.
-- name: vacuum_overdue
SELECT s.relname AS table_name, s.n_dead_tup, s.n_live_tup,
       COALESCE((SELECT option_value::float8 FROM pg_options_to_table(c.reloptions)
                 WHERE option_name = 'autovacuum_vacuum_scale_factor'),
                current_setting('autovacuum_vacuum_scale_factor')::float8) AS scale_factor
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
WHERE s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::int
        + COALESCE((SELECT option_value::float8 FROM pg_options_to_table(c.reloptions)
                    WHERE option_name = 'autovacuum_vacuum_scale_factor'),
                   current_setting('autovacuum_vacuum_scale_factor')::float8) * GREATEST(s.n_live_tup, c.reltuples)
ORDER BY s.n_dead_tup DESC;

-- 2. Maintenance is automatic again: autovacuum on, and tuned for the tables that change most.
-- Defaults: vacuum after 20 % of the rows are dead, analyze after 10 % changed. For
-- order_items (six million rows at full size) that is over a million dead rows per run.
ALTER TABLE orders RESET (autovacuum_enabled);
ALTER TABLE order_items RESET (autovacuum_enabled);
ALTER TABLE products RESET (autovacuum_enabled);
ALTER TABLE orders SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE order_items SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
-- products is rewritten in bulk (repricing): analyze it soon after, vacuum at the default.
ALTER TABLE products SET (autovacuum_analyze_scale_factor = 0.05);
