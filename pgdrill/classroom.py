"""Autograder front ends: GitHub Classroom / Actions, Gradescope and PrairieLearn.

Each one is a renderer of the one ``GradeReport`` (registered in ``pgdrill.render`` as the
formats ``classroom``, ``gradescope`` and ``prairielearn``); this module builds their
documents. docs/classroom.md says where every field comes from.

* **GitHub Classroom / Actions** — the runner result that
  ``classroom-resources/autograding-grading-reporter@v1`` decodes from ``<RUNNER_ID>_RESULTS``
  (base64 JSON). Points must be whole numbers there, so ``whole_points`` converts them by a
  documented rule that never shows more than was earned. ``publish_github`` writes the
  base64 result to ``$GITHUB_OUTPUT`` and a Markdown job summary to ``$GITHUB_STEP_SUMMARY``,
  so every check's points show in the Actions run even without the Classroom app.
* **Gradescope** — ``results.json`` with one test per check; hidden checks keep their
  visibility (``hidden`` / ``after_due_date``) and Gradescope withholds them itself, so this
  format is rendered for the instructor audience by default.
* **PrairieLearn** — the external grader's ``results.json``: ``score`` as a fraction,
  ``gradable``, and ``tests[]`` with ``points`` / ``max_points`` / ``message``.

A check that could not run (``Status.ERROR``) is a failure everywhere: zero points and a
message saying why, never a skipped test. ``unavailable_report`` builds such a report when
the grader cannot even start its server.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import math
import os
import re
from typing import Iterable

from pgdrill.output import (Audience, _meta_line, _text_evidence, _without_answers, fmt_points, for_audience,
                            is_withheld, mark, md_code, md_escape, percent, render_markdown, statement_problems,
                            terminal_safe)
from pgdrill.report import CheckResult, ExerciseResult, GradeReport, Status, Visibility

# Keeps float noise (0.1 + 0.2) from costing a whole point when points are converted.
EPS = 1e-9

# The step output the workflow hands to the reporter as ``<RUNNER_ID>_RESULTS``.
GITHUB_OUTPUT_NAME = "result"

# PrairieLearn limits results.json to 1 MB; Gradescope shows outputs in a collapsed <pre>.
# Long evidence is cut so that one noisy check cannot push the document over a limit.
MAX_TEST_OUTPUT = 8_000
MAX_TOTAL_OUTPUT = 200_000


# --------------------------------------------------------------------------------------------
# Shared pieces


def _withheld(check: CheckResult) -> bool:
    return is_withheld(check)


def check_name(ex: ExerciseResult, check: CheckResult) -> str:
    """One line naming a check for a front end's test list."""
    if _withheld(check):
        return f"{ex.exercise} · {check.description}"
    return f"{ex.exercise} · {check.check_id}: {' '.join(check.description.split())}"


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 40].rstrip() + f"\n… ({len(text) - limit + 40} more characters cut)"


def inert_text(text: str) -> str:
    """Text for a front end's JSON, which shows it as plain text and logs it: control characters
    shown as visible escapes (``render.terminal_safe``), and no line that GitHub Actions would
    take for a workflow command (``::error::…``, ``::add-mask::…``) when the reporter prints it."""
    return _WORKFLOW_COMMAND.sub(r"\1: :", terminal_safe(text))


_WORKFLOW_COMMAND = re.compile(r"(?m)^(\s*)::")


def check_text(check: CheckResult, *, instructor: bool = False) -> str:
    """A check's result as plain text: what was checked, what was found, why, a hint, evidence.

    Students read this text on every front end (Gradescope shows a visible test's output even
    when the file is rendered for the instructor), so the answer — evidence marked
    ``instructor_only`` — never goes into it.
    """
    check = _without_answers(check)
    lines = [check.description.strip()]
    if instructor and check.check:
        lines.append(f"Check: {check.check} ({check.visibility.value})")
    if check.message:
        lines.append(f"Result: {check.message.strip()}")
    if check.status is not Status.PASSED and not _withheld(check):
        if check.feedback:
            lines.append(f"Why it matters: {' '.join(check.feedback.split())}")
        if check.hint:
            lines.append(f"Hint: {check.hint.strip()}")
        for ev in check.evidence:
            lines.extend(_text_evidence(ev, ""))
    return _cap(inert_text("\n".join(lines)), MAX_TEST_OUTPUT)


def statement_lines(ex: ExerciseResult) -> list[str]:
    out = []
    for s in statement_problems(ex):
        code = f" [{s.sqlstate}]" if s.sqlstate else ""
        out.append(f"{ex.exercise}/{s.file}:{s.line}: {s.status}{code}: {s.message or '(no message)'}")
    return out


def summary_text(report: GradeReport, *, with_meta: bool) -> str:
    """The submission-level text: total, per exercise, grader problems and statement errors."""
    lines = [f"pgdrill: {fmt_points(report.points)} / {fmt_points(report.max_points)} points "
             f"({percent(report.points, report.max_points)}%)"]
    if with_meta:
        meta = _meta_line(report)
        if meta:
            lines.append(meta)
    for ex in report.exercises:
        lines.append(f"- {ex.title} [{ex.exercise}]: {fmt_points(ex.points)} / {fmt_points(ex.max_points)}")
        if ex.error:
            lines.append(f"  not graded: {ex.error}")
        lines += ["  " + line for line in statement_lines(ex)]
    if not report.exercises:
        lines.append("No exercise was graded.")
    return _cap(inert_text("\n".join(lines)), MAX_TOTAL_OUTPUT)


def grader_failed(report: GradeReport) -> bool:
    """True when nothing could be graded: no exercise, or every exercise stopped with an error."""
    return not report.exercises or all(ex.error for ex in report.exercises)


def grader_problems(report: GradeReport) -> list[str]:
    """Why the grader (not the submission) could not grade: an exercise it could not prepare or
    run, or nothing graded at all. Empty when the grade is the submission's own."""
    problems = sorted({ex.error for ex in report.exercises if ex.error})
    return problems or (["no exercise was graded"] if not report.exercises else [])


def unavailable_report(specs: Iterable, why: str, submission: str = "") -> GradeReport:
    """Every check of every spec as an error scoring 0: the grader itself could not run."""
    exercises = tuple(
        ExerciseResult(
            spec.id, spec.title,
            tuple(CheckResult(spec.id, c.id, c.check, c.description, 0.0, c.points, Status.ERROR,
                              f"not graded: {why}", visibility=Visibility(c.visibility))
                  for c in spec.checks),
            (), error=why,
        )
        for spec in specs
    )
    return GradeReport(submission=submission, exercises=exercises)


# --------------------------------------------------------------------------------------------
# Whole points (GitHub Classroom)


@dataclasses.dataclass(frozen=True)
class WholePoints:
    exercise: ExerciseResult
    check: CheckResult
    score: int
    max_score: int


def _round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5 + EPS))


def _apportion(values: list[float], total: int) -> list[int]:
    """Largest-remainder rounding: whole numbers near ``values`` that add up to ``total``."""
    out = [int(math.floor(v + EPS)) for v in values]
    order = sorted(range(len(values)), key=lambda i: (-(values[i] - out[i]), i))
    for i in order[: max(0, total - sum(out))]:
        out[i] += 1
    return out


def whole_points(report: GradeReport) -> list[WholePoints]:
    """Convert every check's points to whole numbers for GitHub Classroom.

    The rule (docs/classroom.md, "Whole points"):

    1. Maximums: each check's maximum is rounded by the largest-remainder method so that
       they add up to the report's maximum rounded to the nearest whole point (a course
       whose points are whole numbers keeps every maximum as it is).
    2. The total: full marks when every check passed; otherwise the points earned rounded
       *down*, and at least one point below full marks. The whole-number total therefore
       never exceeds what was earned, and shows full marks only for a perfect submission.
    3. Shares: that total is shared out over the checks by the largest-remainder method on
       their exact scores; no check gets more than its whole maximum, and a check that
       scored nothing gets nothing.
    """
    items = [(ex, c) for ex in report.exercises for c in ex.checks]
    maxes = [max(0.0, float(c.max_points)) for _, c in items]
    earned = [min(max(0.0, float(c.points)), m) for (_, c), m in zip(items, maxes)]
    int_max = _apportion(maxes, _round_half_up(sum(maxes)))

    # A check worth nothing cannot cost points: it does not stand between a submission and
    # full marks.
    if items and all(c.status is Status.PASSED or m <= 0 for (_, c), m in zip(items, maxes)):
        return [WholePoints(ex, c, m, m) for (ex, c), m in zip(items, int_max)]
    scores = [min(int(math.floor(p + EPS)), int_max[i]) for i, p in enumerate(earned)]
    target = int(math.floor(sum(earned) + EPS))
    if sum(int_max) > 0:
        target = min(target, sum(int_max) - 1)
    while sum(scores) > target:  # rounded maxima can leave floors above the target: take back
        taken = [i for i in range(len(items)) if scores[i] > 0]
        worst = min(taken, key=lambda i: (items[i][1].status is Status.PASSED, earned[i] - scores[i], -i))
        scores[worst] -= 1
    while sum(scores) < target:
        eligible = [i for i in range(len(items)) if scores[i] < int_max[i] and earned[i] - scores[i] > EPS]
        if not eligible:
            break
        best = max(eligible, key=lambda i: (earned[i] - scores[i], -i))
        scores[best] += 1
    return [WholePoints(ex, c, s, m) for (ex, c), s, m in zip(items, scores, int_max)]


# --------------------------------------------------------------------------------------------
# GitHub Classroom / Actions

# The reporter reads a runner's result from ONE environment variable, <RUNNER_ID>_RESULTS
# (base64 JSON). Linux refuses to start a process whose environment holds a string longer than
# MAX_ARG_STRLEN (32 pages: 131072 bytes, counting "NAME=", the value and the closing NUL): the
# reporter step would die with "Argument list too long" and Classroom would record nothing.
RUNNER_ID = "pgdrill"
ENV_STRING_LIMIT = 131_072
# What the base64 result may take: the limit less the name, "=" and NUL, less room to spare.
RESULT_BUDGET = ENV_STRING_LIMIT - 4_096
# The reporter prints every test's name, and a test's message only when its status is "error"
# (its console-results.js); the rest of the feedback lives in the job summary.
REPORTER_NAME_CHARS = 160
REPORTER_MESSAGE_CHARS = 500
# GitHub drops a step's job summary larger than 1 MiB; ours stays under it with room to spare.
JOB_SUMMARY_LIMIT = 1_000_000


class ClassroomDetail(str, enum.Enum):
    """How much the Classroom result holds: the first level that fits the budget is sent."""

    CHECKS = "checks"                          # one test per check, messages of errored tests
    CHECKS_NO_MESSAGES = "checks-no-messages"  # one test per check, no messages at all
    EXERCISES = "exercises"                    # one test per exercise
    TOTAL = "total"                            # one test for the whole submission


def results_env_name(runner_id: str = RUNNER_ID) -> str:
    """The environment variable the reporter reads a runner's result from."""
    return f"{runner_id.strip().upper()}_RESULTS"


def env_string_bytes(name: str, value: str) -> int:
    """Bytes one environment string takes in a new process: NAME=value and its NUL."""
    return len(name.encode("utf-8")) + 1 + len(value.encode("utf-8")) + 1


def _classroom_status(check: CheckResult) -> str:
    if check.status is Status.PASSED:
        return "pass"
    return "error" if check.status is Status.ERROR else "fail"


def _one_line(text: str, limit: int) -> str:
    """One inert line (``inert_text``: the reporter prints it into the Actions log) of at most
    ``limit`` characters."""
    text = " ".join(inert_text(" ".join(text.split())).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _runner_status(report: GradeReport) -> str:
    if grader_failed(report):
        return "error"
    return "pass" if report.all_passed else "fail"


def _classroom_test(name: str, status: str, score: int, message: str = "") -> dict:
    test = {"name": _one_line(name, REPORTER_NAME_CHARS) or "check", "status": status, "score": score,
            "line_no": 0}  # the reporter prints " - line N" for any line_no but 0
    if message and status == "error":
        test["message"] = _one_line(message, REPORTER_MESSAGE_CHARS)
    return test


def _classroom_tests(points: list[WholePoints], detail: ClassroomDetail) -> list[dict]:
    if detail in (ClassroomDetail.CHECKS, ClassroomDetail.CHECKS_NO_MESSAGES):
        with_message = detail is ClassroomDetail.CHECKS
        return [_classroom_test(check_name(wp.exercise, wp.check), _classroom_status(wp.check), wp.score,
                                (wp.check.message or wp.check.description) if with_message else "")
                for wp in points]
    groups: dict[str, list[WholePoints]] = {}
    for wp in points:
        key = wp.exercise.exercise if detail is ClassroomDetail.EXERCISES else "total"
        groups.setdefault(key, []).append(wp)
    tests = []
    for key, group in groups.items():
        statuses = {_classroom_status(wp.check) for wp in group}
        errors = sorted({wp.exercise.error for wp in group if wp.exercise.error})
        status = ("error" if statuses == {"error"} else "pass" if statuses == {"pass"} else "fail")
        passed = sum(wp.check.status is Status.PASSED for wp in group)
        if detail is ClassroomDetail.EXERCISES:
            name = f"{key} · {group[0].exercise.title}: {passed} of {len(group)} checks passed"
        else:
            name = f"pgdrill: {passed} of {len(group)} checks passed (every check in the job summary)"
        tests.append(_classroom_test(name, status, sum(wp.score for wp in group), "; ".join(errors)))
    return tests


def classroom_result_at(report: GradeReport, detail: ClassroomDetail | str) -> dict:
    """The runner result at one level of detail (``classroom_result`` picks the level)."""
    points = whole_points(report)
    return {
        "version": 1,
        "status": _runner_status(report),
        "max_score": sum(wp.max_score for wp in points),
        "tests": _classroom_tests(points, ClassroomDetail(detail)),
    }


def fit_classroom_result(report: GradeReport, budget: int = RESULT_BUDGET) -> tuple[dict, ClassroomDetail]:
    """The most detailed runner result whose base64 fits ``budget``, and its level.

    Every level records the same points (the sum of the tests' whole scores); the last one is
    a single test, which fits any sane budget.
    """
    for detail in ClassroomDetail:
        result = classroom_result_at(report, detail)
        if len(encode_runner_result(result)) <= budget:
            return result, detail
    return result, detail


def classroom_result(report: GradeReport, *, instructor: bool = False, budget: int = RESULT_BUDGET) -> dict:
    """The runner result the autograding-grading-reporter reads (see docs/classroom.md).

    Compact and within ``budget`` (base64 characters): the reporter shows names, points and the
    messages of errored tests only, so that is all it gets; the full feedback goes to the job
    summary. ``instructor`` changes nothing here: the reporter's console is the student's.
    """
    return fit_classroom_result(report, budget)[0]


def compact_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def encode_runner_result(result: dict | str) -> str:
    """Base64 of the compact JSON text, as the reporter expects in ``<RUNNER_ID>_RESULTS``."""
    text = result if isinstance(result, str) else compact_json(result)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_runner_result(encoded: str) -> dict:
    return json.loads(base64.b64decode(encoded).decode("utf-8"))


def job_summary(report: GradeReport, *, instructor: bool = False) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: every check's points, then the full report."""
    points = whole_points(report)
    whole = sum(wp.score for wp in points)
    whole_max = sum(wp.max_score for wp in points)
    lines = [
        f"## pgdrill: {fmt_points(report.points)} / {fmt_points(report.max_points)} points "
        f"({percent(report.points, report.max_points)}%)",
        "",
        f"GitHub Classroom receives **{whole} / {whole_max}** whole points "
        "(rounded down; full marks only when every check passed).",
        "",
        "| | Exercise | Check | Points | Whole points |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for wp in points:
        c = wp.check
        what = md_escape(c.description) if _withheld(c) else f"{md_code(c.check_id)} {md_escape(c.description)}"
        lines.append(f"| {mark(c)} | {md_code(wp.exercise.exercise)} | {what} | "
                     f"{fmt_points(c.points)} / {fmt_points(c.max_points)} | {wp.score} / {wp.max_score} |")
    _, detail = fit_classroom_result(report)
    if detail is not ClassroomDetail.CHECKS:
        lines += ["", f"The result sent to GitHub Classroom was shortened to fit one environment variable "
                      f"(level: {detail.value}); the points are the same, and every check is listed here."]
    if grader_failed(report):
        lines += ["", "> **The grader could not run:** "
                  + md_escape("; ".join(sorted({ex.error for ex in report.exercises if ex.error})) or "nothing was graded")]
    audience = Audience.INSTRUCTOR if instructor else Audience.LEARNER
    details = render_markdown(for_audience(report, audience), audience)
    head = "\n".join(lines)
    room = JOB_SUMMARY_LIMIT - len(head.encode("utf-8")) - 200
    if len(details.encode("utf-8")) > room:  # GitHub would drop the whole summary: cut the tail instead
        details = details.encode("utf-8")[:max(0, room)].decode("utf-8", "ignore").rstrip()
        if details.count("```") % 2:  # a code block cut open would swallow what follows
            details += "\n```"
        details += "\n\n… (the rest is cut: GitHub keeps at most 1 MiB of job summary per step)"
    return head + "\n".join(["", "", "<details><summary>Feedback for every check</summary>", "", details, "",
                              "</details>", ""])


def publish_github(report: GradeReport, result_json: str, *, instructor: bool = False,
                   environ: dict | None = None) -> list[str]:
    """Write the step output and the job summary when running in GitHub Actions.

    ``report`` is the report as rendered (already filtered for its audience). Returns the
    files written. Outside Actions (no ``$GITHUB_OUTPUT`` / ``$GITHUB_STEP_SUMMARY``) nothing
    is written.
    """
    env = os.environ if environ is None else environ
    written = []
    output = env.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as f:
            f.write(f"{GITHUB_OUTPUT_NAME}={encode_runner_result(result_json.strip())}\n")
        written.append(output)
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(job_summary(report, instructor=instructor))
        written.append(summary)
    return written


# --------------------------------------------------------------------------------------------
# Gradescope


def _gradescope_visibility(check: CheckResult) -> str:
    if _withheld(check):
        return "hidden"  # the learner view's stand-in: its points are hidden results too
    return {Visibility.HIDDEN: "hidden", Visibility.AFTER_DUE_DATE: "after_due_date"}.get(check.visibility, "visible")


def student_visible_summary(report: GradeReport, visible) -> str:
    """The submission-level text for a front end whose students see only some checks.

    Points are those of the checks ``visible(check)`` says students see — never a total that
    includes the others — plus "not graded" reasons and the learner's statement errors.
    """
    shown = [(ex, [c for c in ex.checks if visible(c)]) for ex in report.exercises]
    points = sum(c.points for _, cs in shown for c in cs)
    max_points = sum(c.max_points for _, cs in shown for c in cs)
    lines = [f"pgdrill: {fmt_points(points)} / {fmt_points(max_points)} points in the checks shown here"]
    for ex, cs in shown:
        lines.append(f"- {ex.title} [{ex.exercise}]: {fmt_points(sum(c.points for c in cs))} / "
                     f"{fmt_points(sum(c.max_points for c in cs))}")
        if ex.error:
            lines.append(f"  not graded: {ex.error}")
        lines += ["  " + line for line in statement_lines(ex)]
    if any(not visible(c) for ex in report.exercises for c in ex.checks):
        lines.append("Some checks are not shown yet: their results, and your total, appear when your "
                     "instructor releases them.")
    if not report.exercises:
        lines.append("No exercise was graded.")
    return _cap(inert_text("\n".join(lines)), MAX_TOTAL_OUTPUT)


def gradescope_result(report: GradeReport, *, instructor: bool = False) -> dict:
    """Gradescope's results.json (see docs/classroom.md for the field sources).

    Students see the tests whose visibility is ``visible``, the top-level ``output`` and, only
    when no test is withheld, the total. So nothing they see carries a withheld check's
    result: ``output`` counts the visible checks only, the visible tests' texts name no check
    or visibility (those go to ``extra_data``, which Gradescope stores but never shows), visible
    tests are numbered without gaps, and the top-level ``score`` is left out whenever a test is
    withheld (Gradescope then adds up the tests itself and hides that total from students).
    """
    tests = []
    for i, ex in enumerate(report.exercises, 1):
        # visible tests first, so that their numbers 1, 2, 3 … leave no gap where a hidden one is
        ordered = sorted(ex.checks, key=lambda c: _gradescope_visibility(c) != "visible")
        for j, c in enumerate(ordered, 1):
            test = {
                "name": check_name(ex, c),
                "number": f"{i}.{j}",
                "score": float(c.points),
                "max_score": float(c.max_points),
                "status": "passed" if c.status is Status.PASSED else "failed",
                "output": check_text(c),
                "output_format": "text",
                "visibility": _gradescope_visibility(c),
                "tags": [ex.exercise],
            }
            if instructor and c.check:
                test["extra_data"] = {"check": c.check, "visibility": c.visibility.value}
            tests.append(test)
    withheld = any(t["visibility"] != "visible" for t in tests)
    result = {
        "output": student_visible_summary(report, lambda c: _gradescope_visibility(c) == "visible"),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "execution_time": int(round(report.duration_s)),
        "tests": tests,
    }
    if not withheld:
        result = {"score": float(report.points), **result}
    if instructor:
        # extra_data is stored for the instructor, never shown to students: the grading seed
        # may be secret.
        result["extra_data"] = {"pgdrill": {
            "seed": report.seed, "scale": report.scale, "server_version": report.server_version,
            "started_at": report.started_at, "submission": inert_text(report.submission),
            "points": report.points, "max_points": report.max_points,
        }}
    return result


# --------------------------------------------------------------------------------------------
# PrairieLearn


def prairielearn_result(report: GradeReport, *, instructor: bool = False) -> dict:
    """PrairieLearn's external grader results.json (score as a fraction of the maximum)."""
    tests = []
    for ex in report.exercises:
        for c in ex.checks:
            tests.append({
                "name": check_name(ex, c),
                "description": " ".join(c.description.split()),
                "points": float(c.points),
                "max_points": float(c.max_points),
                "message": inert_text(c.message) if c.message else ("passed" if c.status is Status.PASSED
                                                                     else c.status.value),
                "output": check_text(c, instructor=instructor),
            })
    score = report.points / report.max_points if report.max_points > 0 else 0.0
    problems = grader_problems(report)
    if problems:
        # The grader (not the submission) failed: "not gradable" costs the student no attempt
        # and no points, and says why; a score of 0 would do both.
        result = {
            "gradable": False,
            "format_errors": [inert_text(f"The grader could not run, so this submission was not graded: {why}")
                              for why in problems],
            "message": "Not graded: the grader could not run (no points lost, no attempt used). "
                       "Please tell your instructor.",
            "output": summary_text(report, with_meta=instructor),
            "tests": tests,
        }
    else:
        result = {
            "gradable": True,
            "score": min(1.0, max(0.0, score)),
            "message": summary_text(report, with_meta=False).splitlines()[0],
            "output": summary_text(report, with_meta=instructor),
            "tests": tests,
        }
    if instructor:
        result["pgdrill"] = {"seed": report.seed, "scale": report.scale, "server_version": report.server_version}
    return result
