"""Renderers: one ``GradeReport`` in, one document out (text, Markdown, HTML, JSON).

Every format renders the same data. What a learner may see is decided once, before any
renderer runs, by ``for_audience``:

* ``Audience.INSTRUCTOR`` sees everything.
* ``Audience.LEARNER`` (the default) does not see checks with visibility ``hidden`` (nor
  ``after_due_date`` ones unless ``due_date_passed=True``): per exercise they are folded into
  ONE stand-in result, ``check_id == WITHHELD_ID``, that carries only how many there are and
  their summed points. The totals therefore stay the real totals — the learner's score is
  the score — but no hidden check's id, name, description, message, feedback, hint or
  evidence, nor which of them passed, reaches the output. The learner view also drops
  ``seed``, because a grading seed is secret (``seed: grading`` in the spec), and every
  evidence marked ``instructor_only`` — reference queries and the expected rows of the graded
  seed, which are the answer: the learner keeps the counts, their own rows, the why and
  the hint, and a note that the expected answer is for instructors. ``redact_seed`` keeps the
  seed out of the progress lines a learner-facing run prints (a CI job log is the learner's to read).

New formats (Classroom, Gradescope, PrairieLearn) add an ``OutputFormat`` member and a
function decorated with ``@renderer(fmt)``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, Callable

from pgdrill import classroom
from pgdrill.output import (  # noqa: F401 - the names renderers and callers have always found here
    ANSWER_WITHHELD, MARKS, STATEMENT_PROBLEMS, TEMPLATE_DIR, TEXT_MAX_CELL, TEXT_MAX_ROWS, WITHHELD_ID,
    WITHHELD_MARK, Audience, _indent, _labelled, _meta_line, _text_evidence, _visibility_note, _without_answers, counts,
    fmt_points, for_audience, is_withheld, mark, md_block, md_code, md_escape, md_fence, needs_details, one_line,
    percent, redact_seed, render_html, render_markdown, self_check_note, shown_to_learner, statement_problems,
    terminal_safe, text_table,
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


class OutputFormat(str, enum.Enum):
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"
    # Autograder front ends (pgdrill/classroom.py builds their documents; docs/classroom.md).
    CLASSROOM = "classroom"        # GitHub Classroom runner result (JSON; base64 in $GITHUB_OUTPUT)
    GRADESCOPE = "gradescope"      # Gradescope results.json
    PRAIRIELEARN = "prairielearn"  # PrairieLearn external grader results.json

    @property
    def extension(self) -> str:
        return {"text": ".txt", "markdown": ".md", "html": ".html", "json": ".json", "classroom": ".json",
                "gradescope": ".json", "prairielearn": ".json"}.get(self.value, ".txt")


Renderer = Callable[[GradeReport, Audience], str]
_RENDERERS: dict[OutputFormat, Renderer] = {}


def renderer(fmt: OutputFormat) -> Callable[[Renderer], Renderer]:
    """Register the function rendering ``fmt``."""

    def register(func: Renderer) -> Renderer:
        _RENDERERS[OutputFormat(fmt)] = func
        return func

    return register


def render(
    report: GradeReport,
    fmt: OutputFormat | str = OutputFormat.TEXT,
    *,
    audience: Audience | str = Audience.LEARNER,
    due_date_passed: bool = False,
) -> str:
    """Render ``report`` as ``fmt`` for ``audience`` (see the module docstring)."""
    fmt = OutputFormat(fmt)
    audience = Audience(audience)
    if fmt not in _RENDERERS:
        raise ValueError(f"no renderer for format {fmt.value!r}")
    return _RENDERERS[fmt](for_audience(report, audience, due_date_passed=due_date_passed), audience)


# --------------------------------------------------------------------------------------------
# Text (its helpers are shared: pgdrill/output.py)


@renderer(OutputFormat.TEXT)
def render_text(report: GradeReport, audience: Audience = Audience.LEARNER) -> str:
    out: list[str] = []
    head = f"pgdrill report: {one_line(report.submission)}" if report.submission else "pgdrill report"
    out.append(f"{head} — {fmt_points(report.points)}/{fmt_points(report.max_points)} points "
               f"({percent(report.points, report.max_points)}%)")
    meta = _meta_line(report)
    if meta:
        out.append(meta)
    for ex in report.exercises:
        out.append("")
        out.append(f"{ex.title} [{ex.exercise}] — {fmt_points(ex.points)}/{fmt_points(ex.max_points)}")
        if ex.error:
            out += _indent(f"! not graded: {ex.error}", "  ")
        held = self_check_note(report, ex.exercise)
        if held:
            out.append(f"  {held}")
        pts = [f"{fmt_points(c.points)}/{fmt_points(c.max_points)}" for c in ex.checks]
        width = max((len(p) for p in pts), default=0)
        for c, points in zip(ex.checks, pts):
            tag = _visibility_note(c)
            name = c.check_id
            if audience is Audience.INSTRUCTOR and c.check:
                name += f" ({c.check})"
            desc = c.description if is_withheld(c) else f"{name}: {c.description}"
            if tag:
                desc += f" ({tag})"
            first, *rest = (desc.splitlines() or [""])
            out.append(f"  {mark(c)} {points.rjust(width)}  {first}")
            pad = " " * (5 + width)
            out += [pad + line for line in rest]
            if c.message:
                out += _indent(c.message, pad)
            if needs_details(c):
                if c.feedback:
                    out += _labelled("Why: ", c.feedback, pad)
                if c.hint:
                    out += _labelled("Hint: ", c.hint, pad)
                for ev in c.evidence:
                    out += _text_evidence(ev, pad)
        problems = statement_problems(ex)
        if problems:
            out.append("  Statement errors:")
            for s in problems:
                code = f" [{s.sqlstate}]" if s.sqlstate else ""
                out += _labelled(f"{s.file}:{s.line}: {s.status}{code}: ", s.message or "(no message)", "    ")
    tallies = counts(report)
    tally = ", ".join(f"{n} {name}" for name, n in tallies.items() if n)
    out.append("")
    out.append(f"Total: {fmt_points(report.points)}/{fmt_points(report.max_points)} points"
               + (f" · {tally}" if tally else ""))
    # Every line above may carry learner text; here it loses its control characters. Lines
    # it brings are indented under their check, so none can pass for a score or the total.
    return terminal_safe("\n".join(out)) + "\n"


# Markdown and HTML fill the report templates (pgdrill/output.py).
renderer(OutputFormat.MARKDOWN)(render_markdown)
renderer(OutputFormat.HTML)(render_html)


# --------------------------------------------------------------------------------------------
# JSON


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@renderer(OutputFormat.JSON)
def render_json(report: GradeReport, audience: Audience = Audience.LEARNER) -> str:
    return json.dumps(_plain(report.to_dict()), indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


# --------------------------------------------------------------------------------------------
# Autograder front ends: documents built by pgdrill.classroom


def _front_end_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


@renderer(OutputFormat.CLASSROOM)
def render_classroom(report: GradeReport, audience: Audience = Audience.LEARNER) -> str:
    # Compact: the reporter takes it from one environment variable, whose size is capped.
    result = classroom.classroom_result(report, instructor=audience is Audience.INSTRUCTOR)
    return classroom.compact_json(result) + "\n"


@renderer(OutputFormat.GRADESCOPE)
def render_gradescope(report: GradeReport, audience: Audience = Audience.LEARNER) -> str:
    return _front_end_json(classroom.gradescope_result(report, instructor=audience is Audience.INSTRUCTOR))


@renderer(OutputFormat.PRAIRIELEARN)
def render_prairielearn(report: GradeReport, audience: Audience = Audience.LEARNER) -> str:
    return _front_end_json(classroom.prairielearn_result(report, instructor=audience is Audience.INSTRUCTOR))


# Gradescope withholds hidden tests from students itself, so it gets every check by default.
DEFAULT_AUDIENCE = {OutputFormat.GRADESCOPE: Audience.INSTRUCTOR}


def default_audience(fmt: OutputFormat | str) -> Audience:
    return DEFAULT_AUDIENCE.get(OutputFormat(fmt), Audience.LEARNER)


def report_from_dict(data: dict) -> GradeReport:
    """The inverse of ``GradeReport.to_dict`` (and so of the JSON format)."""

    def build(cls, values: dict, **nested):
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in values.items() if k in names}
        kwargs.update(nested)
        return cls(**kwargs)

    def evidence(e: dict) -> Evidence:
        return build(Evidence, e, columns=tuple(e.get("columns", ())), rows=tuple(tuple(r) for r in e.get("rows", ())))

    def check(c: dict) -> CheckResult:
        return build(
            CheckResult, c,
            status=Status(c["status"]),
            visibility=Visibility(c.get("visibility", "visible")),
            evidence=tuple(evidence(e) for e in c.get("evidence", ())),
        )

    exercises = tuple(
        build(
            ExerciseResult, ex,
            checks=tuple(check(c) for c in ex.get("checks", ())),
            statements=tuple(build(StatementOutcome, s) for s in ex.get("statements", ())),
        )
        for ex in data.get("exercises", ())
    )
    return build(GradeReport, data, exercises=exercises, meta=dict(data.get("meta") or {}))


def load_json(text: str) -> GradeReport:
    return report_from_dict(json.loads(text))
