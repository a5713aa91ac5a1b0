-- A recursive CTE without a stop condition.
SET statement_timeout = 0;
WITH RECURSIVE forever(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM forever)
SELECT count(*) FROM forever;
-- pgdrill-test: the reference solution follows
