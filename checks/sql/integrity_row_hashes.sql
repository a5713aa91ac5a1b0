-- Per-row content hashes of the rows in some checksum buckets (see integrity_row_buckets).
-- Placeholders: table, key_text, row, bucket, exclude_condition. Params: exclude, buckets.
SELECT {key_text} AS key, pg_catalog.hashtextextended({row}::pg_catalog.text, 0) AS hash
FROM {table} AS t
WHERE {exclude_condition}
  AND pg_catalog.substr({bucket}, 1, 2) = ANY(%(buckets)s::pg_catalog.text[])
