-- A content checksum of a table in 256 buckets: per bucket the row count and a sum of
-- 64-bit row hashes (order-independent, so a bag of rows; hashtextextended: both sides are
-- hashed by the same server, and it costs a tenth of an md5). Rows whose key is listed in
-- exclude are left out. Placeholders: table, row (ROW(...) of the compared columns),
-- bucket (the expression rows are bucketed by), exclude_condition. Params: exclude.
SELECT pg_catalog.substr({bucket}, 1, 2) AS bucket,
       pg_catalog.count(*) AS n,
       pg_catalog.sum(pg_catalog.hashtextextended({row}::pg_catalog.text, 0)) AS checksum
FROM {table} AS t
WHERE {exclude_condition}
GROUP BY 1
