-- Wrong on purpose: verifications that would not show the problem if it were still there.
-- After the fixes each returns what the grader counts (0), so on the fixed database alone they
-- pass; on the untouched incident (the grader's contrast "unfixed") they still say 0.

-- name: orphan_items
SELECT 0 AS orphan_items;

-- name: negative_stock
SELECT 0 AS negative_stock;

-- A self-join on email: PostgreSQL 18 removes it (customers_email_key "proves" that two rows
-- with one e-mail are one row), and the corrupt index lacks the duplicates anyway.
-- name: duplicate_emails
SELECT count(*) AS duplicate_emails
FROM customers AS a
JOIN customers AS b ON b.email = a.email
WHERE a.id < b.id;

-- (The plans and the maintenance record are left out: this variant is about the counts.)
