-- Tables (other than the one rows were removed from) that have every one of its original
-- columns, by name: where a learner may have kept the removed rows. System schemas are
-- left out. Params: table_oid, columns (text[]).
SELECT n.nspname::pg_catalog.text, c.relname::pg_catalog.text
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND c.oid <> %(table_oid)s::pg_catalog.oid
  AND n.nspname <> 'information_schema' AND pg_catalog.left(n.nspname, 3) <> 'pg_'
  AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute AS a
       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         AND a.attname = ANY(%(columns)s::pg_catalog.text[]))
      = pg_catalog.cardinality(%(columns)s::pg_catalog.text[])
ORDER BY 1, 2
LIMIT 50
