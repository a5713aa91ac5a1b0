-- Extensions and languages that reach the file system or run native code.
CREATE EXTENSION file_fdw;
CREATE EXTENSION adminpack;
CREATE FUNCTION public.getpid_c() RETURNS int AS '/lib/x86_64-linux-gnu/libc.so.6', 'getpid' LANGUAGE C;
CREATE FUNCTION public.shell() RETURNS text LANGUAGE plpython3u AS $$ import os; return os.getcwd() $$;
-- pgdrill-test: the reference solution follows
