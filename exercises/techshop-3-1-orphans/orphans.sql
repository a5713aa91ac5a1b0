-- TechShop 3.1: find the orphaned records.
-- Explore first:  python grade.py lab up  &&  python grade.py lab psql
--
-- Write three queries, each directly below its name line (keep the name lines as they are):
--   orphan_order_items           order lines whose order no longer exists (all columns of order_items)
--   orders_without_customers     orders whose customer no longer exists   (all columns of orders)
--   products_without_categories  products whose category does not exist   (all columns of products)
--
-- Grade yourself:  python grade.py -e techshop-3-1-orphans

-- name: orphan_order_items


-- name: orders_without_customers


-- name: products_without_categories

