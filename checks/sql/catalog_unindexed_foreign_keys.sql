-- Foreign keys in one schema that no index of the referencing table supports: no valid,
-- non-partial index has the key's columns (in any order) as its leading columns, so every
-- lookup by the key, and every DELETE or key change on the referenced table, reads the whole
-- referencing table. Params: schema.
SELECT t.relname::pg_catalog.text AS table_name,
       con.conname::pg_catalog.text AS constraint_name,
       (SELECT pg_catalog.string_agg(a.attname::pg_catalog.text, ', ' ORDER BY k.ord)
        FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_catalog.pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
       con.confrelid::pg_catalog.regclass::pg_catalog.text AS references_table
FROM pg_catalog.pg_constraint AS con
JOIN pg_catalog.pg_class AS t ON t.oid = con.conrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
WHERE con.contype = 'f' AND n.nspname = %(schema)s
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_index AS i
    WHERE i.indrelid = con.conrelid AND i.indisvalid AND i.indpred IS NULL
      AND (i.indkey::pg_catalog.int2[])[0:pg_catalog.cardinality(con.conkey) - 1] OPERATOR(pg_catalog.@>) con.conkey
      AND (i.indkey::pg_catalog.int2[])[0:pg_catalog.cardinality(con.conkey) - 1] OPERATOR(pg_catalog.<@) con.conkey)
ORDER BY t.relname, con.conname
