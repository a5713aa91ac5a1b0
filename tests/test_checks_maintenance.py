"""Maintenance checks against real cumulative statistics (autovacuum kept off the test tables)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgdrill.checks import catalog, maintenance
from pgdrill.checks.base import CheckContext

DATA = """
CREATE TABLE busy (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false);
CREATE TABLE quiet (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false);
INSERT INTO busy SELECT i, i FROM generate_series(1, 2000) i;
INSERT INTO quiet SELECT i, i FROM generate_series(1, 2000) i;
"""


class DB:
    def __init__(self, clone):
        self.clone = clone
        self.learner = clone.connect("learner", purpose="test-learner")
        self.grader = clone.connect("pgdrill_grader", purpose="test-grader")
        self.learner.execute(DATA)
        self.flush()
        self.setup_at = self.grader.execute("SELECT pg_catalog.now()::text").fetchone()[0]

    def ctx(self, stats_wait: float = 2.0) -> CheckContext:
        return CheckContext(exercise_id="t", exercise_dir=Path("."), submission_dir=Path("."),
                            manifest={"faults": []}, grader=lambda: self.grader, learner=lambda: self.learner,
                            setup_finished_at=self.setup_at, stats_wait=stats_wait)

    def run(self, statement: str) -> None:
        self.learner.execute(statement)

    def flush(self) -> None:
        """Publish the learner backend's pending counters now (PostgreSQL 15+)."""
        self.learner.execute("SELECT pg_catalog.pg_stat_force_next_flush()")
        self.learner.execute("SELECT 1")

    def close(self):
        self.learner.close()
        self.grader.close()


@pytest.fixture
def db(make_clone):
    d = DB(make_clone(fixture="empty"))
    yield d
    d.close()


def test_statistics_fresh_after_analyze(db):
    ctx = db.ctx(stats_wait=0.2)
    out = maintenance.statistics_fresh(ctx, tables=["busy", "quiet"])
    assert not out.passed and "never (in this database)" in out.message and out.score == 0
    db.run("ANALYZE busy")
    out = maintenance.statistics_fresh(ctx, tables=["busy", "quiet"])
    assert not out.passed and out.score == pytest.approx(0.5) and "public.quiet" in out.message
    db.run("VACUUM ANALYZE quiet")
    out = maintenance.statistics_fresh(ctx, tables=["busy", "quiet"])
    assert out.passed, out.message
    assert maintenance.statistics_fresh(ctx, tables="busy", since=None).passed


def test_statistics_fresh_modification_ratio(db):
    db.run("ANALYZE busy")
    later = db.grader.execute("SELECT (pg_catalog.now() + interval '1 hour')::text").fetchone()[0]
    ctx = db.ctx(stats_wait=0.2)
    # analyzed before "since", but nothing changed since: fresh unless strictly required
    assert maintenance.statistics_fresh(ctx, tables="busy", since=later).passed
    assert not maintenance.statistics_fresh(ctx, tables="busy", since=later, max_mod_ratio=None).passed
    db.run("UPDATE busy SET v = v + 1 WHERE id <= 1000")
    db.flush()
    out = maintenance.statistics_fresh(ctx, tables="busy", since=later)
    assert not out.passed and "1000 rows modified since" in out.message
    assert maintenance.statistics_fresh(ctx, tables="busy", since=later, max_mod_ratio=0.6).passed


def test_statistics_fresh_waits_for_lagging_counters(db):
    """An ANALYZE another session runs while the check is waiting is picked up."""
    import threading

    timer = threading.Timer(0.5, lambda: db.clone.connect("learner").execute("ANALYZE quiet").connection.close())
    timer.start()
    try:
        out = maintenance.statistics_fresh(db.ctx(stats_wait=5), tables="quiet")
    finally:
        timer.join()
    assert out.passed, out.message


def test_missing_tables_fail_cleanly(db):
    db.run("ANALYZE busy")
    out = maintenance.statistics_fresh(db.ctx(stats_wait=0), tables=["busy", "gone"])
    assert not out.passed and "public.gone does not exist" in out.message and out.score == pytest.approx(0.5)
    out = maintenance.dead_tuples_below(db.ctx(stats_wait=0), tables=["gone"])
    assert not out.passed and out.score == 0
    with pytest.raises(ValueError):
        maintenance.dead_tuples_below(db.ctx(), tables=["busy"], source="guess")


def test_dead_tuples_from_statistics_and_pgstattuple(db):
    db.run("UPDATE busy SET v = v + 1")
    db.flush()
    for source in ("stats", "pgstattuple", "auto"):
        out = maintenance.dead_tuples_below(db.ctx(stats_wait=0.5), tables=["busy", "quiet"], source=source)
        assert not out.passed, (source, out.message)
        assert "public.busy: 50% dead (2000 dead of 4000" in out.message, (source, out.message)
        assert out.score == pytest.approx(0.5)
        assert maintenance.dead_tuples_below(db.ctx(stats_wait=0), tables="busy", ratio=0.6, source=source).passed
    db.run("VACUUM busy")
    for source in ("stats", "pgstattuple", "auto"):
        out = maintenance.dead_tuples_below(db.ctx(stats_wait=0.5), tables=["busy", "quiet"], source=source)
        assert out.passed, (source, out.message)


def test_dead_tuples_measured_on_disk_when_counters_are_empty(db):
    """A fresh clone has no counters; the bloat copied from the template is real all the same."""
    db.run("UPDATE busy SET v = v + 1")
    db.run("ANALYZE busy")  # relpages > 0
    db.flush()
    with db.clone.connect() as su:
        su.execute("SELECT pg_catalog.pg_stat_reset_single_table_counters('public.busy'::regclass)")
    stats_only = maintenance.dead_tuples_below(db.ctx(stats_wait=0), tables="busy", source="stats")
    assert not stats_only.passed and "no statistics yet" in stats_only.message  # the counters know nothing
    out = maintenance.dead_tuples_below(db.ctx(stats_wait=0), tables="busy")
    assert not out.passed and "pgstattuple" in out.message


def test_vacuumed_since(db):
    ctx = db.ctx(stats_wait=0.2)
    assert not maintenance.vacuumed_since(ctx, tables=["busy"]).passed
    db.run("VACUUM busy")
    assert maintenance.vacuumed_since(ctx, tables=["busy"]).passed
    out = maintenance.vacuumed_since(ctx, tables=["busy", "quiet"])
    assert not out.passed and out.score == pytest.approx(0.5) and "quiet" in out.message


def test_dead_share_uses_reltuples_until_live_rows_are_counted(db):
    """In a fresh clone UPDATEs count dead tuples but nobody has counted the live ones yet."""
    db.run("ANALYZE busy")  # reltuples = 2000
    db.flush()
    with db.clone.connect() as su:
        su.execute("SELECT pg_catalog.pg_stat_reset_single_table_counters('public.busy'::regclass)")
    db.run("UPDATE busy SET v = v + 1 WHERE id <= 500")
    db.flush()
    out = maintenance.dead_tuples_below(db.ctx(stats_wait=0.5), tables="busy", source="stats")
    assert not out.passed and "20% dead (500 dead of 2500 row versions, statistics)" in out.message, out.message
    assert maintenance.dead_tuples_below(db.ctx(stats_wait=0), tables="busy", ratio=0.25).passed


# --- autovacuum judged by when it would run, every setting taken together --------------------

@pytest.mark.parametrize("settings, why", [
    ("autovacuum_enabled = false", "never runs on public.busy (autovacuum_enabled = false on the table)"),
    ("autovacuum_enabled = on, autovacuum_vacuum_scale_factor = 100", "vacuum only after 200,050 dead"),
    ("autovacuum_enabled = on, autovacuum_vacuum_threshold = 2000000000", "threshold 2000000000 (table)"),
    ("autovacuum_analyze_scale_factor = 100", "analyze only after 200,050 changed rows"),
    ("autovacuum_analyze_threshold = 2000000000", "analyze only after 2,000,000,200 changed rows"),
])
def test_autovacuum_that_never_runs_in_practice_fails(db, settings, why):
    db.run(f"ALTER TABLE busy RESET (autovacuum_enabled); ALTER TABLE busy SET ({settings})")
    for run in (maintenance.autovacuum_runs(db.ctx(), tables=["busy"]),
                catalog.autovacuum_enabled(db.ctx(), tables=["busy"])):
        assert not run.passed and why in run.message, run.message
        assert "busy" in run.evidence[0].body or run.evidence[0].rows


@pytest.mark.parametrize("settings", [
    "autovacuum_enabled = true",
    "autovacuum_enabled = yes, autovacuum_vacuum_scale_factor = 0.1",
    # threshold only: a fixed number of rows, early enough for a table of 2000 rows
    "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 100, "
    "autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 100",
])
def test_autovacuum_switched_on_in_any_spelling_passes(db, settings):
    db.run(f"ALTER TABLE busy RESET (autovacuum_enabled); ALTER TABLE busy SET ({settings})")
    for run in (maintenance.autovacuum_runs(db.ctx(), tables=["busy"]),
                catalog.autovacuum_enabled(db.ctx(), tables=["busy"])):
        assert run.passed, run.message


def test_autovacuum_tuned_bounds(db):
    """A 5 % goal: the scale factor alone is not the answer, the whole formula is."""
    db.run("ALTER TABLE busy RESET (autovacuum_enabled)")
    tight = dict(tables=["busy"], vacuum_after=0.05, analyze_after=0.05)
    out = maintenance.autovacuum_runs(db.ctx(), **tight)
    assert not out.passed and "vacuum only after 450 dead" in out.message and "want at most 150" in out.message
    assert "scale factor 0.2 (server)" in out.message
    db.run("ALTER TABLE busy SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 2000000000,"
           " autovacuum_analyze_scale_factor = 0.01)")
    out = maintenance.autovacuum_runs(db.ctx(), **tight)
    assert not out.passed and "threshold 2000000000 (table)" in out.message, out.message
    db.run("ALTER TABLE busy SET (autovacuum_vacuum_threshold = 100)")
    assert maintenance.autovacuum_runs(db.ctx(), **tight).passed
    # scale factor 0 and a fixed threshold: as early, expressed otherwise
    db.run("ALTER TABLE busy SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 120,"
           " autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 80)")
    assert maintenance.autovacuum_runs(db.ctx(), **tight).passed
    # inserts: -1 switches insert-triggered vacuum off, which is only wrong when it is asked for
    db.run("ALTER TABLE busy SET (autovacuum_vacuum_insert_threshold = -1)")
    assert maintenance.autovacuum_runs(db.ctx(), **tight).passed
    out = maintenance.autovacuum_runs(db.ctx(), **tight, inserts_after=0.2)
    assert not out.passed and "vacuum for inserts only after never" in out.message


def test_autovacuum_max_threshold_caps_the_vacuum_trigger(db):
    """PostgreSQL 18: autovacuum_vacuum_max_threshold caps a large scale factor."""
    if db.grader.info.server_version < 180000:
        pytest.skip("autovacuum_vacuum_max_threshold is new in PostgreSQL 18")
    db.run("ALTER TABLE busy RESET (autovacuum_enabled);"
           " ALTER TABLE busy SET (autovacuum_vacuum_scale_factor = 100, autovacuum_vacuum_max_threshold = 300)")
    out = maintenance.autovacuum_runs(db.ctx(), tables=["busy"], analyze_after=None)
    assert out.passed, out.message
