-- The exact number of rows of one table. Placeholders: table.
SELECT pg_catalog.count(*) FROM {table}
