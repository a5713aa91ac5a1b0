-- Row count and an order-independent checksum of one table's content: the sum of the
-- first 60 bits of each row's md5 (rows as their text form). Equal sums on the original
-- and on a restored copy mean the same multiset of rows, barring a vanishing chance.
-- Placeholder: {table} (a psycopg.sql.Identifier). Returns row_count, checksum.
SELECT pg_catalog.count(*) AS row_count,
       COALESCE(pg_catalog.sum(
           ('x' || pg_catalog.substr(pg_catalog.md5(t::pg_catalog.text), 1, 15))::pg_catalog.bit(60)
               ::pg_catalog.int8::pg_catalog.numeric), 0) AS checksum
FROM {table} AS t
