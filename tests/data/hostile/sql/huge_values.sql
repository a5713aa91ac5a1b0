-- pgdrill-test: the reference solution follows
-- Then the query the check grades again, returning three values of 100 MB: none reaches the
-- grader (libpq would keep a row whole before anyone sees it), the query fails and says why.
-- name: orphan_items
SELECT repeat(repeat('x', 10000), 10000) AS id, g AS order_id, 1 AS product_id, 1 AS quantity, 1 AS price
FROM generate_series(1, 3) AS g;
