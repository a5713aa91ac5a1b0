-- pgdrill-test: the reference solution follows
-- A 3 MB definition in the catalog the grader reads (an index on products whose predicate
-- holds a 3 MB literal): the server stops the grader's catalog read at that row.
DO $$
BEGIN
  EXECUTE pg_catalog.format('CREATE INDEX products_name_bloated ON products (name) WHERE name <> %L',
                            pg_catalog.repeat('x', 3000000));
END
$$;
