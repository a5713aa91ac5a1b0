-- Without fixing anything: a decoy products table with the CHECK constraint, put first on
-- the learner role's search_path, so that a probe running as the learner would hit the decoy.
CREATE SCHEMA decoy;
CREATE TABLE decoy.products (id int PRIMARY KEY, stock_quantity int CHECK (stock_quantity >= 0));
INSERT INTO decoy.products VALUES (1, 0);
GRANT USAGE ON SCHEMA decoy TO PUBLIC;
GRANT SELECT, UPDATE ON decoy.products TO PUBLIC;
DO $$ BEGIN EXECUTE format('ALTER ROLE learner IN DATABASE %I SET search_path = decoy, public', current_database()); END $$;
ALTER ROLE learner SET search_path = decoy, public;
ALTER ROLE pgdrill_grader SET search_path = decoy, public;
