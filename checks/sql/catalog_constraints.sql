-- Definitions are learner-controlled text: at most 64 KiB of each reaches the grader.
-- The constraints of one table (NOT NULL ones excluded; see catalog_not_null) with their
-- columns in key order, the referenced table and columns of a foreign key, and whether
-- the constraint has been validated. Params: table_oid.
-- catalog_constraints.pg18.sql is this query with con.conenforced added (a column PostgreSQL 18
-- brought; older servers have none, so it cannot be one file): change the two together.
SELECT con.conname::pg_catalog.text AS name,
       con.contype::pg_catalog.text AS kind,
       con.convalidated AS validated,
       ARRAY(SELECT a.attname::pg_catalog.text
             FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       rn.nspname::pg_catalog.text AS ref_schema,
       rc.relname::pg_catalog.text AS ref_table,
       ARRAY(SELECT a.attname::pg_catalog.text
             FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute AS a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS ref_columns,
       pg_catalog.left(pg_catalog.pg_get_constraintdef(con.oid, true), 65536) AS definition
FROM pg_catalog.pg_constraint AS con
LEFT JOIN pg_catalog.pg_class AS rc ON rc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rc.relnamespace
WHERE con.conrelid = %(table_oid)s::pg_catalog.oid
  AND con.contype IN ('p', 'f', 'u', 'c', 'x')
ORDER BY con.conname
