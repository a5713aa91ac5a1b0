-- A cross join of the biggest table with itself three times.
SELECT count(*) FROM order_items a, order_items b, order_items c;
-- pgdrill-test: the reference solution follows
