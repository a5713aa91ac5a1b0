-- Functions and operators a learner put in schema public under the name of a built-in.
-- Grader queries that must resolve the scenario's unqualified table names run with
-- search_path = pg_catalog, public, pg_temp; pg_catalog first wins only for identical
-- argument types, so an overload for a more specific type (lower(varchar),
-- =(varchar, varchar)) would still be picked over the built-in. Extension members are
-- left out (pg_trgm's % operator is not the learner's). Returns kind, signature.
SELECT 'function'::pg_catalog.text AS kind, p.oid::pg_catalog.regprocedure::pg_catalog.text AS signature
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = 'public'
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_proc AS b
              WHERE b.pronamespace = 'pg_catalog'::pg_catalog.regnamespace AND b.proname = p.proname)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                  WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                    AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'operator', o.oid::pg_catalog.regoperator::pg_catalog.text
FROM pg_catalog.pg_operator AS o
JOIN pg_catalog.pg_namespace AS n ON n.oid = o.oprnamespace
WHERE n.nspname = 'public'
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_operator AS b
              WHERE b.oprnamespace = 'pg_catalog'::pg_catalog.regnamespace AND b.oprname = o.oprname)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                  WHERE d.classid = 'pg_catalog.pg_operator'::pg_catalog.regclass
                    AND d.objid = o.oid AND d.deptype = 'e')
ORDER BY 1, 2
