"""Gated points (``requires:``) as the grader applies them to what each check found on its own.

The rules themselves, then the whole course graded on real PostgreSQL with an empty
submission: it scores 0 everywhere. Destructive submissions are in the exercises' own tests
(the demo's TRUNCATE, 4.2's clean-ups, course 6's broad DELETE).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pgdrill.grading import EXERCISES_DIR, apply_requirements
from pgdrill.report import CheckResult, Status
from pgdrill.spec import CheckSpec, ExerciseSpec


def _spec(*checks: CheckSpec) -> ExerciseSpec:
    return ExerciseSpec(id="x", title="x", checks=checks, path=Path("x/exercise.yaml"))


def _found(check_id: str, fraction: float) -> CheckResult:
    status = Status.PASSED if fraction >= 1 else Status.FAILED if fraction <= 0 else Status.PARTIAL
    return CheckResult("x", check_id, "c", "d", 2 * fraction, 2, status, f"{check_id} found", feedback="why")


FIX = CheckSpec(id="fix", check="c", description="d", requires_all=("kept",))
KEPT = CheckSpec(id="kept", check="c", description="d", requires_any=("fix", "other-fix"))
OTHER = CheckSpec(id="other-fix", check="c", description="d")


def scores(*fractions: float) -> list[float]:
    found = tuple(_found(c.id, f) for c, f in zip((FIX, KEPT, OTHER), fractions))
    return [r.points for r in apply_requirements(_spec(FIX, KEPT, OTHER), found)]


def test_a_guard_pays_once_any_fix_earns_something():
    assert scores(0, 1, 0) == [0, 0, 0]          # nothing done: nothing lost, nothing earned
    assert scores(0, 1, 0.5) == [0, 2, 1]        # partial credit on another fix is enough
    assert scores(1, 1, 0) == [2, 2, 0]


def test_a_fix_pays_only_when_what_it_had_to_keep_was_kept():
    assert scores(1, 0, 1) == [0, 0, 2]
    assert scores(1, 0.5, 1) == [0, 1, 2]        # kept only in part: the fix is not earned


def test_a_fix_voided_by_destruction_does_not_make_other_guards_pay():
    # "fix" passed on its own (TRUNCATE leaves no orphan) but lost what it had to keep; a
    # second guard that pays for any fix gets nothing from it.
    other_guard = CheckSpec(id="fk-kept", check="c", description="d", requires_any=("fix",))
    spec = _spec(FIX, KEPT, OTHER, other_guard)
    found = (_found("fix", 1), _found("kept", 0), _found("other-fix", 0), _found("fk-kept", 1))
    assert [r.points for r in apply_requirements(spec, found)] == [0, 0, 0, 0]


def test_gated_results_say_why_and_keep_what_they_found():
    found = (_found("fix", 1), _found("kept", 0), _found("other-fix", 0))
    fix, kept, _ = apply_requirements(_spec(FIX, KEPT, OTHER), found)
    assert fix.status is Status.FAILED and fix.points == 0
    assert fix.message.startswith("No points: this fix counts only when kept passes")
    assert fix.message.endswith("On its own: fix found") and fix.feedback == ""
    assert kept.message == "kept found"          # a failure of its own is left as it is


# ------------------------------------------------------------------------------------------
# The whole course on real PostgreSQL: doing nothing earns nothing anywhere

EVERY_EXERCISE = sorted(p.parent.name for p in EXERCISES_DIR.glob("*/exercise.yaml"))


@pytest.mark.parametrize("exercise", EVERY_EXERCISE)
def test_an_empty_submission_scores_0(grade, tmp_path, exercise):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = grade(exercise, empty)
    assert not result.error, result.error  # graded, not skipped: a setup failure would score 0 too
    assert result.points == 0, [(c.check_id, c.points, c.message) for c in result.checks if c.points]
