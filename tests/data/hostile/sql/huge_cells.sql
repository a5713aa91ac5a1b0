-- Rows of 20 MB each: none reaches the grader (the first is over its 1 MiB cap for a row), the query fails.
-- name: huge_rows
SELECT repeat('x', 20000000) AS id, g AS order_id, 1 AS product_id, 1 AS quantity, 1 AS price
FROM generate_series(1, 1000) AS g;
