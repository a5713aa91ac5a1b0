-- Terminate every other session, then the sessions of our own role, then ourselves.
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid();
SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename <> current_user;
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid();
SELECT pg_terminate_backend(pg_backend_pid());
-- pgdrill-test: the reference solution follows
