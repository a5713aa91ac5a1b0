-- setup for the "full" test spec
SELECT 1;
