-- What the application relies on in one table, one row per item (shop.table_kept): each
-- column with its type and default, and each NOT NULL column; each constraint by its definition (which says
-- NOT VALID or NOT ENFORCED; NOT NULL constraints are covered by their columns); each
-- valid index by its definition without the index's own name; each user trigger by its
-- definition without its name, and whether it is enabled. Names a rename would change are
-- left out, so renaming a constraint or an index changes nothing here. Params: oid.
SELECT 'column' AS kind, a.attname::pg_catalog.text AS item,
       pg_catalog.format_type(a.atttypid, a.atttypmod)
         || COALESCE(' DEFAULT ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid), '') AS definition
FROM pg_catalog.pg_attribute AS a
LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %(oid)s::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
-- NOT NULL on its own row: losing it is a loss, adding it (the NULL-stock fix) is not.
SELECT 'not null', a.attname::pg_catalog.text, a.attname::pg_catalog.text || ' NOT NULL'
FROM pg_catalog.pg_attribute AS a
WHERE a.attrelid = %(oid)s::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
UNION ALL
SELECT CASE c.contype WHEN 'p' THEN 'primary key' WHEN 'f' THEN 'foreign key' WHEN 'u' THEN 'unique constraint'
                      WHEN 'c' THEN 'check constraint' WHEN 'x' THEN 'exclusion constraint'
                      ELSE 'constraint' END,
       pg_catalog.pg_get_constraintdef(c.oid), pg_catalog.pg_get_constraintdef(c.oid)
FROM pg_catalog.pg_constraint AS c
WHERE c.conrelid = %(oid)s::pg_catalog.oid AND c.contype <> 'n'
UNION ALL
SELECT 'index', ic.relname::pg_catalog.text,
       pg_catalog.replace(pg_catalog.pg_get_indexdef(i.indexrelid),
                          ' INDEX ' || pg_catalog.quote_ident(ic.relname) || ' ON ', ' INDEX ON ')
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
WHERE i.indrelid = %(oid)s::pg_catalog.oid AND i.indisvalid AND i.indisready
UNION ALL
SELECT 'trigger', t.tgname::pg_catalog.text,
       pg_catalog.replace(pg_catalog.pg_get_triggerdef(t.oid),
                          ' TRIGGER ' || pg_catalog.quote_ident(t.tgname) || ' ', ' TRIGGER ')
         || CASE t.tgenabled WHEN 'D' THEN ' (disabled)' ELSE '' END
FROM pg_catalog.pg_trigger AS t
WHERE t.tgrelid = %(oid)s::pg_catalog.oid AND NOT t.tgisinternal
ORDER BY 1, 2
