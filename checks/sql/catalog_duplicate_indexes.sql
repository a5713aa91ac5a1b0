-- Definitions are learner-controlled text: at most 64 KiB of each reaches the grader.
-- Groups of valid indexes with the same definition: same table, access method, key and
-- INCLUDE columns, operator classes, collations, sort options, expressions and predicate.
-- Uniqueness is not part of the definition: a UNIQUE index makes a plain one on the same
-- key redundant. Params: schema, table_oid (NULL for every table of the schema).
SELECT t.relname::pg_catalog.text AS table_name,
       pg_catalog.array_agg(ic.relname::pg_catalog.text ORDER BY (i.indisprimary OR i.indisunique) DESC, ic.relname) AS index_names,
       pg_catalog.array_agg(i.indisunique OR i.indisprimary ORDER BY (i.indisprimary OR i.indisunique) DESC, ic.relname) AS uniques,
       pg_catalog.array_agg(pg_catalog.left(pg_catalog.pg_get_indexdef(i.indexrelid), 65536) ORDER BY (i.indisprimary OR i.indisunique) DESC, ic.relname) AS definitions
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class AS t ON t.oid = i.indrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
WHERE n.nspname = %(schema)s
  AND (%(table_oid)s::pg_catalog.oid IS NULL OR i.indrelid = %(table_oid)s::pg_catalog.oid)
  AND i.indisvalid AND i.indisready AND i.indislive
GROUP BY t.relname, i.indrelid, ic.relam, i.indkey::pg_catalog.text, i.indclass::pg_catalog.text,
         i.indcollation::pg_catalog.text, i.indoption::pg_catalog.text,
         pg_catalog.pg_get_expr(i.indexprs, i.indrelid), pg_catalog.pg_get_expr(i.indpred, i.indrelid)
HAVING pg_catalog.count(*) > 1
ORDER BY t.relname, 2
