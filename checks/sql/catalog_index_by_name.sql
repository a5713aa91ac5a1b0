-- Definitions are learner-controlled text: at most 64 KiB of each reaches the grader.
-- An index by schema and name, with its table, access method and validity.
-- Params: schema, name.
SELECT ic.oid::pg_catalog.int8, t.relname::pg_catalog.text AS table_name,
       am.amname::pg_catalog.text AS method,
       i.indisvalid AND i.indisready AND i.indislive AS usable,
       pg_catalog.left(pg_catalog.pg_get_indexdef(i.indexrelid), 65536) AS definition
FROM pg_catalog.pg_class AS ic
JOIN pg_catalog.pg_namespace AS n ON n.oid = ic.relnamespace
JOIN pg_catalog.pg_index AS i ON i.indexrelid = ic.oid
JOIN pg_catalog.pg_class AS t ON t.oid = i.indrelid
JOIN pg_catalog.pg_am AS am ON am.oid = ic.relam
WHERE n.nspname = %(schema)s AND ic.relname = %(name)s
