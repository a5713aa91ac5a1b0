-- Definitions are learner-controlled text: at most 64 KiB of each reaches the grader.
-- Every index of one table with its key columns (INCLUDE columns left out), one entry per
-- key position: the column name (NULL for an expression), the column's or expression's
-- text as pg_get_indexdef prints it, and the operator class. Params: table_oid.
SELECT ic.relname::pg_catalog.text AS index_name,
       am.amname::pg_catalog.text AS method,
       i.indisunique AS is_unique,
       i.indisprimary AS is_primary,
       i.indisvalid AS is_valid,
       i.indisready AS is_ready,
       i.indislive AS is_live,
       pg_catalog.left(pg_catalog.pg_get_expr(i.indpred, i.indrelid, true), 65536) AS predicate,
       ARRAY(SELECT a.attname::pg_catalog.text
             FROM pg_catalog.generate_series(1, i.indnkeyatts::pg_catalog.int4) AS k
             LEFT JOIN pg_catalog.pg_attribute AS a
                    ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1] AND i.indkey[k - 1] <> 0
             ORDER BY k) AS key_columns,
       ARRAY(SELECT pg_catalog.left(pg_catalog.pg_get_indexdef(i.indexrelid, k, true), 65536)
             FROM pg_catalog.generate_series(1, i.indnkeyatts::pg_catalog.int4) AS k
             ORDER BY k) AS key_defs,
       ARRAY(SELECT opc.opcname::pg_catalog.text
             FROM pg_catalog.generate_series(1, i.indnkeyatts::pg_catalog.int4) AS k
             LEFT JOIN pg_catalog.pg_opclass AS opc ON opc.oid = i.indclass[k - 1]
             ORDER BY k) AS opclasses,
       pg_catalog.left(pg_catalog.pg_get_indexdef(i.indexrelid), 65536) AS definition,
       EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS con
               WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                 AND con.contype IN ('p', 'u', 'x')) AS backs_constraint
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am AS am ON am.oid = ic.relam
WHERE i.indrelid = %(table_oid)s::pg_catalog.oid
ORDER BY ic.relname
