"""The learner role cannot escalate; the grader role cannot be fooled; the tasks still work."""

from __future__ import annotations

import time

import psycopg
import pytest

from pgdrill.fixtures.sandbox import GRADER, LEARNER


@pytest.fixture
def clone(make_clone):
    return make_clone(fixture="empty")


@pytest.fixture
def learner(clone):
    with clone.connect(LEARNER, purpose="test-learner") as conn:
        yield conn


ESCALATIONS = {
    "copy to program": "COPY (SELECT 1) TO PROGRAM 'id'",
    "copy from file": "COPY pg_temp.x FROM '/etc/passwd'",
    "read a server file": "SELECT pg_catalog.pg_read_file('/etc/passwd')",
    "list a server directory": "SELECT pg_catalog.pg_ls_dir('/')",
    "alter system": "ALTER SYSTEM SET work_mem = '1GB'",
    "become superuser": "SET ROLE postgres",
    "create a role": "CREATE ROLE sneaky SUPERUSER",
    "create a database": "CREATE DATABASE sneaky",
    "untrusted extension dblink": "CREATE EXTENSION dblink",
    "untrusted extension file_fdw": "CREATE EXTENSION file_fdw",
    "C function": "CREATE FUNCTION f() RETURNS int AS '/lib/x86_64-linux-gnu/libc.so.6', 'getpid' LANGUAGE C",
    "raise temp_file_limit": "SET temp_file_limit = -1",
    "import a large object from a file": "SELECT pg_catalog.lo_import('/etc/passwd')",
}


@pytest.mark.parametrize("statement", ESCALATIONS.values(), ids=ESCALATIONS.keys())
def test_learner_cannot_escalate(learner, statement):
    if "pg_temp.x" in statement:
        learner.execute("CREATE TEMP TABLE x (line text)")
    with pytest.raises(psycopg.Error) as info:
        learner.execute(statement)
    assert info.value.sqlstate in ("42501", "58P01", "0A000"), (info.value.sqlstate, str(info.value))
    if statement.startswith("CREATE EXTENSION"):
        # Refused for lack of privilege, not merely because the extension is missing here.
        assert info.value.sqlstate in ("42501", "58P01")


def test_learner_cannot_drop_or_stop_others(clone, learner, pg_server):
    with pytest.raises(psycopg.Error) as info:
        learner.execute(psycopg.sql.SQL("DROP DATABASE {}").format(psycopg.sql.Identifier(clone.dbname)))
    assert info.value.sqlstate in ("42501", "55006")
    with pg_server.connect(clone.dbname, purpose="victim") as admin:
        pid = admin.info.backend_pid
        with pytest.raises(psycopg.Error) as info:
            learner.execute("SELECT pg_catalog.pg_terminate_backend(%s)", (pid,))
        assert info.value.sqlstate == "42501"
        assert admin.execute("SELECT 1").fetchone() == (1,)


def test_learner_role_attributes(learner):
    row = learner.execute(
        "SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolbypassrls, "
        "  pg_catalog.pg_has_role(r.oid, 'pg_read_server_files', 'MEMBER'), "
        "  pg_catalog.pg_has_role(r.oid, 'pg_write_server_files', 'MEMBER'), "
        "  pg_catalog.pg_has_role(r.oid, 'pg_execute_server_program', 'MEMBER'), "
        "  pg_catalog.pg_has_role(r.oid, 'pg_monitor', 'MEMBER'), "
        "  pg_catalog.current_setting('statement_timeout') "
        "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user").fetchone()
    assert row[:7] == (False, False, False, False, False, False, False)
    assert row[7] is True  # pg_monitor: every session in pg_stat_activity, pg_stat_statements
    assert row[8] != "0"


def test_learner_has_what_the_tasks_need(clone, learner, pg_server):
    learner.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    learner.execute("INSERT INTO t SELECT g, g::text FROM generate_series(1, 100) g")
    learner.execute("VACUUM ANALYZE t")
    learner.execute("REINDEX TABLE t")
    learner.execute("CREATE INDEX CONCURRENTLY t_v ON t (v)")
    learner.execute("SELECT public.bt_index_check('t_pkey', true)")
    learner.execute("CREATE EXTENSION pg_trgm")  # trusted: the trigram index of Task 4.1
    with pg_server.connect(clone.dbname, purpose="someone-else") as other:
        other.execute("SELECT pg_catalog.pg_sleep(0)")
        seen = learner.execute("SELECT count(*) FROM pg_catalog.pg_stat_activity "
                               "WHERE query IS NOT NULL AND usename = 'postgres'").fetchone()[0]
    assert seen >= 1
    # The server log, through one narrow function (no general file access): the DDL above is
    # logged (log_statement = ddl) with this database's name, so the learner can read it back.
    if pg_server.kind != "dsn":
        deadline = time.monotonic() + 10
        while True:
            lines = [r[0] for r in learner.execute("SELECT line FROM incident_tools.server_log(200) AS line")]
            if any("CREATE TABLE t" in line for line in lines) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert any("CREATE TABLE t" in line for line in lines), lines[-5:]


def test_grader_search_path_cannot_be_shadowed(clone, learner):
    learner.execute("CREATE VIEW public.pg_class AS SELECT 'fake'::text AS relname")
    learner.execute("CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT 'epoch'::timestamptz $$")
    with clone.connect(GRADER, purpose="grader") as grader:
        assert grader.execute("SHOW search_path").fetchone()[0] == "pg_catalog, pg_temp"
        assert grader.execute("SELECT count(*) > 10 FROM pg_class").fetchone()[0] is True
        assert grader.execute("SELECT now() > '2000-01-01'").fetchone()[0] is True
        row = grader.execute("SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user").fetchone()
        assert row == (False,)


def test_learner_may_end_the_applications_sessions_only(clone, learner, pg_server):
    with clone.connect("techshop_app", purpose="app") as app, clone.connect(GRADER, purpose="grader") as grader:
        with pytest.raises(psycopg.Error) as info:
            learner.execute("SELECT pg_catalog.pg_terminate_backend(%s)", (grader.info.backend_pid,))
        assert info.value.sqlstate == "42501"
        assert learner.execute("SELECT pg_catalog.pg_terminate_backend(%s)", (app.info.backend_pid,)).fetchone() == (True,)
        assert grader.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("role", [LEARNER, GRADER, "techshop_app"])
@pytest.mark.parametrize("dbname", ["postgres", "template1"])
def test_the_maintenance_databases_are_closed_to_every_non_superuser_role(clone, role, dbname):
    """CONNECT is revoked from PUBLIC there: a learner (or a program given any of these
    roles) cannot park sessions or objects where no exercise looks."""
    with clone.connect(purpose="test-inspect") as admin:
        admin.execute("SELECT 1")  # the superuser still gets in (the server is up)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        clone.server.connect(dbname, role, purpose="test", retries=1).close()


def _log_lines(server, dbname: str, wanted: str, *, present: bool = True) -> list[str]:
    """The learner's server_log(), polled until a line containing ``wanted`` shows (the logging
    collector writes on its own schedule)."""
    deadline = time.monotonic() + 10
    with server.connect(dbname, LEARNER, purpose="log-reader") as conn:
        while True:
            lines = [r[0] for r in conn.execute("SELECT line FROM incident_tools.server_log(5000) AS line")]
            if not present or any(wanted in line for line in lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.1)


def test_the_log_of_a_database_starts_when_it_was_made(make_clone, pg_server, templates):
    """A lab reset drops the database and clones it again under the same name: the lines of
    the database before it (the sessions the reset terminated, an earlier run's refusals) are
    not this database's story, and 1.2's log query must not count them."""
    if pg_server.kind == "dsn":
        pytest.skip("the log reader needs the server's own log file")
    first = make_clone(fixture="empty")
    name = first.dbname
    with pg_server.connect(name, LEARNER, purpose="before") as conn:
        conn.execute("DO $$BEGIN RAISE LOG 'pgdrill-test: written before the reset'; END$$")
        # a forged start line, without the secret number, starts nothing
        conn.execute("DO $$BEGIN RAISE LOG 'this database starts here: 1'; END$$")
    assert any("written before the reset" in line for line in _log_lines(pg_server, name, "written before the reset"))
    first.drop()
    again = make_clone(fixture="empty", name=name)
    with pg_server.connect(name, LEARNER, purpose="after") as conn:
        conn.execute("DO $$BEGIN RAISE LOG 'pgdrill-test: written after the reset'; END$$")
        # the number behind the start is the superuser's alone: PostgreSQL 18 answers NULL
        # to a role without the right, earlier versions refuse
        try:
            assert conn.execute("SELECT pg_catalog.pg_sequence_last_value('incident_tools.log_start')"
                                ).fetchone() == (None,)
        except psycopg.errors.InsufficientPrivilege:
            pass
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT last_value FROM incident_tools.log_start")
    # the start is the superuser's own business: nothing of it reaches pg_stat_statements
    with pg_server.connect(name, LEARNER, purpose="after") as conn:
        seen = conn.execute("SELECT count(*) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                            "WHERE d.datname = current_database() AND s.query ~ ('log_' || 'start|starts ' || 'here')"
                            ).fetchone()[0]  # split: the server may log this very statement (slow under load)
    assert seen == 0
    lines = _log_lines(pg_server, again.dbname, "written after the reset")
    assert any("written after the reset" in line for line in lines), lines[-5:]
    assert not any("written before the reset" in line or "starts here" in line for line in lines), lines
