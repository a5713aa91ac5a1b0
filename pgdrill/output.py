"""Output helpers every renderer shares: what each audience sees, formatting, the report pages.

``pgdrill.render`` (text, Markdown, HTML, JSON and the dispatch by format) and
``pgdrill.classroom`` (GitHub Classroom, Gradescope, PrairieLearn) both build on this module
and never on each other. ``for_audience`` decides once what a learner may see (see
``pgdrill.render``); ``render_markdown`` and ``render_html`` fill the Jinja templates of
``pgdrill/templates/``; the rest formats points, marks and learner text safely for a terminal
or for Markdown.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from pgdrill.report import CheckResult, Evidence, ExerciseResult, GradeReport, StatementOutcome, Status, Visibility

if TYPE_CHECKING:
    import jinja2

# jinja2 (and markupsafe) are imported when a Markdown or HTML report is first rendered: the
# text and JSON reports, what a learner's loop prints, never need them.

TEMPLATE_DIR = Path(__file__).parent / "templates"

# check_id of the stand-in for a learner's withheld checks; not a valid spec id, so it never
# collides with a real check.
WITHHELD_ID = "(hidden)"

# Statement outcomes listed as errors in every format.
STATEMENT_PROBLEMS = ("error", "timeout", "refused")

# Text format: at most this many evidence rows, cells cut at this width.
TEXT_MAX_ROWS = 20
TEXT_MAX_CELL = 40


class Audience(str, enum.Enum):
    LEARNER = "learner"
    INSTRUCTOR = "instructor"


# --------------------------------------------------------------------------------------------
# What each audience sees


def is_withheld(check: CheckResult) -> bool:
    return check.check_id == WITHHELD_ID


def shown_to_learner(check: CheckResult, *, due_date_passed: bool = False) -> bool:
    if check.visibility is Visibility.HIDDEN:
        return False
    if check.visibility is Visibility.AFTER_DUE_DATE:
        return due_date_passed
    return True


def for_audience(report: GradeReport, audience: Audience | str, *, due_date_passed: bool = False) -> GradeReport:
    """The report ``audience`` may see; totals are unchanged (see the module docstring)."""
    if Audience(audience) is Audience.INSTRUCTOR:
        return report
    exercises = []
    for ex in report.exercises:
        shown = [_without_answers(c) for c in ex.checks if shown_to_learner(c, due_date_passed=due_date_passed)]
        held = [c for c in ex.checks if not shown_to_learner(c, due_date_passed=due_date_passed)]
        if held:
            shown.append(_withheld(ex.exercise, held))
        exercises.append(dataclasses.replace(ex, checks=tuple(shown)))
    return dataclasses.replace(report, exercises=tuple(exercises), seed=None)


# A seeded database's name carries the seed as _r<seed>_ whatever follows it: _tmpl, a
# variant's name, the prepared baseline's _base, a build's _build.
_SEED_MENTIONS = (re.compile(r"\bseed \d+"), re.compile(r"(\bpgdrill_\w*?_s[0-9p]+_r)\d+(?=_)"))


def redact_seed(text: str) -> str:
    """``text`` without the seed numbers it names ("seed 4242", a database's ``_r4242_``)."""
    text = _SEED_MENTIONS[0].sub("seed (hidden)", text)
    return _SEED_MENTIONS[1].sub(r"\1…", text)


ANSWER_WITHHELD = Evidence("text", "Expected answer",
                           "The expected rows and the query that produces them are shown to instructors only; "
                           "the message says how many rows are missing or should not be there, and your own "
                           "rows are shown as they came back.")


def _without_answers(check: CheckResult) -> CheckResult:
    kept = tuple(e for e in check.evidence if not e.instructor_only)
    if len(kept) == len(check.evidence):
        return check
    return dataclasses.replace(check, evidence=kept + (ANSWER_WITHHELD,))


def _withheld(exercise: str, held: list[CheckResult]) -> CheckResult:
    points = sum(c.points for c in held)
    max_points = sum(c.max_points for c in held)
    if all(c.status is Status.PASSED for c in held):
        status = Status.PASSED
    elif points > 0:
        status = Status.PARTIAL
    else:
        status = Status.FAILED
    n = len(held)
    return CheckResult(
        exercise=exercise,
        check_id=WITHHELD_ID,
        check="",
        description=f"{n} hidden check{'s' if n != 1 else ''}",
        points=points,
        max_points=max_points,
        status=status,
        message="Their results are not shown; their points are included in the total.",
        visibility=Visibility.HIDDEN,
    )


# --------------------------------------------------------------------------------------------
# Shared helpers


def fmt_points(value: float) -> str:
    """2.0 -> '2', 1.5 -> '1.5', 0.333333 -> '0.33'."""
    value = round(float(value), 2)
    return f"{value:g}" if value != int(value) else str(int(value))


def percent(points: float, max_points: float) -> int:
    return round(100 * points / max_points) if max_points else 100


def statement_problems(ex: ExerciseResult) -> list[StatementOutcome]:
    return [s for s in ex.statements if s.status in STATEMENT_PROBLEMS]


def counts(report: GradeReport) -> dict[str, int]:
    out = {s.value: 0 for s in Status}
    for ex in report.exercises:
        for c in ex.checks:
            if not is_withheld(c):
                out[c.status.value] += 1
    return out


MARKS = {Status.PASSED: "✓", Status.PARTIAL: "◐", Status.FAILED: "✗", Status.ERROR: "!"}
WITHHELD_MARK = "•"


def mark(check: CheckResult) -> str:
    return WITHHELD_MARK if is_withheld(check) else MARKS[check.status]


def needs_details(check: CheckResult) -> bool:
    """Failures (and errors, partial credit) are expanded; withheld results never are."""
    return not is_withheld(check) and check.status is not Status.PASSED


def _meta_line(report: GradeReport) -> str:
    parts = []
    if report.server_version:
        parts.append(f"PostgreSQL {report.server_version}")
    if report.scale is not None:
        parts.append(f"scale {fmt_points(report.scale)}")
    if report.seed is not None:
        parts.append(f"seed {report.seed}")
    if report.started_at:
        parts.append(report.started_at)
    if report.duration_s:
        parts.append(f"{report.duration_s:.1f} s")
    return " · ".join(parts)


def _visibility_note(check: CheckResult) -> str:
    if is_withheld(check) or check.visibility is Visibility.VISIBLE:
        return ""
    return "hidden" if check.visibility is Visibility.HIDDEN else "after due date"


# --------------------------------------------------------------------------------------------
# Text


# Learner text (error messages, query results, file and folder names) reaches every output.
# For a terminal, these characters are commands, not text: C0 controls but newline and tab
# (ESC starts cursor moves and colours, CR and BS overwrite what was printed), DEL, the C1
# controls (U+009B is a one-byte CSI), and the invisible Unicode format characters that
# reorder or hide text (bidirectional overrides and isolates, zero-width characters).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _visible_escape(m: re.Match) -> str:
    code = ord(m[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: Any) -> str:
    """Text with every control character shown as a visible escape (``\\x1b``, ``\\u202e``):
    nothing in it can move the cursor, recolour, overwrite or reorder what is printed."""
    return _CONTROL.sub(_visible_escape, str(text).replace("\r\n", "\n"))


def one_line(text: Any) -> str:
    """Learner text that must stay on its line (a name, a file name): line breaks become ``↵``."""
    return terminal_safe(str(text).replace("\r\n", "\n").replace("\n", "↵"))


def _indent(text: str, prefix: str) -> list[str]:
    return [prefix + line if line else prefix.rstrip() for line in str(text).splitlines()] or [prefix.rstrip()]


def _labelled(label: str, text: str, prefix: str) -> list[str]:
    """``label`` then ``text``; continuation lines aligned under the text."""
    first, *rest = _indent(text, prefix + " " * len(label))
    return [prefix + label + first[len(prefix) + len(label):]] + rest


def _cell(value: str, width: int = TEXT_MAX_CELL) -> str:
    value = str(value).replace("\r", "").replace("\n", "↵").replace("\t", " ")
    return value if len(value) <= width else value[: width - 1] + "…"


def text_table(columns: Iterable[str], rows: Iterable[Iterable[str]], max_rows: int = TEXT_MAX_ROWS) -> list[str]:
    """A small aligned table: header, rule, rows (cut at ``max_rows``)."""
    columns = [_cell(c) for c in columns]
    rows = [list(r) for r in rows]
    shown = [[_cell(v) for v in r] for r in rows[:max_rows]]
    ncols = max([len(columns)] + [len(r) for r in shown]) if (columns or shown) else 0
    columns += [""] * (ncols - len(columns))
    shown = [r + [""] * (ncols - len(r)) for r in shown]
    widths = [max([len(columns[i])] + [len(r[i]) for r in shown]) for i in range(ncols)]
    lines = []
    if any(columns):
        lines.append(" | ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
        lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in shown]
    if len(rows) > max_rows:
        lines.append(f"… {len(rows) - max_rows} more row{'s' if len(rows) - max_rows != 1 else ''}")
    if not rows:
        lines.append("(no rows)")
    return lines


def _text_evidence(ev: Evidence, prefix: str) -> list[str]:
    label = {"plan": "Plan", "rows": "Rows", "sql": "SQL"}.get(ev.kind, "Evidence")
    lines = [f"{prefix}{label}: {ev.title}" if ev.title else f"{prefix}{label}:"]
    inner = prefix + "  "
    if ev.kind == "rows" or ev.columns or ev.rows:
        lines += [inner + line for line in text_table(ev.columns, ev.rows)]
        if ev.body:
            lines += _indent(ev.body, inner)
    elif ev.body:
        lines += _indent(ev.body, inner + ("│ " if ev.kind in ("plan", "sql") else ""))
    return lines


def self_check_note(report: GradeReport, exercise: str) -> str:
    """For a self-check run in a student template: the checks it could not run, and why."""
    held = (report.meta.get("self_check") or {}).get(exercise)
    if not held or not held.get("withheld_checks"):
        return ""
    n, points = held["withheld_checks"], fmt_points(held.get("withheld_points", 0))
    return (f"Self-check: {n} more check{'s' if n != 1 else ''} ({points} points) compare your results with "
            "the answer key; they run only when your work is graded (push it).")


# --------------------------------------------------------------------------------------------
# Markdown and HTML (jinja2)

# Backslash-escaping ASCII punctuation is always valid CommonMark. Learner text gets escaped
# what can start markup inline (emphasis, code, links, HTML, entities, tables, strikethrough),
# what GitHub turns into a link by itself (``https://…``, ``www.…``, ``name@host``), and,
# at the start of each line, what would open a block there: a list item (``-``, ``+``,
# ``1.``), a setext underline (``===``, ``---``), a quote or heading (``>``, ``#``, escaped
# anyway). None of it can then forge a line of the grader's (a heading, a "✓ 20/20" item).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&!#@])")
_MD_AUTOLINK = re.compile(r"(?i)(:)(?=//)|(?<=www)(\.)")
_MD_BLOCK_START = re.compile(r"^([-+=])|^(\d+)([.)])")


def md_escape(text: Any) -> str:
    """Inline Markdown text, one line (for headings, table cells and each line of a block)."""
    text = " ".join(terminal_safe(text).split())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_AUTOLINK.sub(lambda m: "\\" + m[0], text)
    return _MD_BLOCK_START.sub(lambda m: "\\" + m[1] if m[1] else m[2] + "\\" + m[3], text)


def md_block(text: Any) -> str:
    """Markdown text that keeps its line breaks (hard breaks with a trailing backslash)."""
    lines = [md_escape(line) for line in str(text).strip().splitlines()]
    return "\\\n".join(line for line in lines)


def md_code(text: Any) -> str:
    """An inline code span that survives backticks and pipes."""
    text = " ".join(terminal_safe(text).split())
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def md_fence(body: Any, lang: str = "") -> str:
    """A fenced code block longer than any run of backticks inside ``body``."""
    body = terminal_safe(body).rstrip("\n")
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{body}\n{fence}"


def _printable(value: Any) -> Any:
    import markupsafe

    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return terminal_safe(value)
    return value


def _environment(autoescape: bool) -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Every value a template prints loses its control characters first: in HTML too, a
        # bidirectional override would show "\u202e02/02" as "20/20".
        finalize=_printable,
    )
    env.filters.update(pts=fmt_points, md=md_escape, md_block=md_block, md_code=md_code, md_fence=md_fence)
    env.globals.update(
        mark=mark,
        is_withheld=is_withheld,
        needs_details=needs_details,
        statement_problems=statement_problems,
        percent=percent,
        visibility_note=_visibility_note,
        self_check_note=self_check_note,
        Status=Status,
    )
    return env


_ENVS: dict[bool, "jinja2.Environment"] = {}


def _template(name: str, autoescape: bool) -> jinja2.Template:
    if autoescape not in _ENVS:
        _ENVS[autoescape] = _environment(autoescape)
    return _ENVS[autoescape].get_template(name)


def _context(report: GradeReport, audience: Audience) -> dict:
    return {
        "report": report,
        "audience": audience.value,
        "meta_line": _meta_line(report),
        "counts": counts(report),
    }


def render_markdown(report: GradeReport, audience: Audience = Audience.LEARNER) -> str:
    text = _template("report.md.j2", autoescape=False).render(_context(report, audience))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(report: GradeReport, audience: Audience = Audience.LEARNER) -> str:
    return _template("report.html.j2", autoescape=True).render(_context(report, audience))
