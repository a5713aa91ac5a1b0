-- Course 2: asking the database questions.
-- Each answer is one SELECT, preceded by its name on a line of its own, like this:
--
--   -- name: brazil_customers
--   SELECT …;
--
-- Grade yourself with:  python grade.py -e course-02-querying

-- name: brazil_customers


-- name: long_jazz_tracks


-- name: tracks_without_composer


-- name: love_songs


-- name: top_artists

