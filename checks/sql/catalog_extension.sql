-- An installed extension (name, schema, version) and whether the server could install it.
-- Params: name.
SELECT e.extname::pg_catalog.text, n.nspname::pg_catalog.text, e.extversion,
       (SELECT av.default_version FROM pg_catalog.pg_available_extensions AS av WHERE av.name = %(name)s) AS available
FROM (SELECT 1) AS one
LEFT JOIN pg_catalog.pg_extension AS e ON e.extname = %(name)s
LEFT JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
