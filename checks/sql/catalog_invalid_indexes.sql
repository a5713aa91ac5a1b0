-- Definitions are learner-controlled text: at most 64 KiB of each reaches the grader.
-- Indexes in one schema that the planner cannot use or that writes do not maintain: left
-- behind by a failed CREATE INDEX CONCURRENTLY / REINDEX CONCURRENTLY. Params: schema.
SELECT t.relname::pg_catalog.text AS table_name,
       ic.relname::pg_catalog.text AS index_name,
       i.indisvalid AS is_valid,
       i.indisready AS is_ready,
       i.indislive AS is_live,
       pg_catalog.left(pg_catalog.pg_get_indexdef(i.indexrelid), 65536) AS definition
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class AS t ON t.oid = i.indrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = ic.relnamespace
WHERE n.nspname = %(schema)s
  AND NOT (i.indisvalid AND i.indisready AND i.indislive)
ORDER BY t.relname, ic.relname
