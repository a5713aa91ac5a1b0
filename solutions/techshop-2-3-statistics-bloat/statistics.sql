-- Reference solution for techshop-2-3-statistics-bloat.

-- NULL = not since the counters started. The reloptions say why nothing has run since.
-- name: maintenance_history
SELECT s.relname AS table_name,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
       coalesce((SELECT o.option_value::boolean
                 FROM pg_options_to_table(c.reloptions) AS o
                 WHERE o.option_name = 'autovacuum_enabled'), true) AS autovacuum_enabled,
       (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS counters_reset
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
WHERE s.schemaname = 'public'
ORDER BY s.relname;

-- Autovacuum's own rule: the table's own settings (storage parameters) where it has them,
-- the server's otherwise.
-- name: stale_statistics
SELECT s.relname AS table_name,
       s.n_mod_since_analyze,
       c.reltuples::bigint AS rows_at_last_analyze,
       t.threshold + t.scale_factor * greatest(c.reltuples, 0) AS analyze_threshold,
       s.n_mod_since_analyze > t.threshold + t.scale_factor * greatest(c.reltuples, 0) AS needs_analyze
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
CROSS JOIN LATERAL (
    SELECT coalesce(max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_analyze_threshold'),
                    current_setting('autovacuum_analyze_threshold'))::float8 AS threshold,
           coalesce(max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_analyze_scale_factor'),
                    current_setting('autovacuum_analyze_scale_factor'))::float8 AS scale_factor
    FROM pg_options_to_table(coalesce(c.reloptions, '{}')) AS o
) AS t
WHERE s.schemaname = 'public'
ORDER BY s.n_mod_since_analyze DESC;

-- What the planner believes about orders.status, next to the data.
-- name: status_statistics
WITH planner AS (
    SELECT v.status, v.frequency
    FROM pg_stats AS st
    CROSS JOIN LATERAL unnest(st.most_common_vals::text::text[], st.most_common_freqs) AS v(status, frequency)
    WHERE st.schemaname = 'public' AND st.tablename = 'orders' AND st.attname = 'status'
), actual AS (
    SELECT status::text AS status, count(*)::float8 / sum(count(*)) OVER () AS frequency
    FROM orders
    GROUP BY status
)
SELECT coalesce(p.status, a.status) AS status,
       round(p.frequency::numeric, 4) AS planner_frequency,
       round(a.frequency::numeric, 4) AS actual_frequency
FROM planner AS p
FULL JOIN actual AS a ON a.status = p.status
ORDER BY coalesce(a.frequency, 0) + coalesce(p.frequency, 0) DESC;

-- The scenario's query, with a live-row figure that exists: reltuples (n_live_tup is 0 here).
-- name: dead_tuples
SELECT s.relname AS table_name,
       s.n_dead_tup,
       c.reltuples::bigint AS estimated_live_rows,
       round((100.0 * s.n_dead_tup / NULLIF(greatest(c.reltuples, 0) + s.n_dead_tup, 0))::numeric, 2) AS dead_pct,
       s.n_live_tup AS n_live_tup_unreliable
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
WHERE s.schemaname = 'public'
ORDER BY s.n_dead_tup DESC;

-- Measured, not counted: pgstattuple reads every page.
-- name: table_bloat
SELECT s.relname AS table_name,
       pg_size_pretty(t.table_len) AS table_size,
       t.tuple_percent AS live_pct,
       t.dead_tuple_count,
       t.dead_tuple_percent + t.free_percent AS wasted_pct,
       pg_size_pretty(t.dead_tuple_len + t.free_space) AS wasted
FROM pg_stat_user_tables AS s
CROSS JOIN LATERAL pgstattuple(s.relid) AS t
WHERE s.schemaname = 'public'
ORDER BY wasted_pct DESC;
