-- A content checksum of a table in 256 buckets: per bucket the row count and a sum of
-- 60-bit row hashes (order-independent, so a bag of rows). Rows whose key is listed in
-- exclude are left out. Placeholders: table, row (ROW(...) of the compared columns),
-- bucket (the expression rows are bucketed by), exclude_condition. Params: exclude.
SELECT pg_catalog.substr({bucket}, 1, 2) AS bucket,
       pg_catalog.count(*) AS n,
       pg_catalog.sum(('x' || pg_catalog.substr(pg_catalog.md5({row}::pg_catalog.text), 1, 15))::bit(60)::pg_catalog.int8) AS checksum
FROM {table} AS t
WHERE {exclude_condition}
GROUP BY 1
