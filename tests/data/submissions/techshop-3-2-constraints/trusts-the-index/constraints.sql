-- Wrong on purpose (tests): every duplicate query here lets the corrupt unique index answer,
-- and the amcheck proof swallows its own error.

-- name: duplicate_emails
SELECT DISTINCT c.email, 2 AS accounts FROM customers c
WHERE EXISTS (SELECT 1 FROM customers d WHERE d.email = c.email AND d.id <> c.id);

-- Task 4.1 says the plain index on email is redundant; without it the unique one serves email order.
DROP INDEX idx_customers_email;
SET enable_seqscan = off;
-- name: duplicate_accounts
SELECT id, email, created_at
FROM (SELECT id, email, created_at, count(*) OVER (PARTITION BY email) AS n FROM customers) c
WHERE n > 1;
RESET enable_seqscan;

CREATE FUNCTION amcheck_verdict() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM bt_index_check('customers_email_key', true);
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- name: email_index_check
SELECT amcheck_verdict();

-- name: negative_stock
SELECT id, name, stock_quantity FROM products WHERE stock_quantity < 0;
