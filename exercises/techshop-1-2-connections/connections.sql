-- 1.2 Check active connections. Explore first:  python grade.py lab up  &&  python grade.py lab psql
-- Write each query right under its -- name: line. Diagnose only: do not terminate anything.
-- Grade yourself:  python grade.py -e techshop-1-2-connections

-- The application's (techshop_app) connections to this database, by state: state, connections.
-- name: app_connections


-- Every statement running in this database except yours, oldest first: pid, usename, application_name, …
-- name: long_running


-- Sessions idle in an open transaction: pid, usename, application_name, …
-- name: idle_in_transaction


-- Who blocks whom: blocked_pid, blocking_pid.
-- name: blocking


-- This database's FATAL lines from the server log (incident_tools.server_log()), unchanged.
-- name: connection_errors

