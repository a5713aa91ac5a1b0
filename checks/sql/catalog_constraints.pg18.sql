-- Definitions are learner-controlled text: at most 64 KiB of each reaches the grader.
-- The constraints of one table (NOT NULL ones excluded; see catalog_not_null) with their
-- columns in key order, the referenced table and columns of a foreign key, and whether
-- the constraint has been validated. PostgreSQL 18 can also make a foreign key or a CHECK
-- NOT ENFORCED (checked for nothing, and never valid): column enforced says so. Params: table_oid.
SELECT con.conname::pg_catalog.text AS name,
       con.contype::pg_catalog.text AS kind,
       con.convalidated AS validated,
       con.conenforced AS enforced,
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
