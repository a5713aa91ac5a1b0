-- What happened to Pagila before you arrived. The grader runs this file as superuser on
-- your copy of the database before your solution.sql; reading it is allowed.

-- Monday: autovacuum was switched off on two tables "so it would not slow the migration".
ALTER TABLE rental SET (autovacuum_enabled = false);
ALTER TABLE inventory SET (autovacuum_enabled = false);

-- The migration then rewrote every row several times. (session_replication_role =
-- replica keeps the last_updated triggers quiet, so the rows' content stays the same.)
SET session_replication_role = replica;
UPDATE rental SET return_date = return_date;
UPDATE rental SET return_date = return_date;
UPDATE rental SET return_date = return_date;
UPDATE inventory SET store_id = store_id;
UPDATE inventory SET store_id = store_id;
UPDATE inventory SET store_id = store_id;
RESET session_replication_role;
