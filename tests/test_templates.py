"""Template databases and their clones: built once, cloned fast, identical, and cleaned up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from psycopg import sql


ROOT = Path(__file__).resolve().parents[1]

TABLES = """
SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1
"""
TABLE_DIGEST = "SELECT count(*), md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) FROM {} t"

CATALOG = """
SELECT c.relname, c.relkind, pg_catalog.pg_get_userbyid(c.relowner), c.reloptions::text,
       coalesce(pg_catalog.pg_get_indexdef(i.indexrelid), ''), coalesce(i.indisvalid, true)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
WHERE n.nspname = 'public' ORDER BY 1
"""


def _snapshot(server, dbname):
    with server.connect(dbname, purpose="test") as conn:
        digests = [
            (name, *conn.execute(sql.SQL(TABLE_DIGEST).format(sql.Identifier("public", name))).fetchone())
            for (name,) in conn.execute(TABLES).fetchall()
        ]
        return digests, conn.execute(CATALOG).fetchall()


def test_clone_equals_the_template(pg_server, templates, incident_key):
    tmpl = templates.template(incident_key)
    ident = sql.Identifier(tmpl.dbname)
    with pg_server.connect(purpose="test") as admin:
        flags = admin.execute("SELECT datistemplate, datallowconn FROM pg_catalog.pg_database WHERE datname = %s",
                              (tmpl.dbname,)).fetchone()
        assert flags == (True, False)  # nobody (not even autovacuum) can hold the template open
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(ident))
    try:
        original = _snapshot(pg_server, tmpl.dbname)
    finally:
        with pg_server.connect(purpose="test") as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(ident))
    with templates.clone(incident_key, replay=False) as clone:
        assert _snapshot(pg_server, clone.dbname) == original
    with templates.clone(incident_key) as replayed:  # the replay changes counters, not rows
        assert _snapshot(pg_server, replayed.dbname)[0] == original[0]


def test_clone_is_dropped_and_template_reused(pg_server, templates, incident_key):
    first = templates.template(incident_key)
    clone = templates.clone(incident_key)
    name = clone.dbname
    clone.drop()
    assert templates.template(incident_key) is first  # built once, reused
    with pg_server.connect(purpose="test") as admin:
        assert admin.execute("SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s", (name,)).fetchone() is None


def test_clone_carries_the_learner_settings(templates, incident_key, make_clone):
    """Role settings survive cloning (ALTER DATABASE … SET would not)."""
    clone = make_clone()
    with clone.connect("learner", purpose="test") as conn:
        assert conn.execute("SHOW statement_timeout").fetchone()[0] != "0"
        owner = conn.execute("SELECT pg_catalog.pg_get_userbyid(relowner) FROM pg_catalog.pg_class "
                             "WHERE relname = 'products'").fetchone()[0]
        assert owner == "learner"


def test_a_session_leaves_nothing_running_or_on_disk(tmp_path):
    """A whole pytest session (server, template, clones) leaves no process and no file behind."""
    probe = tmp_path / "test_probe.py"
    record = tmp_path / "record.json"
    probe.write_text(textwrap.dedent(f"""
        import json
        def test_use_everything(pg_server, make_clone):
            clone = make_clone(fixture="empty")
            with clone.connect("learner") as conn:
                conn.execute("CREATE TABLE t AS SELECT 1 AS x")
            pid = int((pg_server.data_dir / "postmaster.pid").read_text().split()[0])
            open({str(record)!r}, "w").write(json.dumps({{"base": str(pg_server.base_dir), "pid": pid}}))
    """))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # The probe lives outside the repository: load our conftest as a plugin.
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "pgdrill.pytest_plugin",
                           "-p", "conftest",
                           "--rootdir", str(tmp_path), str(probe)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    info = json.loads(record.read_text())
    assert not Path(info["base"]).exists()
    # The postmaster removes its pid file just before it exits: allow a moment, and make sure a
    # process found under that PID is still ours (PIDs are reused on a busy machine).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            cmdline = Path(f"/proc/{info['pid']}/cmdline").read_bytes()
        except OSError:
            break
        if info["base"].encode() not in cmdline:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"postmaster {info['pid']} of {info['base']} is still running")


def test_pg_stat_statements_shows_no_build_no_grader_and_no_dropped_clone(pg_server, templates, incident_key):
    """The planting SQL, the grader's reference queries and earlier clones' statements are answers."""
    if pg_server.kind == "dsn":
        pytest.skip("an existing server may not preload pg_stat_statements")
    with templates.clone(incident_key) as first:
        with first.connect("pgdrill_grader", purpose="grader") as grader:
            grader.execute("SELECT 4242 AS secret_reference_answer")
        with first.connect("learner", purpose="learner") as learner:
            learner.execute("SELECT 'first learner statement' AS x")
    with templates.clone(incident_key) as second:
        with second.connect("learner", purpose="learner") as learner:
            texts = " ".join(r[0] for r in learner.execute("SELECT query FROM pg_stat_statements"))
    assert "planted" not in texts and "session_replication_role" not in texts
    assert "DROP CONSTRAINT" not in texts
    assert "secret_reference_answer" not in texts
    assert "first learner statement" not in texts
    assert "like" in texts.lower()  # the application's replayed name search is there to be found
