-- pgdrill-test: the reference solution follows
-- Overloads of built-in names: with public on a search_path, lower(varchar) would beat
-- pg_catalog.lower(text) for a varchar column, and count(int) would beat count("any").
CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'laptop' $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql STABLE AS $$ SELECT '2000-01-01'::timestamptz $$;
CREATE FUNCTION public.count_one(state bigint, v int) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT 0::bigint $$;
CREATE AGGREGATE public.count(int) (SFUNC = public.count_one, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION public.textlike(varchar, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT true $$;
CREATE OPERATOR public.~~ (LEFTARG = varchar, RIGHTARG = text, FUNCTION = public.textlike);
