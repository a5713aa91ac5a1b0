-- RESET goes back to the session's start value, which the grader chose.
RESET statement_timeout;
SET lock_timeout = 0;
SELECT pg_sleep(1e6);
-- pgdrill-test: the reference solution follows
