-- Live and dead tuples of one table measured on disk by pgstattuple_approx (it skips
-- all-visible pages, which hold no dead tuples, so the dead count is exact).
-- Placeholders: fn (schema-qualified pgstattuple_approx). Params: oid.
SELECT s.approx_tuple_count::pg_catalog.int8, s.dead_tuple_count::pg_catalog.int8
FROM {fn}(%(oid)s::pg_catalog.oid::pg_catalog.regclass) AS s
