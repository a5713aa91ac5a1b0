-- Course 4: summing up with GROUP BY.
-- Each answer is one SELECT, preceded by its name on a line of its own:
--
--   -- name: revenue_by_category
--   SELECT …;
--
-- Grade yourself with:  python grade.py -e course-04-aggregation

-- name: revenue_by_category


-- name: orders_per_employee


-- name: loyal_customers


-- name: orders_per_month_1997


-- name: average_order_value

