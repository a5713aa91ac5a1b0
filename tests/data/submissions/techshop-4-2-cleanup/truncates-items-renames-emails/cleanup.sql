-- Wrong on purpose (tests): the "quick" fixes that destroy or hide data.

-- Orphans gone... and every other order line with them.
TRUNCATE order_items;

-- The scenario's rename: the UNIQUE check passes, the person still has two accounts.
WITH duplicates AS (
    SELECT email, MIN(id) AS keep_id
    FROM customers
    GROUP BY email
    HAVING COUNT(*) > 1
)
UPDATE customers c
SET email = c.email || '_duplicate_' || c.id
FROM duplicates d
WHERE c.email = d.email AND c.id != d.keep_id;
REINDEX INDEX customers_email_key;

-- Negative stock set to zero, but nothing stops the next oversell.
UPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0;

-- "The FK got in the way": drop it.
ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_fkey;

-- The customer FK, done right (so only the mistakes above cost points).
INSERT INTO customers (id, email, created_at)
SELECT o.customer_id, 'erased-customer-' || o.customer_id || '@erased.invalid', min(o.order_date)
FROM orders o
WHERE o.customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id)
GROUP BY o.customer_id;
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
  FOREIGN KEY (customer_id) REFERENCES customers (id);
