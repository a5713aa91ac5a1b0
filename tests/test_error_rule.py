"""The one error rule of checks (checks/base.py): the learner's fault fails, an exercise bug is
reported as one with the spec's line, anything else is an internal error — decided by
``@check`` and the grader, never by each check."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

import checks
from checks.base import CheckContext, CheckDef, ExerciseBug, LearnerFault, NotGradedHere, Outcome, check
from checks.kit import ReferenceQueryError, ShadowedBuiltins
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
