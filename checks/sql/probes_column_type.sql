-- The type a column's values really have: through any domains down to the base type (its
-- pg_catalog name, e.g. int4, numeric, text), with the first type modifier met on the way
-- (numeric(10, 2) → precision and scale), and whether the column exists. Params: table_oid, column.
WITH RECURSIVE chain AS (
    SELECT t.oid, t.typtype, t.typbasetype, t.typname,
           CASE WHEN a.atttypmod >= 0 THEN a.atttypmod ELSE t.typtypmod END AS typmod, 1 AS depth
    FROM pg_catalog.pg_attribute AS a
    JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
    WHERE a.attrelid = %(table_oid)s::pg_catalog.oid AND a.attname = %(column)s AND a.attnum > 0
      AND NOT a.attisdropped
    UNION ALL
    SELECT t.oid, t.typtype, t.typbasetype, t.typname,
           CASE WHEN chain.typmod >= 0 THEN chain.typmod ELSE t.typtypmod END, chain.depth + 1
    FROM chain
    JOIN pg_catalog.pg_type AS t ON t.oid = chain.typbasetype
    WHERE chain.typtype = 'd' AND chain.depth < 64
)
SELECT chain.typname::pg_catalog.text AS base_type,
       CASE WHEN chain.typmod >= 0 THEN chain.typmod END AS typmod
FROM chain
WHERE chain.typtype <> 'd'
