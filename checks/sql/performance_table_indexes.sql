-- Definitions are learner-controlled text: at most 64 KiB of each reaches the grader.
-- The indexes of one table, for feedback when a plan does not use one.
-- Params: schema, name. Returns index name, access method, valid?, definition.
SELECT ic.relname::pg_catalog.text AS index_name,
       am.amname::pg_catalog.text AS method,
       i.indisvalid AS valid,
       pg_catalog.left(pg_catalog.pg_get_indexdef(i.indexrelid), 65536) AS definition
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class AS tc ON tc.oid = i.indrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = tc.relnamespace
JOIN pg_catalog.pg_am AS am ON am.oid = ic.relam
WHERE n.nspname = %(schema)s AND tc.relname = %(name)s
ORDER BY ic.relname
