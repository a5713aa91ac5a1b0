-- Names of the objects a report may be about: tables, views, materialized views, indexes,
-- sequences and constraints outside the system schemas. Params: none.
SELECT c.relname::pg_catalog.text
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'i', 'I', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
UNION
SELECT con.conname::pg_catalog.text
FROM pg_catalog.pg_constraint AS con
JOIN pg_catalog.pg_namespace AS n ON n.oid = con.connamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
