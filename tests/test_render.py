"""Renderers: every format shows every visible check; HTML escapes; hidden checks stay hidden."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from pgdrill.render import (
    WITHHELD_ID,
    Audience,
    OutputFormat,
    for_audience,
    is_withheld,
    load_json,
    md_code,
    md_escape,
    md_fence,
    render,
    report_from_dict,
    text_table,
)
from pgdrill.report import (
    CheckResult,
    Evidence,
    ExerciseResult,
    GradeReport,
    StatementOutcome,
    Status,
    Visibility,
)

FORMATS = list(OutputFormat)
HUMAN = [OutputFormat.TEXT, OutputFormat.MARKDOWN, OutputFormat.HTML]
NASTY = "found <script>alert('x')</script> in `products` | a|b & ``double`` *star* _under_ [link](http://x)"
SECRET_WORDS = ("SECRET", "secret-id", "secret_check", "after-id", "LATER")


def _check(check_id, status, points, max_points, **kw):
    kw.setdefault("description", f"Description of {check_id}.")
    kw.setdefault("message", f"Message of {check_id}.")
    return CheckResult(
        exercise=kw.pop("exercise", "demo"), check_id=check_id, check=kw.pop("check", "index_exists"),
        points=points, max_points=max_points, status=status, **kw,
    )


def sample_report() -> GradeReport:
    demo = ExerciseResult(
        exercise="demo",
        title="Speed up the search",
        checks=(
            _check("passing", Status.PASSED, 2, 2),
            _check(
                "failing", Status.FAILED, 0, 3,
                description="The search uses the index | not a seq scan",
                message=NASTY,
                feedback="A LIKE '%x%' search\ncannot use a b-tree <index>.",
                hint="Look at `pg_trgm`.",
                evidence=(
                    Evidence("plan", "EXPLAIN of the search",
                             "Seq Scan on products  (cost=0.00..2041.00 rows=1 width=4)\n  Filter: (name ~~ '%x%'::text)"),
                    Evidence("rows", "Orphaned items", columns=("id", "order_id"),
                             rows=(("1", "5"), ("22", "a|b`c<td>"))),
                    Evidence("sql", "The query", "SELECT * FROM products WHERE name LIKE '%x%'"),
                    Evidence("text", "Note", "first line\nsecond line"),
                ),
            ),
            _check("partial", Status.PARTIAL, 0.5, 1.5),
            _check("crashed", Status.ERROR, 0, 1, message="server closed the connection unexpectedly"),
            _check("secret-id", Status.FAILED, 0, 2, check="secret_check", description="SECRET description",
                   message="SECRET message", feedback="SECRET feedback", hint="SECRET hint",
                   evidence=(Evidence("text", "SECRET evidence", "SECRET body"),), visibility=Visibility.HIDDEN),
            _check("after-id", Status.PASSED, 1, 1, description="LATER description", message="LATER message",
                   visibility=Visibility.AFTER_DUE_DATE),
        ),
        statements=(
            StatementOutcome("solution.sql", 3, "SELECT 1", "ok"),
            StatementOutcome("solution.sql", 12, "CREATE INDEX ON nope (x)", "error",
                             'relation "nope" does not exist', "42P01"),
            StatementOutcome("solution.sql", 20, "SELECT pg_sleep(100)", "timeout", "canceling statement due to statement timeout", "57014"),
        ),
    )
    broken = ExerciseResult(exercise="broken", title="Could not run", checks=(), error="setup.sql failed: <oops>")
    second = ExerciseResult(exercise="second", title="Integrity", checks=(_check("fk", Status.PASSED, 1, 1, exercise="second"),))
    return GradeReport(
        submission="alice", exercises=(demo, broken, second), seed=987654321, scale=1,
        server_version="16.4", started_at="2025-01-01T10:00:00Z", duration_s=12.3, meta={"course": "db101"},
    )


def _points(fmt: OutputFormat, c: CheckResult) -> str:
    p = f"{c.points:g}/{c.max_points:g}"
    return p if fmt is OutputFormat.TEXT else p.replace("/", " / ")


def _visible_checks(report: GradeReport):
    return [c for ex in report.exercises for c in ex.checks if c.visibility is Visibility.VISIBLE]


# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", HUMAN)
@pytest.mark.parametrize("audience", list(Audience))
def test_every_visible_check_and_its_points_are_shown(fmt, audience):
    report = sample_report()
    out = render(report, fmt, audience=audience)
    for c in _visible_checks(report):
        assert c.check_id in out, c.check_id
        assert _points(fmt, c) in out, (c.check_id, _points(fmt, c))
        if c.check_id != "failing":  # its description has characters each format escapes
            assert c.description in out
    total = f"{report.points:g}/{report.max_points:g}"
    assert (total if fmt is OutputFormat.TEXT else total.replace("/", " / ")) in out
    for ex in report.exercises:
        assert ex.title in out


@pytest.mark.parametrize("audience", list(Audience))
def test_json_has_every_visible_check(audience):
    report = sample_report()
    data = json.loads(render(report, "json", audience=audience))
    shown = {c["check_id"]: c for ex in data["exercises"] for c in ex["checks"]}
    for c in _visible_checks(report):
        assert shown[c.check_id]["points"] == c.points and shown[c.check_id]["max_points"] == c.max_points
    assert (data["points"], data["max_points"]) == (report.points, report.max_points)


@pytest.mark.parametrize("fmt", HUMAN)
def test_failures_show_feedback_hint_evidence_and_statement_errors(fmt):
    out = render(sample_report(), fmt)
    for needle in ("cannot use a b", "pg", "trgm", "Seq Scan on products", "Filter:", "Orphaned items",
                   "order", "22", "solution.sql:12", "42P01", 'relation "nope" does not exist',
                   "solution.sql:20", "setup.sql failed"):
        expected = needle.replace('"', "&#34;") if fmt is OutputFormat.HTML else needle
        assert expected in out, needle
    assert "solution.sql:3" not in out  # statements that ran fine are not listed


def test_text_layout():
    out = render(sample_report(), "text")
    lines = out.splitlines()
    assert lines[0].startswith("pgdrill report: alice") and "/" in lines[0]
    failing = next(i for i, line in enumerate(lines) if "failing:" in line)
    assert re.match(r"\s+✗\s+0/3  failing: ", lines[failing])
    assert any(line.lstrip().startswith("✓") and "passing:" in line for line in lines)
    assert any(line.lstrip().startswith("!") and "crashed:" in line for line in lines)
    # The plan is preformatted (each line kept, indented) and the rows are a small table.
    assert any(line.endswith("│   Filter: (name ~~ '%x%'::text)") for line in lines)
    header = next(line for line in lines if line.strip().startswith("id "))
    rule = lines[lines.index(header) + 1]
    assert header.strip() == "id | order_id" and set(rule.strip()) == {"-", "+"}
    assert "solution.sql:12: error [42P01]: relation \"nope\" does not exist" in out
    assert lines[-1].startswith("Total: ")


def test_text_table_aligns_and_caps():
    table = text_table(("a", "long column"), [("1", "x"), ("22222", "y\nz")] + [("r", "s")] * 30, max_rows=3)
    assert table[0] == "a     | long column"
    assert table[1] == "------+------------"
    assert table[3] == "22222 | y↵z"
    assert table[-1] == "… 29 more rows"
    assert text_table((), ()) == ["(no rows)"]


def test_html_is_escaped_self_contained_and_well_formed():
    out = render(sample_report(), "html", audience="instructor")
    assert out.startswith("<!DOCTYPE html>")
    assert "<script" not in out.lower()
    assert "&lt;script&gt;" in out and "&lt;td&gt;" in out and "&lt;oops&gt;" in out
    for external in ("src=", "<link", "@import", "url(", 'href="http', "<iframe", "<object"):
        assert external not in out, external
    assert "<style>" in out and "<details" in out
    _assert_balanced(out)


class _TagChecker(HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def _assert_balanced(html: str) -> None:
    checker = _TagChecker()
    checker.feed(html)
    checker.close()
    assert checker.stack == []


def test_markdown_escapes_html_pipes_and_backticks():
    out = render(sample_report(), "markdown", audience="instructor")
    assert "<script>" not in out and "<td>" not in out and "<oops>" not in out and "<index>" not in out
    assert r"\<script\>" in out
    # Every table row has exactly as many unescaped pipes as its table's header.
    tables: list[list[str]] = []
    in_table = False
    for line in out.splitlines():
        if line.startswith("|"):
            if not in_table:
                tables.append([])
            tables[-1].append(line)
            in_table = True
        else:
            in_table = False
    assert len(tables) >= 3
    for rows in tables:
        counts = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert len(counts) == 1, rows


def test_markdown_helpers():
    assert md_escape("a|b <c> `d` *e*") == r"a\|b \<c\> \`d\` \*e\*"
    assert md_escape("two\nlines") == "two lines"
    assert md_code("plain") == "`plain`"
    assert md_code("has ` tick") == "`` has ` tick ``"
    assert md_code("a|b") == r"`a\|b`"
    fenced = md_fence("x ``` y")
    assert fenced.startswith("````\n") and fenced.endswith("\n````")


@pytest.mark.parametrize("fmt", FORMATS)
def test_hidden_checks_do_not_leak_to_learners(fmt):
    report = sample_report()
    learner = render(report, fmt)
    for word in SECRET_WORDS:
        assert word not in learner, word
    assert "987654321" not in learner  # the seed may be the secret grading seed
    instructor = render(report, fmt, audience=Audience.INSTRUCTOR)
    if fmt == "classroom":
        # The runner result holds what the reporter prints (names, points): the instructor's
        # check functions and seed are in the job summary instead.
        from pgdrill.classroom import job_summary

        assert "secret-id" in instructor and "secret_check" not in instructor
        instructor = job_summary(report, instructor=True)
    for word in SECRET_WORDS:
        assert word in instructor, word
    assert "987654321" in instructor


def _answer_report() -> GradeReport:
    """A failed rows check whose evidence holds the answer (reference SQL, expected rows)."""
    evidence = (Evidence("sql", "Expected rows come from", "SELECT ANSWERSQL FROM t", instructor_only=True),
                Evidence("rows", "Missing from your result", columns=("name",), rows=(("ANSWERROW",),),
                         instructor_only=True),
                Evidence("rows", "Unexpected rows in your result", columns=("name",), rows=(("MYROW",),)))
    ex = ExerciseResult("e", "E", (_check("rows", Status.FAILED, 0, 2, message="1 expected row(s) are missing",
                                          feedback="WHYTEXT", hint="HINTTEXT", evidence=evidence),))
    return GradeReport("s", (ex,))


@pytest.mark.parametrize("fmt", FORMATS)
def test_learners_never_see_the_answer_instructors_do(fmt):
    learner = render(_answer_report(), fmt)
    assert "ANSWERSQL" not in learner and "ANSWERROW" not in learner
    # The Classroom result carries no feedback at all (the reporter prints messages of errors
    # only; the job summary, rendered as Markdown, has it).
    for kept in () if fmt is OutputFormat.CLASSROOM else ("MYROW", "1 expected row(s) are missing", "WHYTEXT",
                                                           "HINTTEXT", "instructors only"):
        assert kept in learner, kept
    instructor = render(_answer_report(), fmt, audience=Audience.INSTRUCTOR)
    if fmt in HUMAN or fmt is OutputFormat.JSON:
        assert "ANSWERSQL" in instructor and "ANSWERROW" in instructor
    else:  # an autograder's test output is read by students whatever the audience
        assert "ANSWERSQL" not in instructor and "ANSWERROW" not in instructor


@pytest.mark.parametrize("fmt", HUMAN)
def test_after_due_date_checks_show_once_the_deadline_passed(fmt):
    out = render(sample_report(), fmt, due_date_passed=True)
    assert "LATER description" in out and "after-id" in out
    assert "SECRET" not in out


def test_hidden_points_still_count():
    report = sample_report()
    learner = for_audience(report, Audience.LEARNER)
    assert (learner.points, learner.max_points) == (report.points, report.max_points)
    demo = learner.exercises[0]
    (held,) = [c for c in demo.checks if is_withheld(c)]
    assert held.check_id == WITHHELD_ID and held.check == "" and held.evidence == ()
    assert (held.points, held.max_points, held.status) == (1, 3, Status.PARTIAL)
    assert held.description == "2 hidden checks"
    assert [c.check_id for c in learner.exercises[2].checks] == ["fk"]  # nothing hidden: no stand-in
    assert learner.seed is None
    assert for_audience(report, "instructor") is report


def test_withheld_status():
    def one(status, points):
        ex = ExerciseResult("e", "E", (_check("h", status, points, 1, visibility=Visibility.HIDDEN),))
        return for_audience(GradeReport("s", (ex,)), "learner").exercises[0].checks[0].status

    assert one(Status.PASSED, 1) is Status.PASSED
    assert one(Status.FAILED, 0) is Status.FAILED
    assert one(Status.ERROR, 0) is Status.FAILED


@pytest.mark.parametrize("audience", list(Audience))
def test_json_round_trips(audience):
    report = sample_report()
    text = render(report, OutputFormat.JSON, audience=audience)
    assert load_json(text) == for_audience(report, audience)
    assert render(load_json(text), "json", audience="instructor") == text


def test_json_uses_strings_for_enums_and_a_stable_key_order():
    report = sample_report()
    text = render(report, "json", audience="instructor")
    data = json.loads(text)
    check = data["exercises"][0]["checks"][1]
    assert check["status"] == "failed" and check["visibility"] == "visible"
    assert list(data) == sorted(data) and list(check) == sorted(check)
    assert text == render(report, "json", audience="instructor")
    assert report_from_dict(report.to_dict()) == report


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_report_renders(fmt):
    out = render(GradeReport(submission="", exercises=()), fmt)
    assert out.strip()
    if fmt is OutputFormat.HTML:
        _assert_balanced(out)


def test_formats_and_audiences_by_name():
    report = sample_report()
    assert render(report, "markdown") == render(report, OutputFormat.MARKDOWN, audience="learner")
    assert OutputFormat.HTML.extension == ".html"
    with pytest.raises(ValueError):
        render(report, "pdf")
    with pytest.raises(ValueError):
        render(report, "text", audience="everyone")
