-- Reference solution for techshop-1-2-connections.

-- name: app_connections
SELECT state, count(*) AS connections
FROM pg_stat_activity
WHERE datname = current_database()
  AND usename = 'techshop_app'
GROUP BY state
ORDER BY connections DESC;

-- Running statements, oldest first; durations shown, not used to filter.
-- name: long_running
SELECT pid, usename, application_name,
       now() - query_start AS running_for,
       wait_event_type, wait_event,
       left(regexp_replace(query, '\s+', ' ', 'g'), 60) AS query
FROM pg_stat_activity
WHERE datname = current_database()
  AND backend_type = 'client backend'
  AND state = 'active'
  AND pid <> pg_backend_pid()
ORDER BY query_start, pid;

-- name: idle_in_transaction
SELECT pid, usename, application_name,
       now() - xact_start   AS transaction_open_for,
       now() - state_change AS idle_for,
       left(regexp_replace(query, '\s+', ' ', 'g'), 60) AS last_statement
FROM pg_stat_activity
WHERE datname = current_database()
  AND state LIKE 'idle in transaction%'
ORDER BY xact_start;

-- One row per lock wait, with what each side is doing.
-- name: blocking
SELECT waiting.pid        AS blocked_pid,
       blocker.pid        AS blocking_pid,
       blocker.state      AS blocking_state,
       now() - waiting.query_start AS waiting_for,
       left(regexp_replace(waiting.query, '\s+', ' ', 'g'), 60) AS blocked_statement
FROM pg_stat_activity AS waiting
CROSS JOIN LATERAL unnest(pg_blocking_pids(waiting.pid)) AS b(pid)
JOIN pg_stat_activity AS blocker ON blocker.pid = b.pid
WHERE waiting.datname = current_database();

-- The server's log is shared by every database: keep this one's FATAL lines.
-- name: connection_errors
SELECT line
FROM incident_tools.server_log(5000) AS line
WHERE position('@' || current_database() || ' FATAL:' IN line) > 0;
