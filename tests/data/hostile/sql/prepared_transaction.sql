-- A prepared transaction would keep its locks after the session ends.
BEGIN;
LOCK TABLE products IN ACCESS EXCLUSIVE MODE;
PREPARE TRANSACTION 'keep_the_lock';
-- pgdrill-test: the reference solution follows
