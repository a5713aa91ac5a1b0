-- Contrast "table-settings" (grader-side, never shown to learners): the same incident, its
-- traffic replayed, where two tables have analyze settings of their own (storage parameters,
-- as ALTER TABLE … SET (autovacuum_analyze_threshold = …) leaves them). The server's settings
-- are the same in every database of a server and cannot be set per database, so the defaults
-- typed in (50 rows + 10 %) are right on the graded database; here they are not.
--
-- Chosen from the counters, so that the answer flips at any scale and seed, with a wide margin:
-- * the table with the most rows changed since ANALYZE, past the server's threshold, gets a
--   threshold of its own well above that count: it no longer needs an ANALYZE;
-- * the table with the fewest rows changed (but some) gets a threshold of half that count and
--   no scale factor: it needs one, whatever the server's settings say.
-- Its untouched copy, replayed alike, has the same counters and gets the same settings.

DO $$
DECLARE
    server_threshold float8 := pg_catalog.current_setting('autovacuum_analyze_threshold')::float8;
    server_scale     float8 := pg_catalog.current_setting('autovacuum_analyze_scale_factor')::float8;
    busiest record;
    quietest record;
BEGIN
    SELECT s.relid, s.n_mod_since_analyze AS n INTO busiest
    FROM pg_catalog.pg_stat_user_tables AS s
    JOIN pg_catalog.pg_class AS c ON c.oid = s.relid
    WHERE s.schemaname = 'public'
      AND s.n_mod_since_analyze > server_threshold + server_scale * greatest(c.reltuples, 0)
    ORDER BY s.n_mod_since_analyze DESC, s.relname
    LIMIT 1;
    SELECT s.relid, s.n_mod_since_analyze AS n INTO quietest
    FROM pg_catalog.pg_stat_user_tables AS s
    WHERE s.schemaname = 'public' AND s.n_mod_since_analyze > 1 AND s.relid IS DISTINCT FROM busiest.relid
    ORDER BY s.n_mod_since_analyze, s.relname
    LIMIT 1;
    IF busiest.relid IS NULL OR quietest.relid IS NULL THEN
        RAISE EXCEPTION 'contrast table-settings: no counters to work with (was the traffic replayed?)';
    END IF;
    EXECUTE pg_catalog.format('ALTER TABLE %s SET (autovacuum_analyze_threshold = %s)',
                              busiest.relid::pg_catalog.regclass, least(busiest.n * 2 + 1000, 2000000000));
    EXECUTE pg_catalog.format('ALTER TABLE %s SET (autovacuum_analyze_threshold = %s, autovacuum_analyze_scale_factor = 0)',
                              quietest.relid::pg_catalog.regclass, quietest.n / 2);
END $$;
