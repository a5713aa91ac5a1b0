-- NOT NULL of given columns, PostgreSQL 15-17: a column flag (pg_attribute.attnotnull),
-- always enforced, never "not valid". Params: table_oid, columns (text[]).
-- Returns column, exists, not_null, validated, constraint name (none before 18).
SELECT c.name AS column_name,
       a.attnum IS NOT NULL AS column_exists,
       COALESCE(a.attnotnull, false) AS not_null,
       COALESCE(a.attnotnull, false) AS validated,
       NULL::pg_catalog.text AS constraint_name
FROM pg_catalog.unnest(%(columns)s::pg_catalog.text[]) WITH ORDINALITY AS c(name, ord)
LEFT JOIN pg_catalog.pg_attribute AS a
       ON a.attrelid = %(table_oid)s::pg_catalog.oid AND a.attname = c.name
      AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.ord
