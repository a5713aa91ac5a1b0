-- Groups of rows sharing the same values in the given columns, read from the table itself:
-- the scan sits in a MATERIALIZED CTE that needs no order and reads the key too, so no
-- index (a corrupt one lacks the very rows looked for) can stand in for the table. Each
-- group comes with its keys, first by the keep column, then by key, and its values as text.
-- Placeholders: table, key, keep (an expression), values (t.col AS col, ...), not_null,
-- columns (the aliases), texts (col::text for each).
WITH heap AS MATERIALIZED (
    SELECT t.{key} AS pgdrill_key, {keep} AS pgdrill_keep, {values}
    FROM {table} AS t
    WHERE {not_null}
)
SELECT pg_catalog.array_agg(pgdrill_key::pg_catalog.text ORDER BY pgdrill_keep NULLS LAST, pgdrill_key) AS keys,
       ARRAY[{texts}] AS vals
FROM heap
GROUP BY {columns}
HAVING pg_catalog.count(*) > 1
ORDER BY 1
