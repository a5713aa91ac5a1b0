-- The learner's tables a backup must carry: ordinary and partitioned tables that no extension
-- owns, in every schema of the database — public and any other the learner's database holds
-- (a backup of the database, not of one schema) — but the system's and the grader's own
-- incident_tools. Returns schema, name.
SELECT n.nspname::pg_catalog.text AS schema, c.relname::pg_catalog.text AS name
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'incident_tools')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
