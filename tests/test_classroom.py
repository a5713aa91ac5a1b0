"""Autograder front ends: GitHub Classroom / Actions, Gradescope, PrairieLearn.

Their documents are checked against JSON Schemas written from each vendor's documentation
(tests/data/schemas/, sources in docs/classroom.md), on real grading runs of the demo
exercise, and for the cases that must never hand out points: a grader whose template build
fails, a grader whose server does not start.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgdrill import classroom
from pgdrill.cli import EXIT_GRADER_ERROR, SUBCOMMANDS
from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR, Grader, GradingOptions
from pgdrill.render import Audience, OutputFormat, for_audience, render
from pgdrill.report import CheckResult, Evidence, ExerciseResult, GradeReport, Status, Visibility

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "tests" / "data" / "schemas"
DEMO = "demo-first-fix"
FRONT_ENDS = {
    "classroom": "classroom-runner-result.schema.json",
    "gradescope": "gradescope-results.schema.json",
    "prairielearn": "prairielearn-results.schema.json",
}


def gradescope_total(data: dict) -> float:
    """What Gradescope records: the top-level score, or else the sum of the tests' scores."""
    return data["score"] if "score" in data else sum(t["score"] for t in data["tests"])


def validate(fmt: str, data: dict) -> None:
    schema = json.loads((SCHEMAS / FRONT_ENDS[fmt]).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(data)


def _check(check_id, status, points, max_points, **kw):
    kw.setdefault("description", f"What {check_id} checks.")
    kw.setdefault("message", f"What {check_id} found.")
    return CheckResult(exercise=kw.pop("exercise", "ex"), check_id=check_id, check=kw.pop("check", "rows_match"),
                       points=points, max_points=max_points, status=status, **kw)


def mixed_report() -> GradeReport:
    """Every status and visibility, fractional points, statement errors, a failed exercise."""
    ex = ExerciseResult("ex", "An exercise", (
        _check("full", Status.PASSED, 2, 2),
        _check("half", Status.PARTIAL, 0.75, 1.5, feedback="Why it matters.", hint="A hint.",
               evidence=(Evidence("rows", "Missing rows", columns=("id",), rows=(("1",),)),)),
        _check("zero", Status.FAILED, 0, 3, feedback="Teaching text."),
        _check("crash", Status.ERROR, 0, 1, message="internal error in check rows_match: boom"),
        _check("secret", Status.PASSED, 1.5, 1.5, check="secret_check", description="Hidden text",
               visibility=Visibility.HIDDEN),
        _check("later", Status.FAILED, 0, 1, description="Later text", visibility=Visibility.AFTER_DUE_DATE),
    ))
    broken = ExerciseResult("gone", "Not graded", (_check("a", Status.ERROR, 0, 2, exercise="gone"),),
                            error="could not prepare the starting state: boom")
    return GradeReport("sub", (ex, broken), seed=4242, scale=0.1, server_version="18.1", duration_s=3.2)


# --------------------------------------------------------------------------------------------
# Schemas, on constructed reports


@pytest.mark.parametrize("fmt", FRONT_ENDS)
@pytest.mark.parametrize("audience", list(Audience))
def test_outputs_validate_against_the_vendor_schemas(fmt, audience):
    report = mixed_report()
    data = json.loads(render(report, fmt, audience=audience))
    validate(fmt, data)
    shown = for_audience(report, audience)
    names = [t["name"] for t in data["tests"]]
    assert len(names) == sum(len(ex.checks) for ex in shown.exercises)  # one test per check, none skipped
    assert ("Hidden text" in json.dumps(data)) is (audience is Audience.INSTRUCTOR)


def test_the_schemas_reject_what_the_vendors_reject():
    """The schemas are not vacuous: each rejects a document its vendor would not take."""
    data = json.loads(render(mixed_report(), "classroom"))
    for broken in ({**data, "max_score": 12.5}, {**data, "status": "passed"},
                   {**data, "tests": [{**data["tests"][0], "score": 1.5}]}):
        with pytest.raises(jsonschema.ValidationError):
            validate("classroom", broken)
    gs = json.loads(render(mixed_report(), "gradescope"))
    for broken in ({**gs, "tests": [{**gs["tests"][0], "visibility": "secret"}]},
                   {**gs, "tests": [{**gs["tests"][0], "status": "partial"}]}, {"output": "no score at all"}):
        with pytest.raises(jsonschema.ValidationError):
            validate("gradescope", broken)
    graded = dataclasses.replace(mixed_report(), exercises=mixed_report().exercises[:1])
    pl = json.loads(render(graded, "prairielearn"))
    for broken in ({**pl, "score": 1.2}, {k: v for k, v in pl.items() if k != "score"}):
        with pytest.raises(jsonschema.ValidationError):
            validate("prairielearn", broken)
    validate("prairielearn", {"gradable": False, "format_errors": ["not SQL"]})


def test_errors_are_failures_with_their_reason_never_skips_or_points():
    report = mixed_report()
    cr = json.loads(render(report, "classroom"))
    crash = next(t for t in cr["tests"] if "crash" in t["name"])
    assert crash["status"] == "error" and crash["score"] == 0 and "internal error" in crash["message"]
    gs = json.loads(render(report, "gradescope"))
    for t in gs["tests"]:
        if "gone" in t["name"] or "crash" in t["name"]:
            assert t["status"] == "failed" and t["score"] == 0 and t["output"]
    assert "could not prepare the starting state" in gs["output"]
    pl = json.loads(render(report, "prairielearn"))  # the grader failed on "gone": not gradable, with why
    assert pl["gradable"] is False and "score" not in pl
    assert any("could not prepare the starting state" in e for e in pl["format_errors"])
    graded = dataclasses.replace(report, exercises=report.exercises[:1])
    pl = json.loads(render(graded, "prairielearn"))
    assert pl["gradable"] is True and "format_errors" not in pl
    assert math.isclose(pl["score"], graded.points / graded.max_points)


def test_gradescope_keeps_visibility_and_hides_the_seed_from_students():
    data = json.loads(render(mixed_report(), "gradescope", audience="instructor"))
    vis = {t["name"].split(":")[0]: t["visibility"] for t in data["tests"]}
    assert vis["ex · secret"] == "hidden" and vis["ex · later"] == "after_due_date" and vis["ex · full"] == "visible"
    assert "4242" not in data["output"] and "4242" not in json.dumps(data["tests"])  # students see these
    assert data["extra_data"]["pgdrill"]["seed"] == 4242                              # instructors only
    assert "score" not in data and gradescope_total(data) == mixed_report().points   # Gradescope adds up
    assert [t["number"] for t in data["tests"]][:2] == ["1.1", "1.2"]


def student_view(data: dict) -> dict:
    """Every field of a Gradescope result a student can see: the top-level output, the tests
    whose visibility is "visible" (all their fields but extra_data), and the total only when no
    test is withheld (Gradescope hides it otherwise). stdout only if stdout_visibility allows."""
    tests = data["tests"]
    withheld = any(t.get("visibility", "visible") != "visible" for t in tests)
    view = {"output": data.get("output"), "stdout_visibility": data.get("stdout_visibility", "hidden"),
            "tests": [{k: v for k, v in t.items() if k != "extra_data"}
                      for t in tests if t.get("visibility", "visible") == "visible"]}
    if not withheld:
        view["total"] = gradescope_total(data)
    return view


OUTCOMES = {  # what a withheld check can come out as
    "passed": dict(status=Status.PASSED, points=1.0, message="all good"),
    "partial": dict(status=Status.PARTIAL, points=0.5, message="half of it"),
    "failed": dict(status=Status.FAILED, points=0.0, message="wrong rows"),
    "error": dict(status=Status.ERROR, points=0.0, message="internal error"),
}


def _with_withheld_outcomes(report: GradeReport, outcomes) -> GradeReport:
    """``report`` with its hidden and after-the-due-date checks' results replaced, in order."""
    it = iter(outcomes)
    exercises = []
    for ex in report.exercises:
        checks_ = []
        for c in ex.checks:
            if c.visibility is not Visibility.VISIBLE:
                o = OUTCOMES[next(it)]
                c = dataclasses.replace(c, status=o["status"], points=o["points"] * c.max_points,
                                        message=o["message"])
            checks_.append(c)
        exercises.append(dataclasses.replace(ex, checks=tuple(checks_)))
    return dataclasses.replace(report, exercises=tuple(exercises))


def _assert_withheld_results_cannot_be_inferred(report: GradeReport) -> None:
    n = sum(c.visibility is not Visibility.VISIBLE for ex in report.exercises for c in ex.checks)
    assert n >= 2
    for audience in Audience:
        views, totals = set(), set()
        for combo in itertools.product(OUTCOMES, repeat=n):
            variant = _with_withheld_outcomes(report, combo)
            data = json.loads(render(variant, "gradescope", audience=audience))
            validate("gradescope", data)
            assert gradescope_total(data) == variant.points  # what Gradescope records is the real grade
            totals.add(variant.points)
            views.add(json.dumps(student_view(data), sort_keys=True))
        assert len(totals) > 1    # the withheld checks' results do change the grade …
        assert len(views) == 1, audience  # … and nothing a student sees changes with them
        visible_text = json.loads(next(iter(views)))
        assert "Check:" not in json.dumps(visible_text)  # no instructor line in a visible test


def test_gradescope_students_cannot_infer_hidden_or_after_due_date_results():
    """Every combination of outcomes of the withheld checks gives students the same view."""
    _assert_withheld_results_cannot_be_inferred(mixed_report())


def test_gradescope_numbers_visible_tests_without_gaps():
    data = json.loads(render(mixed_report(), "gradescope"))
    visible = [t["number"] for t in data["tests"] if t["visibility"] == "visible"]
    assert visible[:4] == ["1.1", "1.2", "1.3", "1.4"] and "2.1" in visible


def test_every_test_says_what_was_expected_found_and_why():
    data = json.loads(render(mixed_report(), "prairielearn"))
    half = next(t for t in data["tests"] if "half" in t["name"])
    assert "What half found." in half["output"] and "Why it matters." in half["output"]
    assert "A hint." in half["output"] and "Missing rows" in half["output"]
    assert (half["points"], half["max_points"]) == (0.75, 1.5)


# --------------------------------------------------------------------------------------------
# Whole points for GitHub Classroom


def _report_of(checks) -> GradeReport:
    return GradeReport("s", (ExerciseResult("ex", "Ex", tuple(checks)),))


@st.composite
def check_lists(draw):
    out = []
    for i in range(draw(st.integers(1, 12))):
        max_points = draw(st.sampled_from([0, 0.25, 0.5, 1, 1.5, 2, 3, 5]))
        fraction = draw(st.sampled_from([0, 0, 0.33, 0.5, 0.9, 1, 1]))
        points = round(max_points * fraction, 2)
        status = (Status.PASSED if points >= max_points else Status.FAILED if points == 0 else Status.PARTIAL)
        if status is Status.FAILED and draw(st.booleans()):
            status = Status.ERROR
        out.append(_check(f"c{i}", status, points, max_points))
    return out


@settings(max_examples=150, deadline=None)
@given(check_lists())
def test_whole_points_never_exceed_what_was_earned(checks):
    report = _report_of(checks)
    whole = classroom.whole_points(report)
    earned, maximum = sum(c.points for c in checks), sum(c.max_points for c in checks)
    assert sum(w.max_score for w in whole) == math.floor(maximum + 0.5 + 1e-9)
    all_passed = all(c.status is Status.PASSED or c.max_points == 0 for c in checks)
    if all_passed:
        assert [w.score for w in whole] == [w.max_score for w in whole]
    else:
        assert sum(w.score for w in whole) <= math.floor(earned + 1e-9)
        assert sum(w.score for w in whole) < sum(w.max_score for w in whole) or sum(w.max_score for w in whole) == 0
    for w in whole:
        assert 0 <= w.score <= w.max_score
        if w.check.points == 0:
            assert w.score == 0
    data = classroom.classroom_result(report)
    validate("classroom", data)
    assert sum(t["score"] for t in data["tests"]) <= data["max_score"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=10))
def test_whole_number_courses_keep_their_exact_points(pairs):
    checks = [_check(f"c{i}", Status.PASSED if p >= m else Status.FAILED if p == 0 else Status.PARTIAL, min(p, m), m)
              for i, (p, m) in enumerate(pairs)]
    for w in classroom.whole_points(_report_of(checks)):
        assert (w.score, w.max_score) == (w.check.points, w.check.max_points)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from([0, 0.25, 0.5, 0.9, 1])), min_size=1, max_size=10))
def test_whole_number_maxima_lose_less_than_a_point(pairs):
    checks = [_check(f"c{i}", Status.PASSED if f == 1 else Status.FAILED if f == 0 else Status.PARTIAL,
                     round(m * f, 2), m) for i, (m, f) in enumerate(pairs)]
    earned, maximum = sum(c.points for c in checks), sum(c.max_points for c in checks)
    total = sum(w.score for w in classroom.whole_points(_report_of(checks)))
    if all(c.status is Status.PASSED or c.max_points == 0 for c in checks):
        assert total == maximum
    else:
        assert total == (min(math.floor(earned + 1e-9), maximum - 1) if maximum else 0)


def test_whole_points_examples():
    three_halves = [_check("a", Status.PARTIAL, 0.5, 1), _check("b", Status.PARTIAL, 0.5, 1),
                    _check("c", Status.PARTIAL, 0.5, 1)]
    whole = classroom.whole_points(_report_of(three_halves))
    assert [w.score for w in whole] == [1, 0, 0]  # 1.5 earned -> 1; the first of equal remainders
    assert classroom.classroom_result(_report_of(three_halves))["tests"][0]["status"] == "fail"  # still not passed
    perfect = [_check("a", Status.PASSED, 0.5, 0.5), _check("b", Status.PASSED, 1, 1)]
    assert [(w.score, w.max_score) for w in classroom.whole_points(_report_of(perfect))] == [(1, 1), (1, 1)]
    almost = [_check("a", Status.PASSED, 1, 1), _check("b", Status.PARTIAL, 0.99, 1)]
    assert sum(w.score for w in classroom.whole_points(_report_of(almost))) == 1  # 1.99 is not full marks


# --------------------------------------------------------------------------------------------
# Real grading runs


@pytest.fixture(scope="module")
def graded(grader):
    """The demo exercise graded on the session's server: reference and untouched starter."""
    from pgdrill import checks
    from pgdrill.spec import load_spec

    spec = load_spec(EXERCISES_DIR / DEMO / "exercise.yaml", checks.load_all())
    out = {}
    for name, folder in (("reference", SOLUTIONS_DIR / DEMO), ("starter", EXERCISES_DIR / DEMO)):
        result = grader.grade_exercise(spec, folder)
        out[name] = GradeReport(name, (result,), seed=grader.options.seed, scale=grader.options.scale)
    return out


@pytest.mark.parametrize("name", ["reference", "starter"])
def test_real_results_validate_and_carry_every_check(graded, name):
    report = graded[name]
    checks_ = report.exercises[0].checks
    for fmt in FRONT_ENDS:
        data = json.loads(render(report, fmt))
        validate(fmt, data)
        assert len(data["tests"]) == len(checks_)
    gs = json.loads(render(report, "gradescope"))
    assert gradescope_total(gs) == report.points
    assert [(t["score"], t["max_score"]) for t in gs["tests"]] == [(c.points, c.max_points) for c in checks_]
    assert [t["status"] == "passed" for t in gs["tests"]] == [c.status is Status.PASSED for c in checks_]
    pl = json.loads(render(report, "prairielearn"))
    assert math.isclose(pl["score"], report.points / report.max_points)
    assert [t["points"] for t in pl["tests"]] == [c.points for c in checks_]
    cr = json.loads(render(report, "classroom"))
    assert cr["max_score"] == report.max_points  # the demo's points are whole numbers: nothing is lost
    assert [t["score"] for t in cr["tests"]] == [c.points for c in checks_]
    assert cr["status"] == ("pass" if report.all_passed else "fail")


def test_real_gradescope_results_hide_withheld_checks_from_students(graded):
    """The demo graded for real, with some of its checks made hidden / after the due date (the
    grade does not depend on a check's visibility): students' view is the same whatever the
    withheld checks scored."""
    report = graded["starter"]
    ex = report.exercises[0]
    relabelled = tuple(dataclasses.replace(c, visibility=(Visibility.HIDDEN, Visibility.AFTER_DUE_DATE)[i % 2])
                       if i in (1, 4, 7) else c for i, c in enumerate(ex.checks))
    _assert_withheld_results_cannot_be_inferred(
        dataclasses.replace(report, exercises=(dataclasses.replace(ex, checks=relabelled),)))


def test_reference_scores_full_and_starter_does_not(graded):
    assert graded["reference"].points == graded["reference"].max_points
    assert graded["starter"].points < graded["starter"].max_points


def test_github_outputs_and_job_summary(graded, tmp_path):
    report = graded["starter"]
    env = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    rendered = render(report, "classroom")
    written = classroom.publish_github(for_audience(report, "learner"), rendered, environ=env)
    assert len(written) == 2
    (line,) = (tmp_path / "out").read_text().splitlines()
    key, value = line.split("=", 1)
    assert key == "result"
    decoded = json.loads(base64.b64decode(value))
    validate("classroom", decoded)
    assert decoded == json.loads(rendered)
    summary = (tmp_path / "summary").read_text()
    for c in report.exercises[0].checks:
        assert f"`{c.check_id}`" in summary
        assert f"| {c.points:g} / {c.max_points:g} |" in summary
    assert classroom.publish_github(report, rendered, environ={}) == []  # outside Actions: nothing


def test_template_build_failure_is_a_failure_for_every_front_end(pg_server, templates):
    """A grader that cannot build its incident (scale below the minimum) hands out no points."""
    from pgdrill import checks
    from pgdrill.spec import load_spec

    spec = load_spec(EXERCISES_DIR / DEMO / "exercise.yaml", checks.load_all())
    broken = Grader(pg_server, templates, GradingOptions(scale=0.01, seed=1))
    report = broken.grade(SOLUTIONS_DIR / DEMO, [spec])  # the reference solution: it would score 20
    assert report.points == 0 and report.exercises[0].error
    for fmt in FRONT_ENDS:
        data = json.loads(render(report, fmt))
        validate(fmt, data)
        assert len(data["tests"]) == len(spec.checks)
    cr = json.loads(render(report, "classroom"))
    assert cr["status"] == "error" and all(t["status"] == "error" and t["score"] == 0 for t in cr["tests"])
    assert all("could not prepare the starting state" in t["message"] for t in cr["tests"])
    gs = json.loads(render(report, "gradescope"))
    assert gradescope_total(gs) == 0 and all(t["status"] == "failed" and t["score"] == 0 for t in gs["tests"])
    pl = json.loads(render(report, "prairielearn"))  # no attempt used, no points lost: not gradable, and why
    assert pl["gradable"] is False and "score" not in pl and all(t["points"] == 0 for t in pl["tests"])
    assert all("could not prepare the starting state" in e for e in pl["format_errors"])


def _grade_py(*args, cwd=ROOT, env=None, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "grade.py"), *args], capture_output=True, text=True,
                          cwd=cwd, env=dict(os.environ, **(env or {})), timeout=timeout)


def test_server_that_does_not_start_still_writes_a_zero_result(tmp_path):
    out = tmp_path / "results.json"
    proc = _grade_py("solutions", "-e", DEMO, "--format", "gradescope", "--out", str(out),
                     "--server", "system", "--bindir", str(tmp_path / "no-such-bin"))
    assert proc.returncode == EXIT_GRADER_ERROR
    data = json.loads(out.read_text())
    validate("gradescope", data)
    assert gradescope_total(data) == 0 and data["tests"]
    assert all(t["status"] == "failed" and "could not start PostgreSQL" in t["output"] for t in data["tests"])
    proc = _grade_py("solutions", "-e", DEMO, "--format", "classroom", "--server", "system",
                     "--bindir", str(tmp_path / "no-such-bin"), env={"GITHUB_OUTPUT": str(tmp_path / "gh")})
    assert proc.returncode == EXIT_GRADER_ERROR
    result = classroom.decode_runner_result((tmp_path / "gh").read_text().split("=", 1)[1])
    validate("classroom", result)
    assert result["status"] == "error" and sum(t["score"] for t in result["tests"]) == 0


def test_gradescope_run_autograder_grades_a_submission(tmp_path):
    """run_autograder as Gradescope runs it, in a fake /autograder with the grading bundle."""
    from pgdrill import checks
    from pgdrill.spec import load_spec
    from pgdrill.template_export import export_harness

    root = tmp_path / "autograder"
    spec = load_spec(EXERCISES_DIR / DEMO / "exercise.yaml", checks.load_all())
    export_harness(root / "source", [spec])
    assert not (root / "source" / "solutions").exists()
    shutil.copytree(SOLUTIONS_DIR / DEMO, root / "submission")  # an upload of the exercise's files
    env = {"PGDRILL_AUTOGRADER_ROOT": str(root), "PGDRILL_PYTHON": sys.executable,
           "PGDRILL_EXERCISES": DEMO, "PGDRILL_SCALE": "0.1", "PGDRILL_GRADING_SEED": "3"}
    proc = subprocess.run([str(root / "source" / "run_autograder")], capture_output=True, text=True,
                          env=dict(os.environ, **env), timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    validate("gradescope", data)
    assert gradescope_total(data) == spec.max_points and len(data["tests"]) == len(spec.checks)
    assert data["extra_data"]["pgdrill"]["seed"] == 3

    # A grader that dies before writing anything still leaves a zero-point result.
    (root / "results" / "results.json").unlink()
    proc = subprocess.run([str(root / "source" / "run_autograder")], capture_output=True, text=True,
                          env=dict(os.environ, **{**env, "PGDRILL_PYTHON": "/bin/false"}), timeout=60)
    data = json.loads((root / "results" / "results.json").read_text())
    validate("gradescope", data)
    assert data["score"] == 0 and "could not run" in data["output"]


def test_gradescope_run_autograder_grades_with_one_process_unless_told(tmp_path):
    """Gradescope's default machine (0.5 CPU, 768 MB) holds one server, whatever the host's
    cores a container may report: run_autograder asks for one process, or PGDRILL_WORKERS."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    shutil.copy(ROOT / "autograder" / "gradescope" / "run_autograder", root / "source")
    (root / "submission").mkdir()
    recorder = tmp_path / "python"
    recorder.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_FILE"\n')
    recorder.chmod(0o755)
    told = {}
    for workers in ("", "2"):
        env = dict(os.environ, PGDRILL_AUTOGRADER_ROOT=str(root), PGDRILL_PYTHON=str(recorder),
                   ARGS_FILE=str(tmp_path / f"args{workers}"), PGDRILL_WORKERS=workers)
        if not workers:
            del env["PGDRILL_WORKERS"]
        subprocess.run([str(root / "source" / "run_autograder")], env=env, timeout=60, check=True)
        args = (tmp_path / f"args{workers}").read_text().split("\n")
        told[workers] = args[args.index("--workers") + 1]
    assert told == {"": "1", "2": "2"}


def test_gradescope_setup_script_is_valid_bash():
    for name in ("setup.sh", "run_autograder"):
        path = ROOT / "autograder" / "gradescope" / name
        assert os.access(path, os.X_OK), name
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0


# --------------------------------------------------------------------------------------------
# The command line


def test_every_command_has_help(capsys):
    """grade.py, each of its commands and each lab command answer --help with a description."""
    from pgdrill.cli import main
    from pgdrill.lab import parser as lab_parser

    lab_commands = next(a for a in lab_parser()._actions if a.__class__.__name__ == "_SubParsersAction").choices
    commands = [[]] + [[c] for c in SUBCOMMANDS] + [["lab", c] for c in lab_commands]
    assert {"export-template", "new-exercise"} <= set(SUBCOMMANDS)
    texts = {}
    for cmd in commands:
        with pytest.raises(SystemExit) as done:
            main([*cmd, "--help"])
        assert done.value.code in (0, None), cmd
        texts[tuple(cmd)] = out = capsys.readouterr().out
        assert out.startswith("usage:"), cmd
        if cmd[:1] != ["lab"]:
            assert len(out.split()) > 15, cmd  # says something beyond the usage line
    for word in ("--batch", "--workers", "export-template", "new-exercise", "classroom", "gradescope",
                 "prairielearn"):
        assert word in texts[()], word
    assert "--harness" in texts[("export-template",)] and "--fixture" in texts[("new-exercise",)]
    assert _grade_py("export-template", "--help").stdout == texts[("export-template",)]  # grade.py is main()


def test_validate_names_file_line_and_cause_of_a_failing_reference(tmp_path, request):
    course = tmp_path / "course"
    shutil.copytree(EXERCISES_DIR / DEMO, course / "exercises" / DEMO)
    shutil.copytree(SOLUTIONS_DIR / DEMO, course / "solutions" / DEMO)
    sql = course / "solutions" / DEMO / "solution.sql"
    sql.write_text(sql.read_text().replace("CREATE EXTENSION IF NOT EXISTS pg_trgm;", "CREATE EXTENSION pg_trgmm;"))
    server = ["--server", request.config.getoption("--pg-server")]
    if request.config.getoption("--pg-bindir"):
        server += ["--bindir", request.config.getoption("--pg-bindir")]
    if request.config.getoption("--pg-server") == "dsn":
        pytest.skip("a dsn server is shared: validate builds templates on its own server")
    proc = _grade_py("validate", "--solutions", "--exercises-dir", str(course / "exercises"), "--scale", "0.1",
                     *server)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("FAIL") and DEMO in line for line in lines)
    # the statement that failed, with the reference file's line …
    line_no = sql.read_text().splitlines().index("CREATE EXTENSION pg_trgmm;") + 1
    assert any(f"{sql}:{line_no}: error" in line and "pg_trgmm" in line for line in lines), proc.stdout
    # … and the checks it cost, with the spec's line
    spec_text = (course / "exercises" / DEMO / "exercise.yaml").read_text().splitlines()
    ext_line = spec_text.index("  - id: trigram-extension") + 1
    assert any(f"exercise.yaml:{ext_line}: check trigram-extension" in line for line in lines), proc.stdout
    assert "Traceback" not in proc.stderr


def test_front_end_formats_are_output_formats():
    assert {f.value for f in OutputFormat} >= set(FRONT_ENDS)
    assert all(OutputFormat(f).extension == ".json" for f in FRONT_ENDS)


def test_validate_names_file_line_and_key_of_a_broken_spec(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(EXERCISES_DIR / DEMO, course / "exercises" / DEMO)
    spec = course / "exercises" / DEMO / "exercise.yaml"
    text = spec.read_text().replace("    points: 2\n    description: A trigram GIN index",
                                    "    points: two\n    description: A trigram GIN index")
    spec.write_text(text)
    proc = _grade_py("validate", "--exercises-dir", str(course / "exercises"))
    assert proc.returncode == 2
    line = text.splitlines().index("    points: two") + 1
    assert f"{spec}:{line}: checks[3].points:" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_gradescope_setup_installs_python3_venv_when_venv_cannot_run(tmp_path):
    """On an image whose python3 lacks ensurepip (Debian without python3-venv), setup.sh installs
    python3-venv before it makes the virtualenv. apt-get and python3 are stand-ins that record."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "calls"
    (bin_ / "apt-get").write_text(f'#!/bin/sh\necho "apt-get $*" >> {log}\ntouch {tmp_path}/installed\n')
    (bin_ / "python3").write_text(
        "#!/bin/sh\n"
        f'echo "python3 $*" >> {log}\n'
        'case "$*" in\n'
        f'  *"import ensurepip"*) [ -e {tmp_path}/installed ] ;;\n'
        '  *version_info*) echo 3.12 ;;\n'
        '  *) exit 0 ;;\n'
        'esac\n')
    for f in bin_.iterdir():
        f.chmod(0o755)
    proc = subprocess.run(["bash", str(ROOT / "autograder" / "gradescope" / "setup.sh")], capture_output=True,
                          text=True, timeout=60, env={"PATH": f"{bin_}:/usr/bin:/bin",
                                                      "PGDRILL_AUTOGRADER_ROOT": str(tmp_path)})
    calls = log.read_text().splitlines()
    installs = [c for c in calls if c.startswith("apt-get install")]
    assert any("python3-venv" in c for c in installs) and any("python3.12-venv" in c for c in installs), calls
    venv = next(i for i, c in enumerate(calls) if c.startswith("python3 -m venv"))
    assert venv > max(i for i, c in enumerate(calls) if c.startswith("apt-get install"))  # installed first
    assert proc.returncode != 0  # the stand-in python3 made no virtualenv: the script stops there
