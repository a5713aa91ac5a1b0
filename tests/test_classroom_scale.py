"""GitHub Classroom at course scale: the runner result always fits and always starts the reporter.

The reporter reads the result from one environment variable, and Linux caps one environment
string at 131072 bytes (tests/classroom_reporter.py models both, from the reporter's source).
These tests take the result ``grade.py --format classroom`` would hand to the workflow, put
it in the environment the reporter step gets, check what the reporter would record, and start
a real process with that environment:

* on a synthesised worst case built from every real spec of the course (fast);
* on real grading of the course's largest exercises (fast enough for every run);
* on real grading of the whole course for the reference, an empty, a half-done and the
  untouched-starter submission (``-m slow``: minutes).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classroom_reporter import LINUX_MAX_ARG_STRLEN, oversized, run_reporter, start_child
from pgdrill import classroom
from pgdrill.classroom import ClassroomDetail, results_env_name
from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.render import for_audience, render
from pgdrill.report import CheckResult, Evidence, ExerciseResult, GradeReport, Status, Visibility

ROOT = Path(__file__).resolve().parents[1]
RUNNER = classroom.RUNNER_ID
LARGEST = ("techshop-4-1-indexes", "techshop-4-2-cleanup", "course-01-create-tables")


def course_specs():
    from pgdrill import checks
    from pgdrill.spec import load_all_specs

    return load_all_specs(ROOT, checks.load_all())


def step_environment(report: GradeReport, tmp_path: Path) -> dict:
    """The reporter step's environment: what publish_github writes to $GITHUB_OUTPUT, as Actions
    hands it on (``PGDRILL_RESULTS: ${{ steps.pgdrill.outputs.result }}``)."""
    out = tmp_path / "github_output"
    out.unlink(missing_ok=True)
    rendered = render(report, "classroom")
    classroom.publish_github(for_audience(report, "learner"), rendered, environ={"GITHUB_OUTPUT": str(out)})
    (line,) = out.read_text().splitlines()
    key, value = line.split("=", 1)
    assert key == classroom.GITHUB_OUTPUT_NAME
    return {"PATH": os.environ.get("PATH", ""), results_env_name(RUNNER): value}


def assert_reporter_records_the_grade(report: GradeReport, tmp_path: Path) -> dict:
    env = step_environment(report, tmp_path)
    name = results_env_name(RUNNER)
    assert not oversized(env)
    assert len(env[name]) <= classroom.RESULT_BUDGET
    outcome = run_reporter(RUNNER, env)
    whole = classroom.whole_points(report)
    assert outcome.recorded_max == sum(w.max_score for w in whole) == round(report.max_points)
    assert outcome.recorded_points == sum(w.score for w in whole)
    if all(float(c.max_points).is_integer() for ex in report.exercises for c in ex.checks):
        assert outcome.recorded_points == report.points  # whole-number course: exactly pgdrill's total
    assert outcome.job_failed is (not report.all_passed)
    assert start_child(env, name) == env[name]  # a real process starts with it, and gets all of it
    return classroom.decode_runner_result(env[name])


# --------------------------------------------------------------------------------------------
# The limit itself, on a real process


def test_the_linux_limit_is_exactly_what_the_model_says(tmp_path):
    name = results_env_name(RUNNER)
    fits = "A" * (LINUX_MAX_ARG_STRLEN - len(name) - 2)   # NAME=value plus NUL: exactly the limit
    assert start_child({name: fits}, name) == fits
    assert not oversized({name: fits}) and oversized({name: fits + "A"})
    with pytest.raises(OSError) as refused:
        start_child({name: fits + "A"}, name)
    assert refused.value.errno == 7  # E2BIG: "Argument list too long"


def test_the_pre_budget_result_of_the_course_would_not_start_the_reporter():
    """What the workflow used to send (pretty JSON, every test's full feedback) does not fit for
    the worst case: the budget is what makes the difference."""
    report = worst_case_report(course_specs(), Status.ERROR)
    points = classroom.whole_points(report)
    old = {"version": 1, "status": "error", "max_score": sum(w.max_score for w in points),
           "tests": [{"name": classroom.check_name(w.exercise, w.check), "status": "error", "score": w.score,
                      "message": classroom.check_text(w.check)} for w in points]}
    encoded = classroom.encode_runner_result(json.dumps(old, indent=2))
    assert oversized({results_env_name(RUNNER): encoded})


# --------------------------------------------------------------------------------------------
# Synthesised worst cases from every real spec


LONG = "The server said: " + "ünïcødé evidence, " * 400  # multi-byte text, far past any cap


def worst_case_report(specs, status: Status) -> GradeReport:
    """Every check of the course with ``status``, long messages, feedback, hints and evidence."""
    exercises = []
    for spec in specs:
        results = []
        for c in spec.checks:
            points = c.points if status is Status.PASSED else 0.0
            results.append(CheckResult(
                spec.id, c.id, c.check, c.description + " " + LONG[:300], points, c.points, status,
                LONG, feedback=LONG, hint=LONG, visibility=Visibility(c.visibility),
                evidence=(Evidence("rows", "Rows", columns=("a",), rows=tuple((LONG[:200],) for _ in range(20))),),
            ))
        exercises.append(ExerciseResult(spec.id, spec.title + " " + LONG[:200], tuple(results), (),
                                        error=LONG if status is Status.ERROR else None))
    return GradeReport("worst", tuple(exercises))


@pytest.mark.parametrize("status", [Status.ERROR, Status.FAILED, Status.PASSED])
def test_worst_case_course_results_fit_and_record_the_points(status, tmp_path):
    report = worst_case_report(course_specs(), status)
    assert len(report.exercises) == len(course_specs()) and report.max_points > 300
    data = assert_reporter_records_the_grade(report, tmp_path)
    assert all(len(t["name"]) <= classroom.REPORTER_NAME_CHARS for t in data["tests"])
    assert all(len(t.get("message", "")) <= classroom.REPORTER_MESSAGE_CHARS for t in data["tests"])
    assert all("message" not in t for t in data["tests"] if t["status"] != "error")  # the reporter never shows them


def test_the_fallback_drops_messages_first_then_folds_checks_into_exercises_then_into_one_test():
    report = for_audience(worst_case_report(course_specs(), Status.ERROR), "learner")
    levels = {d: classroom.classroom_result_at(report, d) for d in ClassroomDetail}
    sizes = {d: len(classroom.encode_runner_result(r)) for d, r in levels.items()}
    assert sizes[ClassroomDetail.CHECKS] > sizes[ClassroomDetail.CHECKS_NO_MESSAGES] > \
        sizes[ClassroomDetail.EXERCISES] > sizes[ClassroomDetail.TOTAL]
    n_checks = sum(len(ex.checks) for ex in report.exercises)
    assert [len(levels[d]["tests"]) for d in ClassroomDetail] == [n_checks, n_checks, len(report.exercises), 1]
    assert all("message" in t for t in levels[ClassroomDetail.CHECKS]["tests"])
    assert not any("message" in t for t in levels[ClassroomDetail.CHECKS_NO_MESSAGES]["tests"])
    totals = {sum(t["score"] for t in r["tests"]) for r in levels.values()}
    assert len(totals) == 1 and {r["max_score"] for r in levels.values()} == {round(report.max_points)}
    # each budget picks the most detailed level that fits it
    for detail in ClassroomDetail:
        result, chosen = classroom.fit_classroom_result(report, budget=sizes[detail])
        assert chosen is detail and result == levels[detail]
        if detail is not ClassroomDetail.TOTAL:
            assert classroom.fit_classroom_result(report, budget=sizes[detail] - 1)[1] is not detail
    assert classroom.fit_classroom_result(report)[1] is ClassroomDetail.CHECKS_NO_MESSAGES


def test_a_shortened_result_says_so_in_the_job_summary_which_keeps_every_check():
    report = for_audience(worst_case_report(course_specs(), Status.ERROR), "learner")
    summary = classroom.job_summary(report)
    assert "shortened to fit one environment variable" in summary
    # GitHub drops a summary over 1 MiB whole: the feedback's tail is cut instead, the table stays
    assert len(summary.encode()) <= classroom.JOB_SUMMARY_LIMIT and "the rest is cut" in summary
    table = summary.split("<details>")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ! ") or line.startswith("| • ")]
    assert len(rows) == sum(len(ex.checks) for ex in report.exercises)


# --------------------------------------------------------------------------------------------
# Real grading


def _grade(grader, folder: Path, specs) -> GradeReport:
    return grader.grade(folder, specs)


def _half_done(reference: GradeReport, starter: GradeReport) -> GradeReport:
    """The first half of the exercises solved, the rest untouched: each exercise is graded on
    its own fresh clone, so these are exactly the results of grading such a folder."""
    half = len(reference.exercises) // 2
    exercises = reference.exercises[:half] + starter.exercises[half:]
    return dataclasses.replace(reference, submission="half-done", exercises=exercises)


def _submission_kinds(grader, specs, tmp_path) -> dict[str, GradeReport]:
    empty = tmp_path / "empty"
    empty.mkdir()
    kinds = {"reference": _grade(grader, SOLUTIONS_DIR, specs), "starter": _grade(grader, EXERCISES_DIR, specs),
             "empty": _grade(grader, empty, specs)}
    kinds["half-done"] = _half_done(kinds["reference"], kinds["starter"])
    return kinds


def _assert_kinds(kinds, tmp_path):
    ref = kinds["reference"]
    assert ref.points == ref.max_points, [(c.exercise, c.check_id, c.message) for ex in ref.exercises
                                          for c in ex.checks if c.status is not Status.PASSED]
    assert kinds["empty"].points < kinds["half-done"].points < ref.points
    assert kinds["starter"].points < ref.points
    for name, report in kinds.items():
        data = assert_reporter_records_the_grade(report, tmp_path)
        assert data["status"] == ("pass" if name == "reference" else "fail"), name
        # the console's line is (passed tests / tests) × max, the recorded points are the scores:
        outcome = run_reporter(RUNNER, step_environment(report, tmp_path))
        passed = sum(t["status"] == "pass" for t in data["tests"])
        assert outcome.console_points[RUNNER] == passed / len(data["tests"]) * data["max_score"]


def test_largest_exercises_real_grading_fits_and_records_pgdrills_total(grader, tmp_path):
    specs = [s for s in course_specs() if s.id in LARGEST]
    kinds = _submission_kinds(grader, specs, tmp_path)
    _assert_kinds(kinds, tmp_path)
    # A submission with some checks passed and some failed (a starter now scores 0: gated points).
    partial = kinds["half-done"]
    outcome = run_reporter(RUNNER, step_environment(partial, tmp_path))
    assert outcome.console_points[RUNNER] != outcome.recorded_points  # the caveat docs/classroom.md states


@pytest.mark.slow
def test_whole_course_real_grading_fits_and_records_pgdrills_total(grader, tmp_path):
    """The whole course, four kinds of submission (minutes: ``-m slow``)."""
    kinds = _submission_kinds(grader, course_specs(), tmp_path)
    _assert_kinds(kinds, tmp_path)
    for report in kinds.values():
        assert len(report.exercises) == len(course_specs())


def test_grade_py_writes_a_result_that_fits_for_the_course_worst_case(tmp_path):
    """The command line's path: a grader that cannot start writes an error for every check of
    the whole course, and the step output still fits."""
    out = tmp_path / "gh"
    proc = subprocess.run([sys.executable, str(ROOT / "grade.py"), "solutions", "--format", "classroom",
                           "--server", "system", "--bindir", str(tmp_path / "no-such-bin"), "--out",
                           str(tmp_path / "r.json")], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, GITHUB_OUTPUT=str(out), GITHUB_STEP_SUMMARY=str(tmp_path / "s")))
    assert proc.returncode == 3, proc.stderr
    value = out.read_text().strip().split("=", 1)[1]
    env = {results_env_name(RUNNER): value}
    outcome = run_reporter(RUNNER, env)
    assert outcome.recorded_points == 0 and outcome.recorded_max == round(sum(s.max_points for s in course_specs()))
    assert outcome.job_failed and start_child(env, results_env_name(RUNNER)) == value
    assert (tmp_path / "r.json").read_text().strip() == classroom.compact_json(classroom.decode_runner_result(value))
