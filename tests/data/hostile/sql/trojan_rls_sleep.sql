-- pgdrill-test: the reference solution follows
-- Row-level security whose policy sleeps one second per row read, forced on the owner too.
CREATE FUNCTION public.slow_true() RETURNS boolean LANGUAGE plpgsql VOLATILE AS
$$ BEGIN PERFORM pg_catalog.pg_sleep(1); RETURN true; END $$;
CREATE POLICY sleepy ON order_items USING (public.slow_true());
CREATE POLICY sleepy ON products USING (public.slow_true());
ALTER TABLE order_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE products ENABLE ROW LEVEL SECURITY;
