-- Half done: the stale statistics are right; dead_tuples is the scenario's query, whose
-- dead_pct divides by n_live_tup; the rest is not done yet.

-- name: stale_statistics
SELECT s.relname AS table_name, s.n_mod_since_analyze,
       s.n_mod_since_analyze > coalesce(substring(array_to_string(c.reloptions, ',')
                                                  FROM 'autovacuum_analyze_threshold=([0-9.e+]+)')::float8,
                                        current_setting('autovacuum_analyze_threshold')::float8)
         + coalesce(substring(array_to_string(c.reloptions, ',')
                              FROM 'autovacuum_analyze_scale_factor=([0-9.e+]+)')::float8,
                    current_setting('autovacuum_analyze_scale_factor')::float8) * c.reltuples AS needs_analyze
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid;

-- name: dead_tuples
SELECT
    schemaname,
    relname AS table_name,
    n_dead_tup,
    n_live_tup,
    ROUND(n_dead_tup * 100.0 / NULLIF(n_live_tup + n_dead_tup, 0), 2) AS dead_pct,
    last_vacuum,
    last_autovacuum,
    last_analyze,
    last_autoanalyze
FROM pg_stat_user_tables
WHERE schemaname = 'public'
ORDER BY n_dead_tup DESC;
