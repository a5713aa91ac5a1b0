-- Reference solution for techshop-2-2-index-usage.

-- First, before anything of this file scans an index: the counters count us too.
-- name: index_usage
SELECT s.relname AS table_name, s.indexrelname AS index_name, s.idx_scan,
       pg_size_pretty(pg_relation_size(s.indexrelid)) AS size
FROM pg_stat_user_indexes AS s
WHERE s.schemaname = 'public'
ORDER BY s.idx_scan, pg_relation_size(s.indexrelid) DESC;

-- A foreign key is served when some valid, non-partial index starts with its columns.
-- name: fk_without_index
SELECT c.conrelid::regclass::text AS table_name,
       a.attname                  AS column_name,
       c.conname                  AS foreign_key,
       c.confrelid::regclass::text AS references_table
FROM pg_constraint AS c
JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f'
  AND c.connamespace = 'public'::regnamespace
  AND NOT EXISTS (
      SELECT 1
      FROM pg_index AS x
      WHERE x.indrelid = c.conrelid
        AND x.indisvalid
        AND x.indpred IS NULL
        AND (string_to_array(x.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] = c.conkey)
ORDER BY table_name, column_name;

-- Never scanned, and not enforcing a constraint (unique indexes and primary keys stay).
-- name: unused_indexes
SELECT s.relname AS table_name, s.indexrelname AS index_name,
       pg_size_pretty(pg_relation_size(s.indexrelid)) AS size,
       pg_get_indexdef(s.indexrelid) AS definition
FROM pg_stat_user_indexes AS s
JOIN pg_index AS x ON x.indexrelid = s.indexrelid
WHERE s.schemaname = 'public'
  AND s.idx_scan = 0
  AND NOT x.indisunique
ORDER BY pg_relation_size(s.indexrelid) DESC;

-- Same table, access method, key, operator classes, collations, options, expressions and
-- predicate. The plain index is the redundant one; the constraint's index stays.
-- name: duplicate_indexes
SELECT t.relname AS table_name, a.relname AS redundant_index, b.relname AS duplicate_of,
       pg_get_indexdef(ia.indexrelid) AS redundant_definition
FROM pg_index AS ia
JOIN pg_index AS ib ON ib.indrelid = ia.indrelid AND ib.indexrelid <> ia.indexrelid
JOIN pg_class AS a ON a.oid = ia.indexrelid
JOIN pg_class AS b ON b.oid = ib.indexrelid
JOIN pg_class AS t ON t.oid = ia.indrelid
WHERE t.relnamespace = 'public'::regnamespace
  AND ia.indisvalid AND ib.indisvalid
  AND a.relam = b.relam
  AND ia.indkey::text = ib.indkey::text
  AND ia.indclass::text = ib.indclass::text
  AND ia.indcollation::text = ib.indcollation::text
  AND ia.indoption::text = ib.indoption::text
  AND pg_get_expr(ia.indexprs, ia.indrelid) IS NOT DISTINCT FROM pg_get_expr(ib.indexprs, ib.indrelid)
  AND pg_get_expr(ia.indpred, ia.indrelid) IS NOT DISTINCT FROM pg_get_expr(ib.indpred, ib.indrelid)
  AND NOT ia.indisunique
  AND (ib.indisunique OR b.relname < a.relname);

-- name: invalid_indexes
SELECT x.indrelid::regclass::text AS table_name, i.relname AS index_name,
       x.indisready AS maintained_by_writes,
       pg_get_indexdef(x.indexrelid) AS definition
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
WHERE i.relnamespace = 'public'::regnamespace
  AND NOT x.indisvalid;
