-- TechShop Task 4.4, part 1: your Phase 4 fixes, in the order they must run.
-- Paste (or rewrite) your solutions of Tasks 4.1 (indexes), 4.2 (clean-up) and
-- 4.3 (maintenance) here. The grader runs this file first, then verify.sql.

