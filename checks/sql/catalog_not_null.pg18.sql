-- NOT NULL of given columns, PostgreSQL 18+: NOT NULL is a constraint in pg_constraint
-- (contype 'n') and may be added NOT VALID, in which case it is not yet known to hold for
-- existing rows. Params: table_oid, columns (text[]).
-- Returns column, exists, not_null, validated, constraint name.
SELECT c.name AS column_name,
       a.attnum IS NOT NULL AS column_exists,
       COALESCE(a.attnotnull, false) OR nn.conname IS NOT NULL AS not_null,
       COALESCE(nn.convalidated, COALESCE(a.attnotnull, false)) AS validated,
       nn.conname::pg_catalog.text AS constraint_name
FROM pg_catalog.unnest(%(columns)s::pg_catalog.text[]) WITH ORDINALITY AS c(name, ord)
LEFT JOIN pg_catalog.pg_attribute AS a
       ON a.attrelid = %(table_oid)s::pg_catalog.oid AND a.attname = c.name
      AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN LATERAL (
    SELECT con.conname, con.convalidated
    FROM pg_catalog.pg_constraint AS con
    WHERE con.conrelid = %(table_oid)s::pg_catalog.oid AND con.contype = 'n'
      AND con.conkey[1] = a.attnum
    ORDER BY con.convalidated DESC
    LIMIT 1
) AS nn ON true
ORDER BY c.ord
