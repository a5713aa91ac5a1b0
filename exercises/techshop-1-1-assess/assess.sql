-- 1.1 Connect and assess. Explore first:  python grade.py lab up  &&  python grade.py lab psql
-- Then write the three queries below, each right under its -- name: line.
-- Grade yourself:  python grade.py -e techshop-1-1-assess

-- The size of the database you are connected to (one value).
-- name: database_size


-- Every table of schema public: table_name, total_bytes (a number), largest first.
-- name: table_sizes


-- The exact number of rows of each of the five tables: table_name, row_count.
-- name: row_counts

