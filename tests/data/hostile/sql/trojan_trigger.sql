-- pgdrill-test: the reference solution follows
-- A trigger that tries to escalate and to write as whoever fires it (the probe of
-- negative-stock-prevented updates products as the learner).
CREATE TABLE public.loot (who text, what text);
GRANT INSERT ON public.loot TO PUBLIC;
CREATE FUNCTION public.escalate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.loot VALUES (current_user, 'trigger fired');
  BEGIN
    EXECUTE 'ALTER ROLE pgdrill_grader SUPERUSER';
  EXCEPTION WHEN insufficient_privilege THEN
    INSERT INTO public.loot VALUES (current_user, 'escalation refused');
  END;
  RETURN NEW;
END $$;
CREATE TRIGGER escalate BEFORE UPDATE OR DELETE ON products FOR EACH ROW EXECUTE FUNCTION public.escalate();
