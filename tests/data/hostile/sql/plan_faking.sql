-- No trigram index; instead make every plan avoid sequential scans.
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET enable_seqscan = off', current_database()); END $$;
ALTER ROLE learner SET enable_seqscan = off;
ALTER ROLE learner SET random_page_cost = 0.0001;
DO $$ BEGIN EXECUTE format('ALTER ROLE learner IN DATABASE %I SET enable_seqscan = off', current_database()); END $$;
ALTER ROLE pgdrill_grader SET enable_seqscan = off;
CREATE INDEX idx_products_name_btree ON products (name);
ANALYZE products;
