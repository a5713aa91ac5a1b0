-- Wrong on purpose: no index at all, just a stored planner setting that makes EXPLAIN in the
-- learner's own sessions look "indexed" (it cannot: there is nothing to use but the seq scan,
-- which is now merely "disabled").
ALTER ROLE learner SET enable_seqscan = off;
ALTER ROLE learner SET random_page_cost = 0.01;
