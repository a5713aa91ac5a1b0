-- Planner settings stored with ALTER DATABASE … SET (this database), ALTER ROLE … SET and
-- ALTER ROLE … IN DATABASE … SET (for the given roles, or ALL) that apply here.
-- Params: roles (text[]). Returns database ('' = every database), role ('' = every role),
-- name, value.
SELECT COALESCE(d.datname::pg_catalog.text, '') AS database,
       COALESCE(r.rolname::pg_catalog.text, '') AS role,
       pg_catalog.split_part(cfg.item, '=', 1) AS name,
       pg_catalog.substr(cfg.item, pg_catalog.strpos(cfg.item, '=') + 1) AS value
FROM pg_catalog.pg_db_role_setting AS s
LEFT JOIN pg_catalog.pg_database AS d ON d.oid = s.setdatabase
LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = s.setrole
CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) AS cfg(item)
JOIN pg_catalog.pg_settings AS g ON g.name = pg_catalog.split_part(cfg.item, '=', 1)
WHERE (s.setdatabase = 0 OR d.datname = pg_catalog.current_database())
  AND (s.setrole = 0 OR r.rolname = ANY(%(roles)s::pg_catalog.text[]))
  AND (g.category LIKE 'Query Tuning%%'
       OR g.name IN ('work_mem', 'hash_mem_multiplier', 'max_parallel_workers_per_gather',
                     'max_parallel_workers', 'effective_io_concurrency', 'maintenance_io_concurrency'))
ORDER BY 1, 2, 3
