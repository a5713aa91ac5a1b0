-- Course 9: views for the business and for the DBA.
-- Create the three views the README describes. The two SELECTs at the end let the grader
-- see what your views return; keep them (after your CREATE VIEW statements).
--
-- Grade yourself with:  python grade.py -e course-09-views-monitoring

-- CREATE VIEW product_sales AS …;

-- CREATE VIEW table_sizes AS …;

-- CREATE VIEW long_running_queries AS …;


-- name: product_sales
SELECT * FROM product_sales;

-- name: table_sizes
SELECT * FROM table_sizes;
