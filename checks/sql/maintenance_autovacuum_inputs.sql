-- Everything autovacuum weighs for one table: its size (pg_class, and the live rows the
-- statistics counted), its storage parameters (reloptions) and the server's settings, each as
-- parallel name and value arrays. relallfrozen and autovacuum_vacuum_max_threshold are new in
-- PostgreSQL 18: read through to_jsonb, relallfrozen is NULL before 18. Params: table_oid.
WITH settings AS (
    SELECT g.name::pg_catalog.text AS name, g.setting::pg_catalog.text AS setting
    FROM pg_catalog.pg_settings AS g
    WHERE g.name IN ('autovacuum', 'track_counts', 'autovacuum_vacuum_threshold',
                     'autovacuum_vacuum_scale_factor', 'autovacuum_analyze_threshold',
                     'autovacuum_analyze_scale_factor', 'autovacuum_vacuum_insert_threshold',
                     'autovacuum_vacuum_insert_scale_factor', 'autovacuum_vacuum_max_threshold')
)
SELECT c.reltuples::pg_catalog.float8 AS reltuples,
       c.relpages::pg_catalog.int8 AS relpages,
       (pg_catalog.to_jsonb(c.*) OPERATOR(pg_catalog.->>) 'relallfrozen')::pg_catalog.int8 AS relallfrozen,
       COALESCE(s.n_live_tup, 0) AS n_live_tup,
       ARRAY(SELECT o.option_name::pg_catalog.text
             FROM pg_catalog.pg_options_to_table(c.reloptions) AS o ORDER BY o.option_name) AS option_names,
       ARRAY(SELECT o.option_value::pg_catalog.text
             FROM pg_catalog.pg_options_to_table(c.reloptions) AS o ORDER BY o.option_name) AS option_values,
       ARRAY(SELECT settings.name FROM settings ORDER BY settings.name) AS setting_names,
       ARRAY(SELECT settings.setting FROM settings ORDER BY settings.name) AS setting_values
FROM pg_catalog.pg_class AS c
LEFT JOIN pg_catalog.pg_stat_all_tables AS s ON s.relid = c.oid
WHERE c.oid = %(table_oid)s::pg_catalog.oid
