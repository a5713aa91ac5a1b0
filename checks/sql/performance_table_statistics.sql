-- Whether a table has planner statistics: reltuples is -1 until the first VACUUM or
-- ANALYZE, and the last (auto)analyze times. Params: schema, name.
SELECT c.reltuples::pg_catalog.float8 AS reltuples,
       GREATEST(st.last_analyze, st.last_autoanalyze) AS last_analyzed
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_stat_all_tables AS st ON st.relid = c.oid
WHERE n.nspname = %(schema)s AND c.relname = %(name)s
