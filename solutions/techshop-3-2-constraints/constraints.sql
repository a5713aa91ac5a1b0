-- Reference solution for techshop-3-2-constraints.

-- customers_email_key is the thing under suspicion, so do not let it answer: with index and
-- bitmap scans off PostgreSQL reads the table itself. (The settings last for this session.)
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;

-- name: duplicate_emails
SELECT email, count(*) AS accounts
FROM customers
GROUP BY email
HAVING count(*) > 1
ORDER BY email;

-- A window function, not a self-join on email: PostgreSQL 18 removes a self-join on a column
-- with a unique index (the index "proves" both sides are the same row), and would find nothing.
-- name: duplicate_accounts
SELECT id, email, created_at
FROM (SELECT id, email, created_at, count(*) OVER (PARTITION BY email) AS accounts
      FROM customers) AS c
WHERE accounts > 1
ORDER BY email, created_at;

RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;

-- Why the UNIQUE constraint let them in: its index lacks entries for rows of the table.
-- The error is the finding (XX001 data_corrupted on PostgreSQL 18, XX002 index_corrupted on 15).
-- name: email_index_check
SELECT bt_index_check('customers_email_key', heapallindexed => true);

-- name: negative_stock
SELECT id, name, stock_quantity
FROM products
WHERE stock_quantity < 0
ORDER BY id;

-- name: order_total_mismatch
SELECT o.id AS order_id,
       o.total_amount AS order_total,
       COALESCE(SUM(oi.quantity * oi.price), 0) AS calculated_total,
       o.total_amount - COALESCE(SUM(oi.quantity * oi.price), 0) AS difference
FROM orders o
LEFT JOIN order_items oi ON oi.order_id = o.id
GROUP BY o.id, o.total_amount
HAVING ABS(o.total_amount - COALESCE(SUM(oi.quantity * oi.price), 0)) > 0.01
ORDER BY o.id;
