-- Become someone else.
SET ROLE postgres;
SET ROLE pgdrill_grader;
SET SESSION AUTHORIZATION postgres;
ALTER ROLE learner SUPERUSER;
GRANT pg_execute_server_program TO learner;
SET session_replication_role = replica;
-- pgdrill-test: the reference solution follows
