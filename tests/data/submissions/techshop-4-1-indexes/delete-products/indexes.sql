-- Wrong on purpose: "the queries are fast now" — because most of the data is gone.
DELETE FROM order_items WHERE product_id > 100;
DELETE FROM products WHERE id > 100;
VACUUM FULL order_items;
VACUUM FULL products;
