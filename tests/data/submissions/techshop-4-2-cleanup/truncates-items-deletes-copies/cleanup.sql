-- Wrong on purpose (tests): two "clean-ups" that each leave the symptom gone and the data
-- destroyed. It must score next to nothing.

-- No orphaned order line left... and no order line at all.
TRUNCATE order_items;

-- Each address once: the copies deleted, read from the table (not the corrupt index), but
-- their orders never moved to the original account — they now point at nobody.
DELETE FROM customers
WHERE id IN (SELECT id
             FROM (SELECT id, row_number() OVER (PARTITION BY email || '' ORDER BY created_at, id) AS n
                   FROM customers) AS ranked
             WHERE n > 1);
