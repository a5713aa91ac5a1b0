-- pgdrill-test: the reference solution follows
-- More indexes on products than the grader reads (the test lowers the grader's row cap).
DO $$
BEGIN
  FOR i IN 1..12 LOOP
    EXECUTE pg_catalog.format('CREATE INDEX %I ON products (stock_quantity)', 'products_many_' || i);
  END LOOP;
END
$$;
