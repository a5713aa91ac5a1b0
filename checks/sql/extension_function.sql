-- The schema an extension's function is installed in (checks call it schema-qualified), and
-- whether this role may execute it. Parameters: extname, proname, nargs.
SELECT n.nspname::pg_catalog.text,
       pg_catalog.has_function_privilege(p.oid, 'EXECUTE')
FROM pg_catalog.pg_extension AS e
JOIN pg_catalog.pg_depend AS d
  ON d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = e.oid
 AND d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.deptype = 'e'
JOIN pg_catalog.pg_proc AS p ON p.oid = d.objid
JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE e.extname = %(extname)s AND p.proname = %(proname)s AND p.pronargs = %(nargs)s
ORDER BY n.nspname
LIMIT 1
