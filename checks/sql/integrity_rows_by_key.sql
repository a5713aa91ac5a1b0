-- Rows of one table by key (compared as text), with the given columns as text and an md5
-- of the whole row. Placeholders: table, key, texts (col::text for each), row.
-- Params: keys (text[]).
SELECT t.{key}::pg_catalog.text AS key, ARRAY[{texts}] AS vals,
       pg_catalog.md5({row}::pg_catalog.text) AS hash
FROM {table} AS t
WHERE t.{key}::pg_catalog.text = ANY(%(keys)s::pg_catalog.text[])
