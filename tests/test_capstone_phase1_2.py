"""Capstone Phases 1 and 2, the diagnosis exercises, graded end to end against real PostgreSQL.

tests/test_exercises_as_data.py grades the reference solutions (two seeds), the untouched
starters (which run none of the named queries: tests/data/submissions/<id>/starter/) and the
half-done files (partial credit with feedback that names what is wrong: <id>/half-done/).
Here: a learner who copies the lab's answers as literals loses the points whose answer moves
with the seed (or with the run: pids, commit times), and the cases a variant cannot show.
"""

from __future__ import annotations

import re

import pytest
from kit import by_id, failures, text_of
from psycopg import sql

from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.report import Status

# exercise id -> the SQL file the learner edits
EXERCISES = {
    "techshop-1-1-assess": "assess.sql",
    "techshop-1-2-connections": "connections.sql",
    "techshop-1-3-recent-changes": "changes.sql",
    "techshop-2-1-slow-queries": "slow_queries.sql",
    "techshop-2-2-index-usage": "index_usage.sql",
    "techshop-2-3-statistics-bloat": "statistics.sql",
}
LAB_SEED = 1      # the seed a learner practises on
OTHER_SEED = 7    # a grading seed the learner never saw


failed = failures


# ------------------------------------------------------------------------------------------
# Conventions


def test_spec_conventions():
    """Capstone conventions: order 100 + phase*10 + task, the hidden grading seed, scale 1,
    and a reference solution with its NOTES.md for every exercise."""
    from pgdrill import checks
    from pgdrill.spec import load_spec

    for exercise, path in EXERCISES.items():
        spec = load_spec(EXERCISES_DIR / exercise / "exercise.yaml", checks.load_all())
        phase, task = re.match(r"techshop-(\d)-(\d)-", exercise).groups()
        assert spec.order == 100 + 10 * int(phase) + int(task)
        assert spec.incident.seed == "grading" and spec.incident.scale == 1
        assert [f.path for f in spec.files] == [path]
        assert (EXERCISES_DIR / exercise / path).exists()
        assert (SOLUTIONS_DIR / exercise / path).exists()
        assert (SOLUTIONS_DIR / exercise / "NOTES.md").read_text().strip()
        assert not (EXERCISES_DIR / exercise / "NOTES.md").exists()
        # every check teaches: a failed one says why it matters (the starter fails them all)
        assert all(c.feedback.strip() for c in spec.checks), exercise


# ------------------------------------------------------------------------------------------
# Copying the lab's answers


def _literal_query(conn, captured) -> str:
    """A query returning exactly the rows ``captured`` held, as constants (what a learner who
    pastes the lab's output into their file submits)."""
    cols = [sql.Identifier(c).as_string(conn) for c in captured.columns]
    if not captured.rows:
        return "SELECT " + ", ".join(f"NULL AS {c}" for c in cols) + " WHERE false"
    values = ",\n       ".join(
        "(" + ", ".join([str(n)] + [sql.Literal(v).as_string(conn) for v in row]) + ")"
        for n, row in enumerate(captured.rows))
    return (f"SELECT {', '.join(cols)}\nFROM (VALUES {values})\n     AS lab(row_number, {', '.join(cols)})\n"
            "ORDER BY row_number")


def literal_submission(server, templates, scale, exercise, seed=LAB_SEED) -> dict[str, str]:
    """Run the reference solution on a clone of the lab's seed (or ``seed``; with the exercise's
    background activity, if any) and freeze every named result into literals."""
    from pgdrill import checks
    from pgdrill.fixtures.activity import Activity
    from pgdrill.fixtures.templates import FixtureKey
    from pgdrill.runner import run_sql_text
    from pgdrill.spec import load_spec

    spec = load_spec(EXERCISES_DIR / exercise / "exercise.yaml", checks.load_all())
    path = EXERCISES[exercise]
    with templates.clone(FixtureKey("techshop", scale, seed)) as lab:
        activity = Activity(server, lab.dbname, seed=seed).start(spec.incident.activity) \
            if spec.incident.activity else None
        try:
            run = run_sql_text(server, lab.dbname, (SOLUTIONS_DIR / exercise / path).read_text())
        finally:
            if activity is not None:
                activity.stop()
        with lab.connect() as conn:
            parts = [f"-- name: {name}\n{_literal_query(conn, captured)};\n"
                     for name, captured in run.captured.items()]
    assert run.captured and not any(c.error for c in run.captured.values())
    return {path: "-- Answers copied from the lab.\n\n" + "\n".join(parts)}


# exercise -> (checks whose answer differs between the lab and the grading copy, what the same
# literals score on the lab's own seed: "pass" when the answers are a pure function of the
# seed, "fail" when they change with every run — pids, commit times —, "contrast" when the
# exercise's contrast database (tests/test_contrasts.py) fails them even there, or None: not
# re-graded)
HARD_CODED = {
    "techshop-1-1-assess": (["table-sizes", "row-counts"], "contrast"),
    "techshop-1-2-connections": (["long-running", "idle-in-transaction", "blocking", "connection-errors"], "fail"),
    "techshop-1-3-recent-changes": (["last-modified"], "fail"),
    "techshop-2-1-slow-queries": (["search-rows-returned", "search-rows-removed", "status-actual-rows"], None),
    "techshop-2-2-index-usage": (["index-usage"], None),
    "techshop-2-3-statistics-bloat": (["stale-statistics", "status-statistics", "dead-tuple-counts"], "pass"),
}
# exercise -> checks whose literals, right where they were copied, the exercise's contrast fails
# there all the same (2.3: the server's analyze settings, typed in, are not a table's own)
LITERALS_CAUGHT_BY_CONTRAST = {"techshop-2-3-statistics-bloat": {"stale-statistics"}}


@pytest.mark.parametrize("exercise", list(HARD_CODED))
def test_answers_copied_from_the_lab_fail_on_the_grading_seed(grade, pg_server, templates, incident_key, exercise):
    must_fail, on_lab_seed = HARD_CODED[exercise]
    literal = literal_submission(pg_server, templates, incident_key.scale, exercise)
    other = grade(exercise, literal, seed=OTHER_SEED)
    results = by_id(other)
    for check_id in must_fail:
        assert results[check_id].status is not Status.PASSED, (check_id, results[check_id].message)
        assert "missing" in results[check_id].message or "reports" in results[check_id].message
    assert other.points < other.max_points
    if on_lab_seed == "pass":
        # Where they were copied the literals are right: the failures above come from the
        # seed, not from the copying.
        same = grade(exercise, literal, seed=LAB_SEED)
        caught = LITERALS_CAUGHT_BY_CONTRAST.get(exercise, set())
        assert {check_id for check_id, _ in failed(same)} == caught, failed(same)
        assert all("not on a second database" in by_id(same)[c].message for c in caught)
    elif on_lab_seed == "contrast":
        # Where they were copied the literals fit the graded database, and fail on the contrast.
        same = by_id(grade(exercise, literal, seed=LAB_SEED))
        assert all("not on a second database" in same[c].message for c in must_fail)
    elif on_lab_seed == "fail":
        # pids and commit times change every time the incident is set up: even the lab's own
        # seed does not reproduce them.
        same = by_id(grade(exercise, literal, seed=LAB_SEED))
        assert all(same[c].status is not Status.PASSED for c in must_fail)


# ------------------------------------------------------------------------------------------
# Half-done submissions: partial credit, and feedback that names the reason


# The half-done files (tests/data/submissions/<id>/half-done/) are graded against their
# expect.yaml by tests/test_exercises_as_data.py; the tests below look closer at some.


def test_slow_queries_a_plan_number_copied_wrong_is_explained(grade):
    """The plan checks name the plan's node next to the learner's number (its own number is for instructors)."""
    reference = (SOLUTIONS_DIR / "techshop-2-1-slow-queries" / "slow_queries.sql").read_text()
    # A learner who counts the laptops case-insensitively has not read the plan's filter.
    wrong = reference.replace("count(*) FILTER (WHERE name LIKE '%laptop%')      AS rows_returned",
                              "count(*) FILTER (WHERE name ILIKE '%laptop%')     AS rows_returned")
    assert wrong != reference
    check = by_id(grade("techshop-2-1-slow-queries", {"slow_queries.sql": wrong}))["search-rows-returned"]
    assert check.status is Status.FAILED
    assert "not the Actual Rows the plan's Seq Scan on products reports" in check.message
    assert not any(e.instructor_only for e in check.evidence if e.title == "Your value")
    assert "Seq Scan" in text_of(check) and "LIKE '%laptop%'" in text_of(check)


def test_dead_tuple_counts_allow_the_counters_drift_not_another_counter(grade):
    # Two clones of one seed differ by what on-access pruning removed while each replayed its
    # traffic (0.03 % seen under load): counts off by that much are the right answer. Counting
    # the changes instead (n_tup_upd + n_tup_del) misses the pruned versions and must fail.
    def dead_tuples(expression):
        return {"statistics.sql": "-- name: dead_tuples\n"
                f"SELECT relname AS table_name, {expression} AS n_dead_tup FROM pg_stat_user_tables\n"}
    drifted = by_id(grade("techshop-2-3-statistics-bloat", dead_tuples("n_dead_tup + round(n_dead_tup * 0.0003)")))
    assert drifted["dead-tuple-counts"].status is Status.PASSED, drifted["dead-tuple-counts"].message
    changes = by_id(grade("techshop-2-3-statistics-bloat", dead_tuples("n_tup_upd + n_tup_del")))
    assert changes["dead-tuple-counts"].status is Status.FAILED
    assert "missing" in changes["dead-tuple-counts"].message


def test_a_failed_diagnosis_shows_learners_counts_and_their_rows_never_the_answer(graded):
    from pgdrill.render import Audience, render
    from pgdrill.report import GradeReport

    exercise = "techshop-1-1-assess"
    result = graded(exercise, "half-done")
    counts = by_id(result)["row-counts"]
    assert counts.status is Status.FAILED
    answer = [e for e in counts.evidence if e.instructor_only]
    assert {e.title for e in answer} >= {"Expected rows come from"}
    reference = next(e.body for e in answer if e.title == "Expected rows come from")
    report = GradeReport(submission="s", exercises=(result,))
    for fmt in ("text", "json", "gradescope", "markdown"):
        learner = render(report, fmt)
        assert "1 expected row(s) are missing" in learner
        assert reference.splitlines()[0] not in learner and "instructors only" in learner
    # The Classroom result carries no feedback (the job summary, Markdown, has it): nor the answer.
    assert reference.splitlines()[0] not in render(report, "classroom")
    for fmt in ("text", "json"):
        assert reference.splitlines()[0] in render(report, fmt, audience=Audience.INSTRUCTOR)
    # Gradescope shows a visible test's output to the student whatever the audience.
    assert reference.splitlines()[0] not in render(report, "gradescope", audience=Audience.INSTRUCTOR)


def test_an_analyze_before_the_diagnosis_is_named_as_what_destroyed_the_evidence(grade):
    # The README forbids ANALYZE and VACUUM: they reset what 2.3 measures. A learner who runs
    # one first is told that their own statement is why the rows differ.
    reference = (SOLUTIONS_DIR / "techshop-2-3-statistics-bloat" / "statistics.sql").read_text()
    result = by_id(grade("techshop-2-3-statistics-bloat", {"statistics.sql": "ANALYZE;\n" + reference}))
    stale = result["stale-statistics"]
    assert stale.status is Status.FAILED
    assert "Your file ran ANALYZE (statistics.sql, line 1) before this query" in stale.message
    # (A wrong answer without any maintenance gets no such note: half-done/expect.yaml.)


# ------------------------------------------------------------------------------------------
# plan_value_matches, the check written for these exercises, case by case


PLAN_SETUP = """
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO items SELECT g, CASE WHEN g % 7 = 0 THEN 'Laptop ' ELSE 'Phone ' END || g FROM generate_series(1, 500) g;
ANALYZE items;
"""
SEARCH = "SELECT id, name FROM items WHERE name LIKE 'Laptop%' ORDER BY name LIMIT 5"


@pytest.fixture
def plan_db(make_clone):
    from pathlib import Path as _Path

    from pgdrill.checks.base import CheckContext
    from pgdrill.fixtures.sandbox import GRADER, LEARNER
    from pgdrill.runner import run_sql_text

    clone = make_clone(fixture="empty")
    with clone.connect(LEARNER) as conn:
        conn.execute(PLAN_SETUP)
    opened = []

    def grader():
        if not opened:
            opened.append(clone.connect(GRADER, purpose="grader"))
        return opened[0]

    def context(learner_sql: str) -> CheckContext:
        run = run_sql_text(clone.server, clone.dbname, learner_sql)
        return CheckContext(exercise_id="t", exercise_dir=_Path("."), submission_dir=_Path("."), manifest={},
                            grader=grader, learner=lambda: None, captured=run.captured,
                            server=clone.server, dbname=clone.dbname)

    yield context
    for conn in opened:
        conn.close()


def test_plan_value_matches_a_computed_number(plan_db):
    from pgdrill.checks.results import plan_value_matches

    ctx = plan_db("-- name: search\nSELECT count(*) FILTER (WHERE name LIKE 'Laptop%') AS returned,"
                  " count(*) FILTER (WHERE name NOT LIKE 'Laptop%') AS removed FROM items;")
    for column, field in (("returned", "Actual Rows"), ("removed", "Rows Removed by Filter")):
        out = plan_value_matches(ctx, query="search", column=column, explain=SEARCH, relation="items", field=field)
        assert out.passed, out.message
        assert field in out.message


def test_plan_value_matches_shows_the_plan_node_when_wrong(plan_db):
    from pgdrill.checks.results import plan_value_matches

    ctx = plan_db("-- name: search\nSELECT 70 AS removed;")
    out = plan_value_matches(ctx, query="search", column="removed", explain=SEARCH, relation="items",
                             field="Rows Removed by Filter")
    assert not out.passed
    assert "returned 70" in out.message and "not the Rows Removed by Filter the plan's Seq Scan on items" in out.message
    # the plan's number is the answer: instructors see it, the learner's view never does
    assert "429" not in out.message
    assert not any("429" in str(e.rows) + e.body for e in out.evidence if not e.instructor_only)
    node = next(e for e in out.evidence if e.title == "The plan's node")
    assert node.instructor_only and node.rows[0][0] == "Seq Scan" and node.rows[0][1] == "items"
    assert "429" in str(node.rows)
    assert any(e.kind == "sql" and "LIKE 'Laptop%'" in e.body for e in out.evidence)


def test_plan_value_matches_text_fields_and_tolerance(plan_db):
    from pgdrill.checks.results import plan_value_matches

    ctx = plan_db("-- name: scan\nSELECT 'Seq Scan' AS node, 74 AS about;")
    assert plan_value_matches(ctx, query="scan", column="node", explain=SEARCH, relation="items",
                              field="Node Type").passed
    # 71 rows pass the filter: 74 is within 5 %, not exact.
    assert not plan_value_matches(ctx, query="scan", column="about", explain=SEARCH, relation="items",
                                  field="Actual Rows").passed
    assert plan_value_matches(ctx, query="scan", column="about", explain=SEARCH, relation="items",
                              field="Actual Rows", relative_tolerance=0.05).passed


def test_plan_value_matches_wants_one_row_and_the_named_column(plan_db):
    from pgdrill.checks.results import plan_value_matches

    ctx = plan_db("-- name: many\nSELECT id FROM items WHERE id < 3;\n-- name: one\nSELECT 1 AS a, 2 AS b;")
    out = plan_value_matches(ctx, query="many", explain=SEARCH, relation="items", field="Actual Rows")
    assert not out.passed and "a single row was expected" in out.message
    out = plan_value_matches(ctx, query="one", column="removed", explain=SEARCH, relation="items",
                             field="Actual Rows")
    assert not out.passed and "no column named 'removed'" in out.message
    out = plan_value_matches(ctx, query="one", explain=SEARCH, relation="items", field="Actual Rows")
    assert not out.passed and "return just the one value" in out.message
    out = plan_value_matches(ctx, query="absent", explain=SEARCH, relation="items", field="Actual Rows")
    assert not out.passed and "did not run a query named 'absent'" in out.message


def test_plan_value_matches_spec_and_learner_mistakes(plan_db):
    from pgdrill.checks.results import ReferenceQueryError, plan_value_matches

    ctx = plan_db("-- name: n\nSELECT 1;")
    with pytest.raises(ReferenceQueryError, match="no field 'Rows Removed by Index Recheck'"):
        plan_value_matches(ctx, query="n", explain=SEARCH, relation="items", field="Rows Removed by Index Recheck")
    with pytest.raises(ReferenceQueryError, match="no node of the plan reads public.orders"):
        plan_value_matches(ctx, query="n", explain=SEARCH, relation="orders", field="Actual Rows")
    # The learner dropped the table the plan reads: their doing, explained, not a crash.
    ctx = plan_db("-- name: n\nSELECT 1;\nDROP TABLE items;")
    out = plan_value_matches(ctx, query="n", explain=SEARCH, relation="items", field="Actual Rows")
    assert not out.passed and "fails on your database" in out.message
