-- Run a shell command, write a server file, read a server file.
COPY (SELECT 1) TO PROGRAM 'touch /tmp/pgdrill-hostile-copy-program';
COPY order_items FROM PROGRAM 'cat /etc/passwd';
COPY order_items TO '/tmp/pgdrill-hostile-copy-file';
-- pgdrill-test: the reference solution follows
