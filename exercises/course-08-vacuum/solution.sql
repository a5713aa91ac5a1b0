-- Course 8: VACUUM, ANALYZE and autovacuum.
-- setup.sql in this folder shows what the migration did. Look at the damage first
-- (pg_stat_user_tables: n_dead_tup, last_vacuum, last_analyze; the storage options in
-- pg_class.reloptions), then clean up here.
--
-- Grade yourself with:  python grade.py -e course-08-vacuum

