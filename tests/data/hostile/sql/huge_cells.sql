-- Rows of 20 MB each: the grader stops keeping rows long before its memory is at risk.
-- name: huge_rows
SELECT repeat('x', 20000000) AS id, g AS order_id, 1 AS product_id, 1 AS quantity, 1 AS price
FROM generate_series(1, 1000) AS g;
