-- Open a second connection (as anyone) from inside the database.
CREATE EXTENSION dblink;
SELECT dblink_connect('host=/tmp user=postgres dbname=postgres');
-- pgdrill-test: the reference solution follows
