-- A typo: the statement fails, is reported with its line, and the rest still runs.
SELEC id FROM products;
-- pgdrill-test: the reference solution follows
