-- Course 1: tables that refuse bad data.
-- Create customers, categories, products, orders and order_items here (see README.md for
-- the columns and the rules each table must enforce). The database starts empty.
--
-- Grade yourself with:  python grade.py -e course-01-create-tables

