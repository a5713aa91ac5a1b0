-- The data file of one table: pg_relation_filenode changes when VACUUM FULL, CLUSTER,
-- TRUNCATE or a rewriting ALTER TABLE writes the table anew. Params: schema, name.
SELECT pg_catalog.pg_relation_filenode(c.oid) AS filenode
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(name)s
