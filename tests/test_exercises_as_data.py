"""Every exercise of exercises/, tested from data alone, against real PostgreSQL.

For each exercise — whatever its name; a new one is tested without being listed anywhere:
- the reference solution (solutions/<id>/) scores full marks, with every statement running
  cleanly (but for a statement whose failure a query_fails check expects), at two grading
  seeds where the spec's seed is ``grading`` (at its one seed otherwise);
- the untouched starter scores the baseline its README documents ("The untouched starter
  scores N of M"), M being the spec's total; with a baseline of 0, no check passes;
- every wrong-submission variant (tests/data/submissions/<id>/<variant>/, the starter's own
  expectations in a ``starter`` folder) meets its expect.yaml: per-check status, points and
  what the learner (and the instructor) is told. docs/testing.md describes the format.

Gradings are shared through the session fixture ``graded`` (tests/conftest.py), so that a
bespoke test looking closer at the same submission does not grade it again.
"""

from __future__ import annotations

import re

import pytest
from kit import (
    EXPECT_FILE,
    NOT_VARIANTS,
    SUBMISSIONS,
    ExpectError,
    exercise_ids,
    expectation_problems,
    failures,
    load,
    load_expect,
    passed,
    submission_folder,
    variants,
)

from pgdrill.grading import EXERCISES_DIR
from pgdrill.report import Status

EXERCISES = exercise_ids()
OTHER_SEED = 7  # a second grading seed, besides the session's (--incident-seed, 1 by default)

BASELINE = re.compile(r"untouched starters? scores? (\d+(?:\.\d+)?) of (\d+(?:\.\d+)?)")


def documented_baseline(exercise: str) -> tuple[float, float]:
    """The "(The) untouched starter scores N of M" of the exercise's README."""
    text = (EXERCISES_DIR / exercise / "README.md").read_text()
    m = BASELINE.search(" ".join(text.replace("*", "").split()))
    assert m, f"exercises/{exercise}/README.md does not say what the untouched starter scores"
    return float(m.group(1)), float(m.group(2))


def reference_runs() -> list:
    runs = []
    for exercise in EXERCISES:
        spec = load(exercise)
        hidden_seed = spec.incident.fixture == "techshop" and spec.incident.seed == "grading"
        runs.append(pytest.param(exercise, None, id=exercise))
        if hidden_seed:
            runs.append(pytest.param(exercise, OTHER_SEED, id=f"{exercise}-seed{OTHER_SEED}"))
    return runs


def all_variants() -> list:
    return [pytest.param(e, v, id=f"{e}/{v}") for e in EXERCISES for v in variants(e)]


# ------------------------------------------------------------------------------------------
# Without a database


@pytest.mark.parametrize("exercise", EXERCISES)
def test_readme_documents_the_starter_baseline_out_of_the_spec_total(exercise):
    _, total = documented_baseline(exercise)
    assert total == load(exercise).max_points


def test_every_variant_folder_carries_a_valid_expect_yaml(tmp_path):
    folders = [p for p in SUBMISSIONS.glob("*/*") if p.is_dir() and p.name not in NOT_VARIANTS]
    assert folders
    problems = []
    for folder in folders:
        exercise = folder.parent.name
        if exercise not in EXERCISES:
            problems.append(f"{folder}: no exercise {exercise!r} in exercises/")
            continue
        if not (folder / EXPECT_FILE).is_file():
            problems.append(f"{folder}: no {EXPECT_FILE}")
            continue
        try:
            expect = load_expect(folder / EXPECT_FILE, {c.id for c in load(exercise).checks})
        except ExpectError as exc:
            problems.append(str(exc))
            continue
        has_files = any(p.name != EXPECT_FILE for p in folder.iterdir())
        if not has_files and expect.get("base") is None:
            problems.append(f"{folder}: no files, and no base to take them from")
        if expect.get("edits"):
            try:  # each edit still finds its text in the base, once
                submission_folder(exercise, folder, expect["base"], tmp_path / exercise / folder.name, expect["edits"])
            except ExpectError as exc:
                problems.append(str(exc))
    assert not problems, "\n".join(problems)


def test_expect_yaml_errors_name_file_line_and_key(tmp_path):
    bad = tmp_path / EXPECT_FILE
    bad.write_text("about: x\nunlisted: passed\nchecks:\n  some-check:\n    status: failing\n  other:\n    says: []\n")
    with pytest.raises(ExpectError) as exc:
        load_expect(bad)
    text = str(exc.value)
    assert f"{bad}:5: checks.some-check.status: 'failing' is not allowed" in text
    assert f"{bad}:7: checks.other.says: needs at least 1 item(s)" in text
    bad.write_text("about: x\nunlisted: passed\nchecks:\n  no-such-check: {status: passed}\n")
    with pytest.raises(ExpectError, match=r":4: checks.no-such-check: the exercise has no check 'no-such-check'"):
        load_expect(bad, {"a-check"})


# ------------------------------------------------------------------------------------------
# Graded


@pytest.mark.parametrize("exercise, seed", reference_runs())
def test_reference_scores_full_marks(graded, exercise, seed):
    result = graded(exercise, "reference", seed)
    assert not result.error, result.error
    assert not failures(result), failures(result)
    assert result.points == result.max_points == load(exercise).max_points > 0
    # Only a statement whose failure is the finding may fail: one a query_fails check expects.
    expected_states = set()
    for check in load(exercise).checks:
        if check.check == "query_fails":
            states = check.args["sqlstate"]
            expected_states.update([states] if isinstance(states, str) else states)
    failed = [(s.file, s.line, s.sqlstate, s.message) for s in result.statements
              if s.status not in ("ok", "skipped") and s.sqlstate not in expected_states]
    assert not failed, "the reference must run cleanly"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_starter_scores_its_documented_baseline(graded, exercise):
    result = graded(exercise, "starter")
    assert not result.error, result.error
    points, total = documented_baseline(exercise)
    assert (result.points, result.max_points) == (points, total), failures(result)
    if points == 0:
        # Doing nothing earns nothing: a guard of good data pays only once a fix does.
        assert passed(result) == set()


@pytest.mark.parametrize("exercise, variant", all_variants())
def test_variant_meets_its_expect_yaml(graded, pg_server, templates, incident_key, exercise, variant):
    expect = load_expect(SUBMISSIONS / exercise / variant / EXPECT_FILE, {c.id for c in load(exercise).checks})
    result = graded(exercise, variant)
    assert not result.error, result.error
    # Counts named in phrases come from the incident the variant was graded on (never written down).
    manifest = templates.template(incident_key).manifest if "{faults." in str(expect) else None
    problems = expectation_problems(result, expect, server_version=pg_server.version_num, manifest=manifest)
    assert not problems, "\n".join(problems)
    assert all(c.status is not Status.ERROR for c in result.checks if c.check_id not in expect["checks"]), \
        [(c.check_id, c.message) for c in result.checks if c.status is Status.ERROR]


def test_expectations_catch_what_a_grading_falls_short_of():
    """The comparison itself, on a made-up result: each way of falling short is named."""
    from kit import expectation_problems

    from pgdrill.report import CheckResult, Evidence, ExerciseResult, StatementOutcome

    def check(check_id, status, points, message, evidence=()):
        return CheckResult(exercise="x", check_id=check_id, check="rows_match", description="d", points=points,
                           max_points=2, status=Status(status), message=message, feedback="why it matters",
                           evidence=evidence)

    answer = Evidence(kind="rows", title="Expected rows come from", rows=(("secret", "15"),), instructor_only=True)
    result = ExerciseResult("x", "X", (
        check("a", "failed", 0, "2 expected row(s) are missing", (answer,)),
        check("b", "partial", 1, "half of it"),
        check("c", "passed", 2, "fine"),
    ), (StatementOutcome(file="s.sql", line=3, sql="DROP TABLE t", status="error", sqlstate="42501",
                         message="must be owner"),))
    manifest = {"faults": [{"id": "orphans", "count": 15}]}

    def problems(expect, version=180000):
        return expectation_problems(result, {"unlisted": "not_asserted", **expect}, server_version=version,
                                    manifest=manifest)

    right = {"checks": {"a": {"status": "failed", "points": 0, "says": ["missing", "why it matters"],
                              "instructor_says": ["secret | {faults.orphans.count}"], "never_says": ["secret"]},
                        "b": {"status": "partial", "points": 1}},
             "score": 3, "statements": {"clean": True, "errors": [{"sql_says": "DROP TABLE", "sqlstate": "42501",
                                                                  "says": "owner"}]}}
    assert problems(right) == []
    wrong = [
        {"checks": {"a": {"status": "passed"}}},                       # status
        {"checks": {"b": {"status": "not_passed", "points": 2}}},      # points
        {"checks": {"a": {"says": ["secret"]}}},                       # instructor-only, not for the learner
        {"checks": {"a": {"never_says": ["missing"]}}},                # the learner is told it
        {"checks": {"a": {"instructor_says": ["{faults.orphans.count+1}"]}}},
        {"checks": {"c": {"status": "passed"}}, "unlisted": "passed"},  # a and b do not pass
        {"checks": {"c": {"status": "passed"}}, "score": "partial", "statements": {"clean": True}},
        {"checks": {"c": {"status": "passed"}}, "score": {"at_most": 2}},
        {"checks": {"c": {"status": "passed"}}, "statements": {"errors": [{"sql_says": "DROP", "sqlstate": "42P01"}]}},
        {"checks": {"zz": {"status": "passed"}}},
    ]
    for expect in wrong:
        assert problems(expect), expect
    # before_postgres replaces the expectation on older servers only
    older = {"checks": {"c": {"status": "failed", "before_postgres": {"version": 18, "status": "passed"}}}}
    assert problems(older, version=150000) == [] and problems(older, version=180000)
