-- A perturbed copy of Northwind for grading course-09: every product of the real sample has
-- been sold, so an inner join to order_details happens to keep them all. Here a new product
-- nobody has bought yet must still appear, with 0 units and 0 revenue.
INSERT INTO products (product_id, product_name, category_id, unit_price, units_in_stock, discontinued)
SELECT max(product_id) + 1, 'Perturbed Preserves', (SELECT min(category_id) FROM categories), 12.5, 40, 0
FROM products;
