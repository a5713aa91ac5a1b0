-- name: low_stock
SELECT item FROM shelf WHERE quantity < 3 ORDER BY item;

CREATE TABLE restock (item text PRIMARY KEY, wanted integer NOT NULL);
INSERT INTO restock SELECT item, 10 - quantity FROM shelf WHERE quantity < 3;
