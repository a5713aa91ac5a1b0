"""Snapshot the JSON reports of reference solutions and test submissions, and compare two snapshots.

A refactoring of the grader must not change what a learner reads. This script grades, on one
server, the reference solution (``solutions/<id>/``) and every test submission
(``tests/data/submissions/<id>/<variant>/``) of the chosen exercises, and writes their JSON
reports (instructor audience) normalised: durations, timestamps and the temporary paths of a
run removed, keys sorted. Two snapshots of the same exercises at the same scale and seed are
then byte-identical when the grader's behaviour did not change.

    python tools/compare_reports.py snapshot OUT.json [-e ID …] [--scale 0.1] [--seed 7] [--code DIR]
    python tools/compare_reports.py compare BEFORE.json AFTER.json
    python tools/compare_reports.py against REV [-e ID …]     # both snapshots, then compare (CI)

``--code DIR`` grades with the code of another tree (say ``git archive main`` unpacked into a
temporary folder) while the exercises, solutions and submissions are read from this
repository, so "before" and "after" grade the same inputs; ``against REV`` does exactly that
for the git revision REV (each snapshot in a process of its own) and compares. Exit status of
``compare`` and ``against``: 0 when identical, 1 with a unified diff of what differs.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EXERCISES = (
    "course-02-querying", "course-04-aggregation", "course-07-transactions-constraints",
    "techshop-1-1-assess", "techshop-2-1-slow-queries", "techshop-3-2-constraints",
    "techshop-4-2-cleanup", "techshop-5-2-backup",
)
# Keys whose values differ from run to run whatever the code.
_VOLATILE_KEYS = {"duration_s", "started_at", "seconds"}
# Text that differs from run to run whatever the code: temporary folders; the grader's process
# id in the names it makes (pgdrill_restore_4242_2, pgdrill_4242_47-…dump); time stamps in
# dump names; how many seconds something took; object ids (RI_ConstraintTrigger_c_17072);
# and numbers of seven digits or more (database sizes in bytes, pg_stat_statements' queryids,
# which also reorder the rows they sort). Points, statuses, counts and wording stay compared.
_VOLATILE_TEXT = (
    (re.compile(r"/tmp/[^\s'\"]*"), "<tmp>"),
    (re.compile(r"\bpgdrill_(restore_)?\d+_(\d+)"), r"pgdrill_\1<pid>_\2"),
    (re.compile(r"\b\d{8}T\d{6}Z?\b"), "<stamp>"),
    (re.compile(r"\b\d+(?:\.\d+)? s\b"), "<n> s"),
    (re.compile(r"\b(RI_ConstraintTrigger_[ac]_)\d+"), r"\1<oid>"),
    (re.compile(r"(?<![\w.])-?\d{7,}(?![\w.])"), "<n>"),
)


def _normalise(value, paths: dict[str, str] | None = None):
    """``value`` (a report as JSON data) without what differs from run to run; idempotent."""
    if isinstance(value, dict):
        out = {k: _normalise(v, paths) for k, v in sorted(value.items()) if k not in _VOLATILE_KEYS}
        if isinstance(out.get("rows"), list) and out.get("rows") != value.get("rows"):
            out["rows"] = sorted(out["rows"], key=json.dumps)  # masked values no longer give their order
        return out
    if isinstance(value, list):
        return [_normalise(v, paths) for v in value]
    if isinstance(value, str):
        for path, name in (paths or {}).items():
            value = value.replace(path, name)
        for pattern, replacement in _VOLATILE_TEXT:
            value = pattern.sub(replacement, value)
        return value
    return value


def submissions_of(exercise: str) -> list[tuple[str, Path]]:
    """(label, folder) of the reference solution and every test submission of ``exercise``."""
    found = []
    reference = ROOT / "solutions" / exercise
    if reference.is_dir():
        found.append(("reference", reference))
    variants = ROOT / "tests" / "data" / "submissions" / exercise
    if variants.is_dir():
        found += [(f"variant:{p.name}", p) for p in sorted(variants.iterdir()) if p.is_dir()]
    return found


def snapshot(exercises: list[str], scale: float, seed: int, code: Path = ROOT) -> dict:
    import importlib

    # The catalogue is pgdrill.checks; a revision from before issue 13 has the top-level package
    # checks instead (importing pgdrill.checks there would find the editable install's tree).
    checks = importlib.import_module("pgdrill.checks" if (code / "pgdrill" / "checks").is_dir() else "checks")
    from pgdrill.grading import Grader, GradingOptions, start_grading_server
    from pgdrill.render import render
    from pgdrill.spec import load_spec

    registry = checks.load_all()
    specs = [load_spec(ROOT / "exercises" / e / "exercise.yaml", registry) for e in exercises]
    options = GradingOptions(scale=scale, seed=seed, unsandboxed_programs=True)
    server = start_grading_server(specs, options)
    out: dict = {"scale": scale, "seed": seed, "reports": {}}
    try:
        grader = Grader(server, options=options)
        for spec in specs:
            for label, folder in submissions_of(spec.id):
                report = grader.grade(folder, [spec], folder)
                data = json.loads(render(report, "json", audience="instructor"))
                paths = {str(folder): "<submission>", str(ROOT): "<repo>"}
                out["reports"][f"{spec.id} {label}"] = _normalise(data, paths)
                print(f"graded {spec.id} {label}: {report.points:g}/{report.max_points:g}", file=sys.stderr,
                      flush=True)
    finally:
        server.stop()
    return out


def dumps(snap: dict) -> str:
    return json.dumps(snap, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def compare(before: Path, after: Path) -> int:
    a, b = (dumps(_normalise(json.loads(p.read_text(encoding="utf-8")))) for p in (before, after))
    if a == b:
        print(f"identical: {len(json.loads(a)['reports'])} reports")
        return 0
    sys.stdout.writelines(difflib.unified_diff(a.splitlines(True), b.splitlines(True), str(before), str(after)))
    return 1


def against(rev: str, exercises: list[str] | None, scale: float, seed: int) -> int:
    """Snapshot ``rev``'s code and this tree's on the same inputs, and compare."""
    with tempfile.TemporaryDirectory(prefix="pgdrill-reports-") as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True)
        chosen = [a for e in (exercises or ()) for a in ("-e", e)]
        common = [*chosen, "--scale", str(scale), "--seed", str(seed)]
        for name, extra in (("before.json", ["--code", str(code)]), ("after.json", [])):
            subprocess.run([sys.executable, __file__, "snapshot", str(Path(tmp) / name), *common, *extra], check=True)
        return compare(Path(tmp) / "before.json", Path(tmp) / "after.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot", help="grade the chosen exercises' references and test submissions")
    snap.add_argument("out", type=Path)
    snap.add_argument("-e", "--exercise", action="append", help=f"default: {', '.join(DEFAULT_EXERCISES)}")
    snap.add_argument("--scale", type=float, default=0.1)
    snap.add_argument("--seed", type=int, default=7)
    snap.add_argument("--code", type=Path, help="grade with the code of this tree (default: this repository)")
    cmp_ = sub.add_parser("compare", help="compare two snapshots; exit 1 with a diff when they differ")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    rev = sub.add_parser("against", help="snapshot a git revision's code and this tree's, and compare them")
    rev.add_argument("rev")
    rev.add_argument("-e", "--exercise", action="append")
    rev.add_argument("--scale", type=float, default=0.1)
    rev.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.command == "compare":
        return compare(args.before, args.after)
    if args.command == "against":
        return against(args.rev, args.exercise, args.scale, args.seed)
    code = (args.code or ROOT).resolve()
    sys.path.insert(0, str(code))
    result = snapshot(list(args.exercise or DEFAULT_EXERCISES), args.scale, args.seed, code)
    args.out.write_text(dumps(result), encoding="utf-8")
    print(f"snapshot written to {args.out} ({len(result['reports'])} reports)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
