-- Starting state of techshop-5-2-backup, run as superuser on the clone before the learner's
-- files: the database as Phase 4 left it. Its data now satisfies its own constraints again —
-- which a restore needs: a dump of the untouched incident cannot be restored with its
-- constraints, because the orphaned order lines break order_items_order_id_fkey and the
-- duplicate accounts break customers_email_key.

-- Task 4.2: orphaned order lines quarantined, then removed.
CREATE TABLE public.order_items_orphaned AS
SELECT oi.* FROM public.order_items AS oi
WHERE NOT EXISTS (SELECT 1 FROM public.orders AS o WHERE o.id = oi.order_id);
ALTER TABLE public.order_items_orphaned OWNER TO learner;
DELETE FROM public.order_items AS oi
WHERE NOT EXISTS (SELECT 1 FROM public.orders AS o WHERE o.id = oi.order_id);

-- Task 4.2: each second account merged into the first (found by reading the table: the
-- corrupt unique index lacks the second accounts), then the index rebuilt.
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE account_merge AS
SELECT c.id AS duplicate_id, k.keep_id
FROM public.customers AS c
JOIN (SELECT email, min(id) AS keep_id FROM public.customers GROUP BY email HAVING count(*) > 1) AS k
  ON k.email = c.email
WHERE c.id <> k.keep_id;
UPDATE public.orders AS o SET customer_id = m.keep_id
FROM account_merge AS m WHERE o.customer_id = m.duplicate_id;
DELETE FROM public.customers AS c USING account_merge AS m WHERE c.id = m.duplicate_id;
DROP TABLE account_merge;
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;
REINDEX INDEX public.customers_email_key;

-- Task 4.2: negative stock set to 0.
UPDATE public.products SET stock_quantity = 0 WHERE stock_quantity < 0;
