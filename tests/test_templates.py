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


SNAPSHOT_LAYOUT = (
    "SELECT pg_catalog.md5(pg_catalog.string_agg(ctid::text || ':' || xmin::text, ',' ORDER BY ctid)), "
    "pg_catalog.count(*), pg_catalog.pg_relation_size(%(table)s::regclass), "
    "pg_catalog.max(pg_catalog.pg_xact_commit_timestamp(xmin))::text FROM public.{}")
SNAPSHOT_PLANNER_STATS = (
    "SELECT tablename, attname, null_frac, n_distinct, most_common_vals::text FROM pg_catalog.pg_stats "
    "WHERE schemaname = 'public' ORDER BY 1, 2")
SNAPSHOT_COUNTERS = (
    "SELECT relname, n_tup_upd, n_dead_tup, seq_scan FROM pg_catalog.pg_stat_user_tables ORDER BY relname")


def _physical_state(server, dbname: str) -> tuple:
    time.sleep(1.1)  # counters of a replay's last statements are published within a second
    with server.connect(dbname, purpose="test") as conn:
        layout = [conn.execute(sql.SQL(SNAPSHOT_LAYOUT).format(sql.Identifier(t)), {"table": t}).fetchone()
                  for t in ("orders", "products", "order_items")]
        planner = conn.execute(SNAPSHOT_PLANNER_STATS).fetchall()
        counters = conn.execute(SNAPSHOT_COUNTERS).fetchall()
    return layout, planner, counters


def test_a_snapshot_baseline_is_the_learners_starting_state_without_its_counters(pg_server, templates, incident_key):
    """``TemplateCache.snapshot`` copies a replayed clone before anything touches it: the
    grader's baseline then holds the learner's starting state itself — every row version where
    it lies (ctid and xmin), the same relation sizes, planner statistics and commit times —
    but, copied to a new database OID, none of its cumulative statistics. That is why an
    exercise whose baseline references read pg_stat_* gets a replayed baseline instead
    (``grading.baseline_reads_counters``)."""
    clone = templates.clone(incident_key)
    try:
        copy = templates.snapshot(clone)
        try:
            assert copy.dbname != clone.dbname
            learner_layout, learner_planner, learner_counters = _physical_state(pg_server, clone.dbname)
            copy_layout, copy_planner, copy_counters = _physical_state(pg_server, copy.dbname)
            assert copy_layout == learner_layout and copy_planner == learner_planner
            assert all(row[3] is not None for row in copy_layout)  # the replay's commits are dated
            # The counters are the clone's alone: the replay's row versions are counted there, not in the copy.
            assert any(row[1] > 0 and row[2] > 0 for row in learner_counters)
            assert all(row[1:] == (0, 0, 0) for row in copy_counters)
            with pg_server.connect(purpose="test") as conn:
                grants = conn.execute(
                    "SELECT r.rolname FROM pg_catalog.pg_roles r WHERE pg_catalog.has_database_privilege(r.oid, %s, "
                    "'CONNECT') AND r.rolname IN ('learner', 'pgdrill_grader') ORDER BY 1", (copy.dbname,)).fetchall()
            assert grants == [("learner",), ("pgdrill_grader",)]
        finally:
            copy.drop()
    finally:
        clone.drop()
    with pg_server.connect(purpose="test") as conn:
        assert conn.execute("SELECT pg_catalog.count(*) FROM pg_catalog.pg_database WHERE datname = ANY(%s)",
                            ([clone.dbname, copy.dbname],)).fetchone() == (0,)


def test_a_baseline_is_replayed_only_where_its_counters_are_read(tmp_path):
    """The exercises whose baseline references read cumulative statistics (Tasks 2.2 and 2.3)
    get a replayed baseline; the others a snapshot. A check's default ``against`` counts: a
    report check compares with the baseline unless told otherwise."""
    from pgdrill import checks
    from pgdrill.grading import baseline_reads_counters
    from pgdrill.spec import load_all_specs, load_spec

    known = checks.load_all()
    counting = {s.id for s in load_all_specs(ROOT, known) if baseline_reads_counters(s)}
    assert counting == {"techshop-2-2-index-usage", "techshop-2-3-statistics-bloat"}

    def spec_with(check: str) -> object:
        folder = tmp_path / f"toy-counters-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        (folder / "exercise.yaml").write_text(textwrap.dedent(f"""\
            id: {folder.name}
            title: Toy
            incident: {{fixture: techshop, scale: 0.05, seed: 7}}
            files: [{{path: a.sql, run: sql}}, {{path: REPORT.md, run: none}}]
            checks:
            {textwrap.indent(textwrap.dedent(check), "  ")}
            """))
        return load_spec(folder / "exercise.yaml", known)

    graded = "- {id: a, check: rows_match, points: 1, description: d, with: {query: q, reference: SELECT n_dead_tup FROM pg_stat_user_tables}}"
    based = "- {id: a, check: rows_match, points: 1, description: d, with: {query: q, against: baseline, reference: SELECT n_dead_tup FROM pg_stat_user_tables}}"
    rows = "- {id: a, check: rows_match, points: 1, description: d, with: {query: q, against: baseline, reference: SELECT id FROM orders}}"
    report = ("- {id: a, check: report_mentions_numbers, points: 1, description: d, with: {path: REPORT.md, "
              "facts: {dead tuples: SELECT sum(n_dead_tup) FROM pg_stat_user_tables}}}")
    assert not baseline_reads_counters(spec_with(graded))
    assert baseline_reads_counters(spec_with(based))
    assert not baseline_reads_counters(spec_with(rows))
    assert baseline_reads_counters(spec_with(report))
