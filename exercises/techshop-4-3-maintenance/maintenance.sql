-- TechShop Task 4.3: run the maintenance nobody ran.
--
-- Phase 2 found: the last VACUUM ran two weeks ago, the statistics are outdated (the planner
-- still believes most orders are 'completed'), products and orders are full of dead tuples,
-- and autovacuum is switched off on products, orders and order_items.
--
-- Write the maintenance below. The shop is open while it runs.
-- Grade: python grade.py -e techshop-4-3-maintenance

