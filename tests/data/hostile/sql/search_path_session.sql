-- pgdrill-test: the reference solution follows
-- Change the path in the file itself: only this file's own session sees it.
CREATE SCHEMA decoy;
CREATE TABLE decoy.order_items (id int);
SET search_path = decoy, public;
-- The named query now reads the decoy table (empty): the learner's own mistake.
SELECT count(*) FROM order_items;
