-- Server-wide settings are the superuser's.
ALTER SYSTEM SET statement_timeout = 0;
ALTER SYSTEM SET max_connections = 2;
SELECT pg_reload_conf();
-- pgdrill-test: the reference solution follows
