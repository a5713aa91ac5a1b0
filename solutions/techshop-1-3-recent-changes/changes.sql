-- Reference solution for techshop-1-3-recent-changes.

-- The newest surviving row version of each table, dated by its commit.
-- name: last_modified
SELECT t.table_name, t.last_change, now() - t.last_change AS age
FROM (
    SELECT 'categories' AS table_name, max(pg_xact_commit_timestamp(xmin)) AS last_change FROM categories
    UNION ALL SELECT 'customers',   max(pg_xact_commit_timestamp(xmin)) FROM customers
    UNION ALL SELECT 'products',    max(pg_xact_commit_timestamp(xmin)) FROM products
    UNION ALL SELECT 'orders',      max(pg_xact_commit_timestamp(xmin)) FROM orders
    UNION ALL SELECT 'order_items', max(pg_xact_commit_timestamp(xmin)) FROM order_items
) AS t
ORDER BY t.last_change DESC NULLS LAST, t.table_name;

-- The documented foreign keys (the scenario's REFERENCES clauses) the catalog does not have.
-- name: missing_foreign_keys
SELECT d.table_name, d.column_name, d.references_table
FROM (VALUES ('categories',  'parent_id',   'categories'),
             ('orders',      'customer_id', 'customers'),
             ('order_items', 'order_id',    'orders'),
             ('order_items', 'product_id',  'products'))
     AS d(table_name, column_name, references_table)
WHERE NOT EXISTS (
    SELECT 1
    FROM pg_constraint AS c
    JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.contype = 'f'
      AND c.conrelid  = format('public.%I', d.table_name)::regclass
      AND c.confrelid = format('public.%I', d.references_table)::regclass
      AND a.attname   = d.column_name
);

-- Indexes no PRIMARY KEY / UNIQUE / EXCLUDE constraint of the same table owns.
-- name: undocumented_indexes
SELECT x.indrelid::regclass::text AS table_name,
       i.relname                  AS index_name,
       x.indisvalid               AS valid,
       pg_get_indexdef(x.indexrelid) AS definition
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
WHERE i.relnamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c
                  WHERE c.conindid = x.indexrelid
                    AND c.conrelid = x.indrelid
                    AND c.contype IN ('p', 'u', 'x'))
ORDER BY table_name, index_name;

-- Archiving off and nothing ever archived: no point-in-time recovery is possible.
-- name: backup_status
SELECT current_setting('archive_mode') AS archive_mode,
       current_setting('wal_level')    AS wal_level,
       s.archived_count, s.last_archived_time, s.failed_count, s.stats_reset,
       (SELECT count(*) FROM pg_ls_waldir() WHERE name LIKE '%.backup') AS backup_history_files
FROM pg_stat_archiver AS s;
