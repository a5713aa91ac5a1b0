-- Maintenance counters of one table from the cumulative statistics (empty in a fresh clone
-- until something happens there: they are kept per database OID), with the planner's row
-- estimate from pg_class and whether the analyze is later than a given moment.
-- Params: oid, since (timestamptz or NULL).
SELECT GREATEST(s.last_analyze, s.last_autoanalyze) AS analyzed_at,
       GREATEST(s.last_vacuum, s.last_autovacuum) AS vacuumed_at,
       COALESCE(GREATEST(s.last_analyze, s.last_autoanalyze) >= %(since)s::pg_catalog.timestamptz,
                false) AS analyzed_since,
       COALESCE(GREATEST(s.last_vacuum, s.last_autovacuum) >= %(since)s::pg_catalog.timestamptz,
                false) AS vacuumed_since,
       COALESCE(s.n_mod_since_analyze, 0) AS n_mod_since_analyze,
       COALESCE(s.n_live_tup, 0) AS n_live_tup,
       COALESCE(s.n_dead_tup, 0) AS n_dead_tup,
       c.reltuples::pg_catalog.float8 AS reltuples,
       c.relpages::pg_catalog.int8 AS relpages,
       COALESCE(s.n_tup_ins + s.n_tup_upd + s.n_tup_del + s.vacuum_count + s.autovacuum_count
                + s.analyze_count + s.autoanalyze_count, 0) AS activity
FROM pg_catalog.pg_class AS c
LEFT JOIN pg_catalog.pg_stat_all_tables AS s ON s.relid = c.oid
WHERE c.oid = %(oid)s::pg_catalog.oid
