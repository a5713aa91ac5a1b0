-- The yardstick median_time_under times next to the scenario's query: a fixed amount of pure
-- CPU work in the server (hash 50,000 numbers), touching no table, so only the machine's
-- speed and how much of a CPU the server gets right now change its time. On the machine
-- where the course's time limits were set (2 cores, idle) it costs 16 ms of CPU.
SELECT pg_catalog.sum(pg_catalog.length(pg_catalog.md5(g::pg_catalog.text)))
FROM pg_catalog.generate_series(1, 50000) AS g
