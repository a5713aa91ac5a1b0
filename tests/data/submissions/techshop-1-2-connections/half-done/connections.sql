-- Half done: connections by state and the idle transaction are right; the long-running
-- list forgets to leave out the session asking; the blocker and the log are not done yet.

-- name: app_connections
SELECT state, count(*) AS connections
FROM pg_stat_activity
WHERE datname = current_database() AND usename = 'techshop_app'
GROUP BY state;

-- name: long_running
SELECT pid, usename, application_name, now() - query_start AS running_for
FROM pg_stat_activity
WHERE datname = current_database() AND state = 'active'
ORDER BY query_start;

-- name: idle_in_transaction
SELECT pid, usename, application_name
FROM pg_stat_activity
WHERE datname = current_database() AND state = 'idle in transaction';
