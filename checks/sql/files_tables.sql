-- The learner's tables a backup must carry: ordinary and partitioned tables in schema
-- public that no extension owns. Returns schema, name.
SELECT n.nspname::pg_catalog.text AS schema, c.relname::pg_catalog.text AS name
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY c.relname
