-- Row count and an order-independent checksum of one table's content: the sum of each
-- row's 64-bit hash (rows as their text form; hashtextextended: the original and the restored
-- copy are hashed by the same server, and it costs a tenth of an md5). Equal sums on the original
-- and on a restored copy mean the same multiset of rows, barring a vanishing chance.
-- Placeholder: {table} (a psycopg.sql.Identifier). Returns row_count, checksum.
SELECT pg_catalog.count(*) AS row_count,
       COALESCE(pg_catalog.sum(
           pg_catalog.hashtextextended(t::pg_catalog.text, 0)::pg_catalog.numeric), 0) AS checksum
FROM {table} AS t
