-- Wrong on purpose: the scenario's view with only its column names fixed; it still builds
-- table names as 'public.' || tablename.
--
-- This is the health view the scenario suggests. It has bugs: find them (query it!) and fix
-- them. Keep its three columns (metric_type, item, value) and its three metrics.
CREATE OR REPLACE VIEW db_health_summary AS
SELECT
    'Table Sizes' as metric_type,
    tablename as item,
    pg_size_pretty(pg_total_relation_size('public.'||tablename)) as value
FROM pg_tables
WHERE schemaname = 'public'
UNION ALL
SELECT
    'Dead Tuples',
    relname,
    n_dead_tup::text || ' (' ||
    ROUND(n_dead_tup * 100.0 / NULLIF(n_live_tup + n_dead_tup, 0), 1) || '%)'
FROM pg_stat_user_tables
WHERE schemaname = 'public' 
UNION ALL
SELECT
    'Last Vacuum',
    relname,
    COALESCE(last_autovacuum::text, last_vacuum::text, 'Never')
FROM pg_stat_user_tables
WHERE schemaname = 'public';

-- Then: make maintenance automatic for the busy tables (autovacuum, tuned per table).
