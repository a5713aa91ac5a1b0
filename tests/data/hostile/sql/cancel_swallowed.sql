-- A loop that catches the cancel request and goes on sleeping: cancelling is not
-- enough, the grader terminates the session and reconnects for the next statement.
SET statement_timeout = 0;
DO $$
BEGIN
  LOOP
    BEGIN
      PERFORM pg_sleep(1000);
    EXCEPTION WHEN query_canceled THEN
      RAISE NOTICE 'cancel ignored';
    END;
  END LOOP;
END
$$;
-- pgdrill-test: the reference solution follows
