#!/usr/bin/env bash
# Everything a backup script must not be able to do. Placeholders (CANARY_DIR, CANARY_TMP,
# POSTMASTER_PID, LISTENER_PORT, MAIN_SOCKET) are filled in by tests/test_hostile.py with
# harmless targets of the test's own: a root-owned folder, a loopback port it listens on,
# the PID of its own throwaway server.
echo "running as $(id -un)"
rm -rf ~ "CANARY_DIR/keep-me" 2>&1 | head -3
echo pwned > "CANARY_DIR/written" 2>&1
cat /etc/shadow > "$BACKUP_DIR/shadow.txt" 2>&1 || echo "could not read /etc/shadow"
kill -9 POSTMASTER_PID 2>&1 || echo "could not signal the postmaster"
(exec 3<>/dev/tcp/127.0.0.1/LISTENER_PORT && echo "GET / HTTP/1.0" >&3) 2>&1 || echo "no network"
psql -X -h MAIN_SOCKET -U postgres -d postgres -c "ALTER ROLE pgdrill_grader SUPERUSER" 2>&1 | tail -1
psql -X -U postgres -d postgres -c "ALTER ROLE pgdrill_grader SUPERUSER" 2>&1 | tail -1
psql -X -U learner -c "DROP TABLE public.film CASCADE" 2>&1 | tail -1
psql -X -c "CREATE TABLE public.loot (x int)" 2>&1 | tail -1
touch CANARY_TMP 2>&1
# As the role the script is given (made for this run), store settings on the grader role: aim
# the grader's next sessions at schema public first, switch their timeouts off, fake plans.
psql -X <<'SQL' 2>&1 | tail -2
ALTER ROLE pgdrill_grader SET search_path = public, pg_catalog;
ALTER ROLE pgdrill_grader SET statement_timeout = 0;
ALTER ROLE pgdrill_grader SET enable_seqscan = off;
ALTER ROLE pgdrill_grader SET "TimeZone" = 'Pacific/Kiritimati';
SQL
exit 1
