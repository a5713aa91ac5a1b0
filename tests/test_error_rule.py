"""The one error rule of checks (checks/base.py): the learner's fault fails, an exercise bug is
reported as one with the spec's line, anything else is an internal error — decided by
``@check`` and the grader, never by each check."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from pgdrill import checks
from pgdrill.checks.base import CheckContext, CheckDef, ExerciseBug, LearnerFault, NotGradedHere, Outcome, check
from pgdrill.checks.kit import ReferenceQueryError, ShadowedBuiltins
from pgdrill.grading import Grader, GradingOptions
from pgdrill.report import Status
from pgdrill.spec import CheckSpec


def _ctx() -> CheckContext:
    return CheckContext("ex", Path("."), Path("."), {}, grader=lambda: None, learner=lambda: None)


def _registered(func):
    """``func`` as @check makes it, without keeping it in the registry."""
    before = dict(checks.REGISTRY)
    try:
        return check(func)
    finally:
        checks.REGISTRY.clear()
        checks.REGISTRY.update(before)


def _grade(monkeypatch, func, line=17):
    """What the grader reports for a check that does ``func``."""
    monkeypatch.setitem(checks.REGISTRY, "rule_probe", CheckDef("rule_probe", "test", func))
    spec = types.SimpleNamespace(id="some-exercise")
    chk = CheckSpec(id="probe-id", check="rule_probe", description="d", points=2, line=line)
    grader = types.SimpleNamespace(options=GradingOptions())
    return Grader._run_check(grader, spec, chk, _ctx())


def test_a_learner_fault_raised_by_a_helper_is_the_checks_failed_outcome():
    def helper():
        raise LearnerFault(Outcome(False, "The table orders does not exist."))

    def a_check(ctx):
        helper()
        return Outcome(True, "never")

    out = _registered(a_check)(_ctx())
    assert out == Outcome(False, "The table orders does not exist.")


def test_an_exercise_bug_the_learner_provoked_is_their_fault_and_others_propagate():
    def dropped(ctx):
        raise ReferenceQueryError("the reference query failed", "42P01", 'relation "orders" does not exist')

    out = _registered(dropped)(_ctx())
    assert not out.passed and "drop or rename" in out.message

    def broken(ctx):
        raise ReferenceQueryError("the reference query failed: syntax error", "42601", "syntax error")

    with pytest.raises(ReferenceQueryError):
        _registered(broken)(_ctx())


def test_shadowed_builtins_are_the_learners_fault():
    def shadowed(ctx):
        raise ShadowedBuiltins([("function", "public.abs(integer)")])

    out = _registered(shadowed)(_ctx())
    assert not out.passed and "public.abs(integer)" in out.message and out.evidence


def test_the_registered_check_keeps_name_doc_and_signature():
    def documented(ctx, *, table: str, schema: str = "public") -> Outcome:
        """One line."""
        return Outcome(True, "ok")

    wrapped = _registered(documented)
    assert wrapped.__name__ == "documented" and wrapped.__doc__ == "One line."
    assert list(CheckDef("documented", "test", wrapped).parameters) == ["table", "schema"]


def test_the_grader_reports_each_kind_once(monkeypatch):
    def learner(ctx):
        raise LearnerFault(Outcome(False, "yours"))

    failed = _grade(monkeypatch, _registered(learner))
    assert failed.status is Status.FAILED and failed.message == "yours" and failed.points == 0

    def exercise(ctx):
        raise ExerciseBug("the spec asks for a table the incident does not have")

    bug = _grade(monkeypatch, exercise, line=23)
    assert bug.status is Status.ERROR
    assert bug.message == ("exercise bug in check probe-id (some-exercise/exercise.yaml, line 23): "
                           "the spec asks for a table the incident does not have")

    def not_here(ctx):
        raise NotGradedHere("Not graded: no sandbox")

    assert _grade(monkeypatch, not_here).message == "Not graded: no sandbox"

    def crash(ctx):
        raise KeyError("boom")

    internal = _grade(monkeypatch, crash)
    assert internal.status is Status.ERROR and internal.message.startswith("internal error in check rule_probe")


# ------------------------------------------------------------------------------------------
# Raises of the checks themselves, each the kind the rule says it is


def test_an_empty_table_list_is_an_exercise_bug():
    dead_tuples_below = checks.REGISTRY["dead_tuples_below"].func
    with pytest.raises(ExerciseBug, match="needs tables") as caught:
        dead_tuples_below(_ctx(), tables=[], ratio=0.1)
    assert caught.value.learner_outcome() is None


def test_a_time_window_the_spec_writes_wrong_is_an_exercise_bug(tmp_path):
    (tmp_path / "maintenance.cron").write_text("0 3 * * * vacuumdb --all\n")
    ctx = CheckContext("ex", Path("."), tmp_path, {}, grader=lambda: None, learner=lambda: None)
    cron_schedule_valid = checks.REGISTRY["cron_schedule_valid"].func
    with pytest.raises(ExerciseBug, match="between"):
        cron_schedule_valid(ctx, path="maintenance.cron", command_pattern="vacuumdb", between="late at night")
    out = cron_schedule_valid(ctx, path="maintenance.cron", command_pattern="vacuumdb", between="22:00-06:00")
    assert out.passed, out.message  # the same job, with a window written right: judged


def test_a_grader_without_a_server_does_not_grade_learner_programs(tmp_path):
    (tmp_path / "backup.sh").write_text("#!/bin/sh\npg_dump -Fc -f \"$BACKUP_DIR/db.dump\"\n")
    ctx = CheckContext("ex", Path("."), tmp_path, {}, grader=lambda: None, learner=lambda: None)
    with pytest.raises(NotGradedHere, match="no(ne| PostgreSQL)"):
        checks.REGISTRY["backup_restores"].func(ctx, script="backup.sh")


@pytest.fixture
def clone_ctx():
    """``clone_ctx(clone, baseline=None)``: a CheckContext grading ``clone`` as pgdrill_grader,
    with ``baseline`` as its untouched incident; connections closed after the test."""
    opened = []

    def connect(clone):
        conn = clone.connect("pgdrill_grader", purpose="test-grader")
        opened.append(conn)
        return conn

    def make(clone, baseline=None) -> CheckContext:
        return CheckContext("ex", Path("."), Path("."), {}, grader=lambda: connect(clone), learner=lambda: None,
                            baseline=(lambda: connect(baseline)) if baseline is not None else None)

    yield make
    for conn in opened:
        conn.close()


def test_no_table_to_restore_is_the_learners_fault_unless_the_incident_has_none(make_clone, clone_ctx):
    from pgdrill.checks.files import _tables_to_compare

    emptied, untouched = make_clone(fixture="empty"), make_clone(fixture="empty")
    with untouched.connect() as admin:
        admin.execute("CREATE TABLE public.orders (id int PRIMARY KEY)")
    with pytest.raises(LearnerFault) as caught:
        _tables_to_compare(clone_ctx(emptied, baseline=untouched), None)
    assert "no tables left" in caught.value.outcome().message
    assert _tables_to_compare(clone_ctx(untouched), None) == [("public", "orders")]
    with pytest.raises(ExerciseBug, match="no tables"):
        _tables_to_compare(clone_ctx(emptied, baseline=emptied), None)


def test_pgstattuple_asked_for_and_missing_is_the_learners_fault_or_the_exercises(make_clone, clone_ctx):
    dead_tuples_below = checks.REGISTRY["dead_tuples_below"].func
    learners, untouched = make_clone(fixture="empty"), make_clone(fixture="empty")
    for clone in (learners, untouched):
        with clone.connect() as admin:
            admin.execute("CREATE TABLE public.orders (id int PRIMARY KEY)")
    with learners.connect() as admin:
        admin.execute("DROP EXTENSION IF EXISTS pgstattuple")
    ctx = clone_ctx(learners, baseline=untouched)
    out = dead_tuples_below(ctx, tables=["orders"], ratio=0.1, source="pgstattuple")
    assert not out.passed and "pgstattuple extension is gone" in out.message and "orders" in out.message
    with untouched.connect() as admin:
        admin.execute("DROP EXTENSION IF EXISTS pgstattuple")
    with pytest.raises(ExerciseBug, match="pgstattuple") as caught:
        dead_tuples_below(ctx, tables=["orders"], ratio=0.1, source="pgstattuple")
    assert caught.value.learner_outcome() is None
