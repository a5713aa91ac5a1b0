-- The learner owns schema public, so this really drops every table of the shop.
DROP SCHEMA public CASCADE;
