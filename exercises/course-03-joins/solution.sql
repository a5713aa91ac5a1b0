-- Course 3: combining tables with JOIN.
-- Each answer is one SELECT, preceded by its name on a line of its own:
--
--   -- name: film_cast
--   SELECT …;
--
-- Grade yourself with:  python grade.py -e course-03-joins

-- name: film_cast


-- name: films_not_in_stock


-- name: open_rentals


-- name: canadian_customers

