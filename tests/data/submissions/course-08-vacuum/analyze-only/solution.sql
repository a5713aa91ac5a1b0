-- Wrong on purpose: fresh statistics, but no VACUUM (the dead rows stay) and autovacuum left
-- switched off. (Switching it back on without vacuuming would leave the cleanup to
-- autovacuum at a moment nobody chose, which makes a poor test case.)
ANALYZE rental;
ANALYZE inventory;
