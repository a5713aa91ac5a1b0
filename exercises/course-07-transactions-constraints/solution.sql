-- Course 7: let the database say no.
-- Add the constraints the README asks for. Wrap changes that belong together in
-- BEGIN … COMMIT, so that a failure half-way leaves the schema as it was.
--
-- Grade yourself with:  python grade.py -e course-07-transactions-constraints

