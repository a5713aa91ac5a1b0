-- Course 6: updating and deleting without making things worse.
-- setup.sql in this folder shows what went wrong. Fix it here:
--   1. put every product's price back to what it was before the script ran;
--   2. delete the order lines whose order does not exist — and nothing else.
-- Look before you change: run each WHERE as a SELECT first, and wrap each change in
-- BEGIN … COMMIT.
--
-- Grade yourself with:  python grade.py -e course-06-update-delete

