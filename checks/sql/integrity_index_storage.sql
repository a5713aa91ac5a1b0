-- Definitions are learner-controlled text: at most 64 KiB of each reaches the grader.
-- One index by schema and name with the file its data lives in: REINDEX (and a DROP and
-- CREATE) gives an index new storage, so comparing the filenode with the untouched
-- incident's tells whether it was rebuilt. Params: schema, name.
SELECT ic.oid::pg_catalog.int8,
       pg_catalog.pg_relation_filenode(ic.oid)::pg_catalog.int8 AS filenode,
       i.indisvalid AND i.indisready AND i.indislive AS usable,
       pg_catalog.left(pg_catalog.pg_get_indexdef(i.indexrelid), 65536) AS definition
FROM pg_catalog.pg_class AS ic
JOIN pg_catalog.pg_namespace AS n ON n.oid = ic.relnamespace
JOIN pg_catalog.pg_index AS i ON i.indexrelid = ic.oid
WHERE n.nspname = %(schema)s AND ic.relname = %(name)s
