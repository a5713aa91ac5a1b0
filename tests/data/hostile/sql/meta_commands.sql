-- psql meta-commands that reach the shell or the file system.
\! touch CANARY_DIR/shell
\o CANARY_DIR/output
\w CANARY_DIR/buffer
\copy order_items TO 'CANARY_DIR/copy'
\i /etc/passwd
\c postgres postgres
\setenv PGUSER postgres
-- pgdrill-test: the reference solution follows
