"""What the exercise tests share: reading a result, grading a submission folder, the exercises.

Import it from a test module (``from kit import by_id, text_of``); the tests folder is on
``sys.path`` when pytest runs them. No fixtures here: conftest.py's ``grade`` fixture grades,
this module only names things and reads results.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.report import CheckResult, ExerciseResult, Status

TESTS = Path(__file__).resolve().parent
SUBMISSIONS = TESTS / "data" / "submissions"

# What the learner is told when an answer holds on the graded database only (a contrast
# database tells it apart): the words every accident test looks for.
ACCIDENT = "right on the graded database, but not on a second database"

# Folders under tests/data/submissions/<exercise>/ that are not whole submissions: the accidents
# (edits of the reference solution that tests/test_course.py applies itself).
NOT_VARIANTS = frozenset({"accidents"})


def exercise_ids() -> list[str]:
    """Every exercise of exercises/ (a folder with an exercise.yaml), sorted."""
    return sorted(p.parent.name for p in EXERCISES_DIR.glob("*/exercise.yaml"))


def load(exercise: str):
    """The validated spec of ``exercise``."""
    from pgdrill import checks
    from pgdrill.spec import load_spec

    return load_spec(EXERCISES_DIR / exercise / "exercise.yaml", checks.load_all())


def by_id(result: ExerciseResult) -> dict[str, CheckResult]:
    """{check id: result} of one graded exercise."""
    return {c.check_id: c for c in result.checks}


def passed(result: ExerciseResult) -> set[str]:
    return {c.check_id for c in result.checks if c.status is Status.PASSED}


def not_passed(result: ExerciseResult) -> set[str]:
    return {c.check_id for c in result.checks if c.status is not Status.PASSED}


def failures(result: ExerciseResult) -> list[tuple[str, str]]:
    """(check id, message) of every check that did not pass: an assertion's explanation."""
    return [(c.check_id, c.message) for c in result.checks if c.status is not Status.PASSED]


def text_of(check: CheckResult) -> str:
    """Everything written about one result: message, teaching text, hint, and every piece of
    evidence (title, body, rows). Pass ``learner_view(check)`` for what learners see."""
    parts = [check.message, check.feedback, check.hint]
    for ev in check.evidence:
        parts.extend((ev.title, ev.body or ""))
        parts.extend(" | ".join(map(str, row)) for row in ev.rows)
    return "\n".join(parts)


def learner_view(check: CheckResult) -> CheckResult:
    """The result as the learner audience receives it: no instructor-only evidence."""
    from pgdrill.render import _without_answers

    return _without_answers(check)


def statement_errors(result: ExerciseResult) -> list[tuple[int, str, str]]:
    """(line, SQLSTATE, message) of every learner statement that did not run cleanly."""
    return [(s.line, s.sqlstate, s.message) for s in result.statements if s.status not in ("ok", "skipped")]


def variants(exercise: str) -> list[str]:
    """The wrong-submission variants kept for ``exercise`` (tests/data/submissions/<id>/<variant>/)."""
    folder = SUBMISSIONS / exercise
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in NOT_VARIANTS)


def submission_folder(exercise: str, folder: Path, base: str | None, into: Path,
                      edits: list[dict] | None = None) -> Path:
    """The files of a variant ``folder``, completed from ``base`` ("reference": the reference
    solution, "starter": the exercise's starter files) for every file the variant does not
    have, copied into ``into``, with expect.yaml's ``edits`` made in the base's files; without
    a base, ``folder`` itself."""
    if base is None:
        return folder
    spec = load(exercise)
    source = {"reference": SOLUTIONS_DIR / exercise, "starter": EXERCISES_DIR / exercise}[base]
    into.mkdir(parents=True, exist_ok=True)
    for f in spec.files:
        own = folder / f.path
        theirs = own if own.is_file() else source / f.path
        if theirs.is_file():
            (into / f.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(theirs, into / f.path)
    for edit in edits or ():
        target = into / edit["file"]
        if (folder / edit["file"]).is_file() or not target.is_file():
            raise ExpectError(f"{folder}: edits: {edit['file']!r} is not a file the {base} gives")
        text = target.read_text(encoding="utf-8")
        if text.count(edit["replace"]) != 1:
            raise ExpectError(f"{folder}: edits: the {base}'s {edit['file']} holds {text.count(edit['replace'])} "
                              f"times, not once: {edit['replace'][:80]!r}")
        target.write_text(text.replace(edit["replace"], edit["with"]), encoding="utf-8")
    return into


# ------------------------------------------------------------------------------------------
# expect.yaml: what a wrong submission must score and be told (docs/testing.md)

EXPECT_SCHEMA = TESTS / "data" / "schemas" / "expect.schema.json"
EXPECT_FILE = "expect.yaml"


class ExpectError(ValueError):
    """An expect.yaml that is invalid; ``str()`` is ``file:line: key: message`` per problem."""


def load_expect(path: Path, check_ids: set[str] | None = None) -> dict:
    """Read and validate one expect.yaml against the schema (and, given ``check_ids``, name
    only checks the exercise has); raise ``ExpectError`` listing every problem with its line."""
    import json

    import jsonschema
    import yaml

    from pgdrill.spec import LineLoader, _schema_message, key_path, line_of

    loader = LineLoader(Path(path).read_text(encoding="utf-8"))
    try:
        data = loader.load()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ExpectError(f"{path}:{mark.line + 1 if mark else 1}: (syntax): invalid YAML: {exc.problem}") from None
    schema = json.loads(EXPECT_SCHEMA.read_text(encoding="utf-8"))
    problems = []
    for err in sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path)):
        where, message = _schema_message(err)
        problems.append((where, message))
    if not problems and check_ids is not None:
        for check_id in data["checks"]:
            if check_id not in check_ids:
                problems.append((["checks", check_id], f"the exercise has no check {check_id!r}"))
    if problems:
        raise ExpectError("\n".join(f"{path}:{line_of(loader.lines, where)}: {key_path(where)}: {message}"
                                    for where, message in problems))
    return data


_FAULT = __import__("re").compile(r"\{faults\.([a-z0-9_]+)\.count([+-]\d+)?\}")


def fill_in(phrase: str, manifest: dict | None) -> str:
    """``{faults.<id>.count}`` (±N) replaced by the incident manifest's count for that fault."""
    def count(m) -> str:
        if manifest is None:
            raise ExpectError(f"{phrase!r} names a fault, but the exercise has no incident manifest")
        fault = next((f for f in manifest["faults"] if f["id"] == m.group(1)), None)
        if fault is None:
            raise ExpectError(f"{phrase!r}: the incident has no fault {m.group(1)!r}")
        return str(fault["count"] + int(m.group(2) or 0))

    return _FAULT.sub(count, phrase)


def _expectation_for(check: dict, server_version: int) -> dict:
    older = check.get("before_postgres")
    if older is not None and server_version < older["version"] * 10000:
        return older
    return check


def expectation_problems(result: ExerciseResult, expect: dict, *, server_version: int,
                         manifest: dict | None = None) -> list[str]:
    """Every way ``result`` falls short of ``expect`` (an empty list when it meets it)."""
    problems = []
    checks = by_id(result)
    for check_id, wanted in expect["checks"].items():
        check = checks.get(check_id)
        if check is None:
            problems.append(f"{check_id}: no such check in the result")
            continue
        wanted = _expectation_for(wanted, server_version)
        status = wanted.get("status")
        if status == "not_passed":
            if check.status is Status.PASSED:
                problems.append(f"{check_id}: passed, expected not to: {check.message}")
        elif status is not None and check.status.value != status:
            problems.append(f"{check_id}: {check.status.value}, expected {status}: {check.message}")
        if status not in (None, "passed") and check.points >= check.max_points > 0:
            problems.append(f"{check_id}: scored all its {check.max_points:g} points")
        if "points" in wanted and abs(check.points - wanted["points"]) > 0.01:
            problems.append(f"{check_id}: scored {check.points:g}, expected {wanted['points']:g}: {check.message}")
        learner = text_of(learner_view(check))
        for phrase in wanted.get("says", ()):
            if fill_in(phrase, manifest) not in learner:
                problems.append(f"{check_id}: the learner is not told {fill_in(phrase, manifest)!r}:\n{learner}")
        for phrase in wanted.get("never_says", ()):
            if fill_in(phrase, manifest) in learner:
                problems.append(f"{check_id}: the learner is told {fill_in(phrase, manifest)!r}:\n{learner}")
        instructor = text_of(check)
        for phrase in wanted.get("instructor_says", ()):
            if fill_in(phrase, manifest) not in instructor:
                problems.append(f"{check_id}: the instructor is not told {fill_in(phrase, manifest)!r}:\n{instructor}")
    if expect["unlisted"] == "passed":
        others = [(c.check_id, c.message) for c in result.checks
                  if c.check_id not in expect["checks"] and c.status is not Status.PASSED]
        if others:
            problems.append(f"checks not listed must pass: {others}")
    score = expect.get("score")
    if isinstance(score, (int, float)) and abs(result.points - score) > 0.01:
        problems.append(f"scored {result.points:g}, expected {score:g}")
    elif score == "partial" and not 0 < result.points < result.max_points:
        problems.append(f"scored {result.points:g} of {result.max_points:g}, expected partial credit")
    elif isinstance(score, dict):
        if "at_most" in score and result.points > score["at_most"] + 0.01:
            problems.append(f"scored {result.points:g}, expected at most {score['at_most']:g}")
        if "at_least" in score and result.points < score["at_least"] - 0.01:
            problems.append(f"scored {result.points:g}, expected at least {score['at_least']:g}")
    problems.extend(_statement_problems(result, expect.get("statements")))
    return problems


def _statement_problems(result: ExerciseResult, wanted: dict | None) -> list[str]:
    if not wanted:
        return []
    failing = [s for s in result.statements if s.status not in ("ok", "skipped")]
    problems, explained = [], set()
    for error in wanted.get("errors", ()):
        found = [s for s in failing if error["sql_says"] in s.sql]
        if len(found) != 1:
            problems.append(f"{len(found)} failing statement(s) contain {error['sql_says']!r}, expected 1")
            continue
        s = found[0]
        explained.add(id(s))
        if s.sqlstate != error["sqlstate"] or error.get("says", "") not in s.message:
            problems.append(f"{s.file}:{s.line} failed with {s.sqlstate} {s.message!r}, expected {error['sqlstate']}"
                            + (f" saying {error['says']!r}" if error.get("says") else ""))
    if wanted.get("clean"):
        others = [(s.file, s.line, s.sqlstate, s.message) for s in failing if id(s) not in explained]
        if others:
            problems.append(f"statements failed that should not: {others}")
    return problems
