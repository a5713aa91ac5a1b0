-- Definitions are learner-controlled text: at most 64 KiB of each reaches the grader.
-- The CHECK constraints that columns of one table carry through their types: a column of a
-- domain type is checked against the domain's CHECKs, and those of every domain it is built
-- on (a domain over a domain). Arrays of a domain are left out: their checks bind elements,
-- not the column. Params: table_oid.
WITH RECURSIVE chain AS (
    SELECT a.attname::pg_catalog.text AS column_name, t.oid AS column_type, t.oid AS type_oid, t.typbasetype,
           1 AS depth
    FROM pg_catalog.pg_attribute AS a
    JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
    WHERE a.attrelid = %(table_oid)s::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped
      AND t.typtype = 'd'
    UNION ALL
    SELECT chain.column_name, chain.column_type, t.oid, t.typbasetype, chain.depth + 1
    FROM chain
    JOIN pg_catalog.pg_type AS t ON t.oid = chain.typbasetype
    WHERE t.typtype = 'd' AND chain.depth < 64
)
SELECT chain.column_name,
       pg_catalog.format_type(chain.column_type, NULL) AS column_type,
       pg_catalog.format_type(chain.type_oid, NULL) AS domain_name,
       con.conname::pg_catalog.text AS name,
       con.convalidated AS validated,
       pg_catalog.left(pg_catalog.pg_get_constraintdef(con.oid, true), 65536) AS definition
FROM chain
JOIN pg_catalog.pg_constraint AS con ON con.contypid = chain.type_oid AND con.contype = 'c'
ORDER BY chain.column_name, chain.depth, con.conname
