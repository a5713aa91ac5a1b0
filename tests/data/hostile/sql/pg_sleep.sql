-- Sleep for eleven days: the statement is cancelled at its time limit.
SELECT pg_sleep(1e6);
-- pgdrill-test: the reference solution follows
