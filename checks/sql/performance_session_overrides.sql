-- Planner settings this session took from ALTER DATABASE … SET or ALTER ROLE … SET rather
-- than from the server's configuration. RESET would restore exactly these values, so the
-- plan checks SET LOCAL each one back to its built-in default (boot_val) instead.
-- Returns name, setting, unit, source, boot_val.
SELECT s.name::pg_catalog.text, s.setting::pg_catalog.text, COALESCE(s.unit, '')::pg_catalog.text,
       s.source::pg_catalog.text, s.boot_val::pg_catalog.text
FROM pg_catalog.pg_settings AS s
WHERE s.source IN ('database', 'user', 'database user')
  AND (s.category LIKE 'Query Tuning%'
       OR s.name IN ('work_mem', 'hash_mem_multiplier', 'max_parallel_workers_per_gather',
                     'max_parallel_workers', 'effective_io_concurrency', 'maintenance_io_concurrency'))
ORDER BY s.name
