"""Feedback teaches without telling (issue 12, item 7), end to end on real PostgreSQL.

Wrong submissions of several exercises are graded once; the instructor's report of that run
holds the answers of the graded database (the expected values, the plan's numbers, the rows
a result misses — evidence marked ``instructor_only``). Rendered for the learner, in every
format, the same report must not contain any of them: the learner reads their own values,
counts, the why and the hint, never the graded seed's answer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pgdrill.grading import SOLUTIONS_DIR
from pgdrill.render import render
from pgdrill.report import GradeReport, Status

SUBMISSIONS = Path(__file__).resolve().parent / "data" / "submissions"
# Wrong submissions made from a reference by one edit: (file, what, replaced by).
EDITS = {
    "typed-in-plan-numbers": (  # the plan's numbers typed in, none of them the graded database's
        "slow_queries.sql",
        "SELECT count(*) FILTER (WHERE name LIKE '%laptop%')      AS rows_returned,\n"
        "       count(*) FILTER (WHERE NOT name LIKE '%laptop%')  AS rows_removed,\n"
        "       count(*) FILTER (WHERE name ILIKE '%laptop%')     AS laptops_in_catalogue\nFROM products;",
        "SELECT 7 AS rows_returned, 7 AS rows_removed, 7 AS laptops_in_catalogue;"),
}

# (exercise, wrong submission): between them value_matches (1.1, 4.4), plan_value_matches
# (2.1, the typed-in numbers), rows_match (1.1, 2.1) and report_findings (5.3) fail with
# answers to hide.
WRONG = [
    ("techshop-1-1-assess", "half-done"),
    ("techshop-2-1-slow-queries", "half-done"),
    ("techshop-2-1-slow-queries", "typed-in-plan-numbers"),
    ("techshop-4-4-verify", "unproven"),
    ("techshop-5-3-report", "wrong-numbers"),
]
# Columns of instructor-only evidence that hold what the learner wrote, not the answer.
LEARNER_OWN = {"yours", "number given", "numbers near it", "finding", "node", "relation"}
# Columns that hold the graded database's answer in any evidence.
ANSWER = {"expected", "plan", "estimated rows", "actual rows", "rows removed by filter"}
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def _answers(check: dict) -> set[str]:
    """Numbers of the graded database that the instructor's evidence of ``check`` holds."""
    found = set()
    for ev in check["evidence"]:
        if ev["kind"] != "rows":
            continue
        for row in ev["rows"]:
            for column, value in zip(ev["columns"], row):
                # an instructor's table, or a column of expected values wherever it stands
                answer = (ev["instructor_only"] and column.lower() not in LEARNER_OWN) or column.lower() in ANSWER
                if answer and _NUMBER.match(value.strip()):
                    found.add(value.strip())
    return found


def _own(check: dict, submission_text: str) -> set[str]:
    """Numbers the learner may legitimately see in ``check``'s learner view: their own values
    and rows, the spec's own texts, their submission."""
    words = set(re.findall(r"-?\d+(?:\.\d+)?", submission_text + check["description"] + check["feedback"]
                           + check["hint"]))
    for ev in check["evidence"]:
        for row in ev["rows"]:
            for column, value in zip(ev["columns"], row):
                if (not ev["instructor_only"] and column.lower() not in ANSWER) or column.lower() in LEARNER_OWN:
                    words.update(re.findall(r"-?\d+(?:\.\d+)?", value))
    return words


def _contains(text: str, number: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(number)}(?![\w]|\.\d)", text) is not None


@pytest.mark.parametrize("exercise, submission", WRONG, ids=[f"{e}-{s}" for e, s in WRONG])
def test_the_learner_never_sees_the_graded_databases_answers(grade, exercise, submission):
    if submission in EDITS:
        name, old, new = EDITS[submission]
        reference = (SOLUTIONS_DIR / exercise / name).read_text()
        assert old in reference
        folder = {name: reference.replace(old, new)}
        submitted = folder[name]
    else:
        folder = SUBMISSIONS / exercise / submission
        submitted = "\n".join(p.read_text(errors="replace") for p in sorted(folder.rglob("*")) if p.is_file())
    result = grade(exercise, folder)
    report = GradeReport(submission=submission, exercises=(result,))
    instructor = json.loads(render(report, "json", audience="instructor"))
    learner_json = json.loads(render(report, "json", audience="learner"))
    learner_checks = {c["check_id"]: c for c in learner_json["exercises"][0]["checks"]}
    outputs = {fmt: render(report, fmt, audience="learner") for fmt in ("text", "markdown", "html")}

    looked = 0
    for check in instructor["exercises"][0]["checks"]:
        if check["status"] == Status.PASSED.value:
            continue
        answers = _answers(check) - _own(check, submitted)
        if not answers:
            continue
        mine = learner_checks.get(check["check_id"])
        assert mine is not None, check["check_id"]
        # what the learner reads about this check, less its score ("3 of 5 findings", points)
        seen = "\n".join([re.sub(r"\b\d+ of \d+\b", "", mine["message"])]
                         + [e["body"] + json.dumps(e["rows"], ensure_ascii=False) for e in mine["evidence"]])
        for number in answers:
            looked += 1
            assert not _contains(seen, number), (check["check_id"], number, mine["message"])
            # the whole rendered report too, for the numbers no other line of it explains
            if len(number.lstrip("-").replace(".", "")) >= 3:
                for fmt, text in outputs.items():
                    assert not _contains(text, number), (fmt, check["check_id"], number)
        assert not any(e["instructor_only"] for e in mine["evidence"])
    assert looked > 0, "the wrong submission failed no check that has an answer to hide"
