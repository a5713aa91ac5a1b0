-- Whether a table has planner statistics: reltuples is -1 until the first VACUUM or
-- ANALYZE, the last (auto)analyze time in this database's counters (empty in a fresh clone
-- of a template, whose statistics were gathered before it was copied), and whether
-- pg_stats holds column statistics for it. Params: schema, name.
SELECT c.reltuples::pg_catalog.float8 AS reltuples,
       GREATEST(st.last_analyze, st.last_autoanalyze) AS last_analyzed,
       EXISTS (SELECT 1 FROM pg_catalog.pg_stats AS s
               WHERE s.schemaname = n.nspname AND s.tablename = c.relname) AS has_column_stats
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_stat_all_tables AS st ON st.relid = c.oid
WHERE n.nspname = %(schema)s AND c.relname = %(name)s
