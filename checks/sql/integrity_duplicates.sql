-- Groups of rows sharing the same values in the given columns (rows with a NULL in any of
-- them are left out, as a UNIQUE constraint would). Placeholders: table, keys (the column
-- expressions), not_null (their IS NOT NULL conditions).
SELECT {keys}, pg_catalog.count(*) AS copies
FROM {table} AS t
WHERE {not_null}
GROUP BY {keys}
HAVING pg_catalog.count(*) > 1
ORDER BY copies DESC, 1
