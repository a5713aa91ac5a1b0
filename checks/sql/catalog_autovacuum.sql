-- The autovacuum_enabled storage parameter of one table (NULL when not set) and the
-- server-wide switches autovacuum depends on. Params: table_oid.
SELECT (SELECT o.option_value
        FROM pg_catalog.pg_options_to_table(c.reloptions) AS o
        WHERE o.option_name = 'autovacuum_enabled') AS autovacuum_enabled,
       pg_catalog.current_setting('autovacuum') AS server_autovacuum,
       pg_catalog.current_setting('track_counts') AS track_counts
FROM pg_catalog.pg_class AS c
WHERE c.oid = %(table_oid)s::pg_catalog.oid
