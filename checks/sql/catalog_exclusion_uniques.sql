-- Exclusion constraints of one table that enforce plain uniqueness: every operator is the
-- built-in equality (pg_catalog's =), every key is a column, and the index behind them is not
-- partial. EXCLUDE USING btree (email WITH =) refuses a second equal email as UNIQUE (email)
-- does. Params: table_oid.
SELECT con.conname::pg_catalog.text AS name,
       ARRAY(SELECT a.attname::pg_catalog.text
             FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       pg_catalog.left(pg_catalog.pg_get_constraintdef(con.oid, true), 65536) AS definition
FROM pg_catalog.pg_constraint AS con
JOIN pg_catalog.pg_index AS i ON i.indexrelid = con.conindid
WHERE con.conrelid = %(table_oid)s::pg_catalog.oid
  AND con.contype = 'x'
  AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indisvalid AND i.indisready
  AND NOT EXISTS (SELECT 1
                  FROM pg_catalog.unnest(con.conexclop) AS op(oid)
                  JOIN pg_catalog.pg_operator AS o ON o.oid = op.oid
                  WHERE o.oprname <> '=' OR o.oprnamespace <> 'pg_catalog'::pg_catalog.regnamespace)
ORDER BY con.conname
