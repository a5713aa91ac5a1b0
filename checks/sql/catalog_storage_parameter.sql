-- One storage parameter of one table (ALTER TABLE … SET (name = value)), NULL when it is
-- not set. Params: table_oid, name.
SELECT o.option_value AS value
FROM pg_catalog.pg_class AS c
CROSS JOIN LATERAL pg_catalog.pg_options_to_table(c.reloptions) AS o
WHERE c.oid = %(table_oid)s::pg_catalog.oid AND o.option_name = %(name)s
