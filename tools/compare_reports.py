"""Snapshot the JSON reports of reference solutions and test submissions, and compare two snapshots.

A refactoring of the grader must not change what a learner reads. This script grades, on one
server, the reference solution (``solutions/<id>/``) and every test submission
(``tests/data/submissions/<id>/<variant>/``, completed from the reference or the starter as its
``expect.yaml`` ``base:`` says, as the tests grade it) of every exercise in ``exercises/`` —
or of those named with ``-e``, or of a quick set of eight with ``--quick`` — and writes their
JSON reports (instructor audience) normalised: keys sorted, and what any two runs of the same
code measure differently masked — durations, clock times and time stamps, the temporary paths
and process ids of a run, object ids and relfilenodes, measured query times and the limits
scaled by the machine's speed, pgstattuple_approx's and the statistics' estimates and
counters (``_VOLATILE_KEYS``, ``_VOLATILE_TEXT``, ``_VOLATILE_COLUMNS``, each narrow and
commented: points, statuses, exact counts, limits set and wording stay compared). Two
snapshots of the same code, exercises, scale and seed are byte-identical (checked on all 87
reports with two pairs of full runs at loads of 1 to 5); they differ only where the grader's
behaviour changed.

    python tools/compare_reports.py snapshot OUT.json [-e ID … | --quick] [--scale 0.1] [--seed 7] [--code DIR]
    python tools/compare_reports.py compare BEFORE.json AFTER.json
    python tools/compare_reports.py against REV [-e ID … | --quick]     # both snapshots, then compare (CI)

``--cache DIR`` grades on a server copied from the template cache in DIR (filled first), as
``grade.py`` does, instead of one that builds its templates: what the cache changes (a
prepared baseline used by the first grading that asks) is then compared too.

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
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# --quick: one exercise of each kind of check family and fixture, for a fast look.
QUICK_EXERCISES = (
    "course-02-querying", "course-04-aggregation", "course-07-transactions-constraints",
    "techshop-1-1-assess", "techshop-2-1-slow-queries", "techshop-3-2-constraints",
    "techshop-4-2-cleanup", "techshop-5-2-backup",
)
# Keys whose values differ from run to run whatever the code.
_VOLATILE_KEYS = {"duration_s", "started_at", "seconds"}
# Text that differs from run to run whatever the code: temporary folders; the grader's process
# id in the names it makes (pgdrill_restore_4242_2, pgdrill_4242_47-…dump); time stamps in
# dump names; how many seconds something took; object ids (RI_ConstraintTrigger_c_17072);
# numbers of seven digits or more (database sizes in bytes, pg_stat_statements' queryids,
# which also reorder the rows they sort); and clock times (now() in a probe's row, when a table
# was last vacuumed), the date kept. Points, statuses, counts and wording stay compared.
_VOLATILE_TEXT = (
    (re.compile(r"/tmp/[^\s'\"]*"), "<tmp>"),
    (re.compile(r"\bpgdrill_(restore_)?\d+_(\d+)"), r"pgdrill_\1<pid>_\2"),
    (re.compile(r"\b\d{8}T\d{6}Z?\b"), "<stamp>"),
    (re.compile(r"\b\d+(?:\.\d+)? s\b"), "<n> s"),
    (re.compile(r"\b(RI_ConstraintTrigger_[ac]_)\d+"), r"\1<oid>"),
    (re.compile(r"(?<![\w.])-?\d{7,}(?![\w.])"), "<n>"),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}(?::\d{2})?)?(?![\w:])"), "<time>"),
    # The clock time in a dump's name (pagila.2026-12-03_042009.d), the date kept.
    (re.compile(r"\b(\d{4}-\d{2}-\d{2})_\d{6}\b"), r"\1_<time>"),
    # The size course-10's backup.sh prints for the dump it wrote: a custom-format dump holds
    # the time it was taken and is compressed, so its size moves by a few bytes run to run.
    (re.compile(r"\b(backup written: \S+) \(\d+ bytes\)"), r"\1 (<n> bytes)"),
    # Measured query times (median_time_under, faster_than_baseline): the median and the
    # untouched incident's median in their messages and evidence titles, the speed-up they
    # give, the yardstick's times and the limit scaled by them (how busy the machine is).
    # The limit set (100 ms), the factor asked for (10×), the run count stay compared.
    (re.compile(r"\b(The query (?:runs in|takes)) \d+(?:\.\d+)? ms\b"), r"\1 <n> ms"),
    (re.compile(r"\bagainst \d+(?:\.\d+)? ms on the untouched incident\b"), "against <n> ms on the untouched incident"),
    (re.compile(r"(?:\d+(?:\.\d+)?|∞)× faster(?=\)|, but)"), "<n>× faster"),
    (re.compile(r"\b(Your database|Untouched incident): median \d+(?:\.\d+)? ms\b"), r"\1: median <n> ms"),
    (re.compile(r"\b(runs\), under|should take under) \d+(?:\.\d+)? ms"
                r"(?: \(\d+(?:\.\d+)? ms on the reference machine; this one runs \d+(?:\.\d+)?× slower right now\))?"),
     r"\1 <limit> ms"),
    (re.compile(r"\byardstick times \(ms\): \d+(?:\.\d+)?(?:, \d+(?:\.\d+)?)*; median \d+(?:\.\d+)? ms\b"),
     "yardstick times (ms): <times>; median <n> ms"),
    (re.compile(r"\bthe limit on this machine right now is \d+(?:\.\d+)? ms\b"),
     "the limit on this machine right now is <n> ms"),
    # statistics_fresh's message: n_mod_since_analyze, which the cumulative statistics
    # system counts from reports the backends flush about once a second, so a grading that
    # reads it just after the learner's writes sees some of them or all.
    (re.compile(r"\b\d+ rows modified since\b"), "<n> rows modified since"),
    # dead_tuples_below's message: the share and the row versions add pgstattuple_approx's
    # estimate of live tuples (see _VOLATILE_COLUMNS); the dead count is exact and stays.
    (re.compile(r"\b\d+% dead \((\d+) dead of \d+ row versions\b"), r"<n>% dead (\1 dead of <n> row versions"),
)
# Evidence whose text or some of whose table columns are measured, not computed, by the title
# they start with (titles are fixed wording): the cells of those columns (or the whole text)
# are masked, the table's other columns, its row count and the check's status stay compared.
_VOLATILE_COLUMNS = (
    # pgstattuple_approx's live-tuple count is an estimate from the pages the visibility map
    # does not mark all-visible, which changes with autovacuum's timing; the dead share
    # divides by it. The dead count is exact and stays.
    (re.compile(r"Dead tuples\b"), {"live", "dead share"}),
    # n_mod_since_analyze (see above) and reltuples, an estimate that VACUUM, ANALYZE and
    # autovacuum rewrite whenever they run.
    (re.compile(r"Statistics\b"), {"modified since", "rows (estimate)"}),
    # Relfilenodes come from the cluster's oid counter, which the gradings before this one
    # advanced; whether a table was rewritten is in the check's message and status.
    (re.compile(r"Data file of each table \(pg_relation_filenode\)"), {"yours", "untouched incident"}),
    # A server process id, in any evidence (long_running's rows from pg_stat_activity).
    (re.compile(""), {"pid"}),
)
# median_time_under's measured execution times, the whole text.
_VOLATILE_BODIES = ((re.compile(r"Execution times \(ms\)$"), "<times>"),)


def _normalise(value, paths: dict[str, str] | None = None):
    """``value`` (a report as JSON data) without what differs from run to run; idempotent."""
    if isinstance(value, dict):
        out = {k: _normalise(v, paths) for k, v in sorted(value.items()) if k not in _VOLATILE_KEYS}
        title = out.get("title")
        if isinstance(title, str):
            _mask_measured(out, title)
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


def _mask_measured(evidence: dict, title: str) -> None:
    """Mask, in place, the measured columns and texts of one evidence (``_VOLATILE_COLUMNS``,
    ``_VOLATILE_BODIES``)."""
    columns, rows = evidence.get("columns"), evidence.get("rows")
    if isinstance(columns, list) and isinstance(rows, list):
        masked = {i for i, c in enumerate(columns)
                  for pattern, names in _VOLATILE_COLUMNS if pattern.match(title) and c in names}
        if masked:
            evidence["rows"] = [[("<measured>" if i in masked and cell is not None else cell)
                                 for i, cell in enumerate(row)] if isinstance(row, list) else row
                                for row in rows]
    if isinstance(evidence.get("body"), str):
        for pattern, replacement in _VOLATILE_BODIES:
            if pattern.match(title):
                evidence["body"] = replacement


SUBMISSIONS = ROOT / "tests" / "data" / "submissions"
# Folders of tests/data/submissions/<id>/ that are no submission (docs/testing.md).
NOT_VARIANTS = frozenset({"accidents"})


def all_exercises() -> list[str]:
    """Every exercise of exercises/ (a folder with an exercise.yaml), sorted."""
    return sorted(p.parent.name for p in (ROOT / "exercises").glob("*/exercise.yaml"))


def submissions_of(exercise: str) -> list[tuple[str, Path]]:
    """(label, folder) of the reference solution and every test submission of ``exercise``."""
    found = []
    reference = ROOT / "solutions" / exercise
    if reference.is_dir():
        found.append(("reference", reference))
    variants = SUBMISSIONS / exercise
    if variants.is_dir():
        found += [(f"variant:{p.name}", p) for p in sorted(variants.iterdir())
                  if p.is_dir() and p.name not in NOT_VARIANTS]
    return found


def as_graded(spec, label: str, folder: Path, into: Path) -> Path:
    """The folder the tests grade for ``folder``: a variant whose expect.yaml names a ``base:``
    gets every learner file it lacks from the reference solution or the starter, with its
    ``edits`` made (the same rule as tests/kit.py, read here from this repository whatever code
    grades)."""
    import yaml

    expect = folder / "expect.yaml"
    wanted = (yaml.safe_load(expect.read_text(encoding="utf-8")) or {}) \
        if label.startswith("variant:") and expect.is_file() else {}
    base = wanted.get("base")
    if base is None:
        return folder
    source = {"reference": ROOT / "solutions", "starter": ROOT / "exercises"}[base] / spec.id
    for f in spec.files:
        chosen = next((p for p in (folder / f.path, source / f.path) if p.is_file()), None)
        if chosen is not None:
            (into / f.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(chosen, into / f.path)
    for edit in wanted.get("edits") or ():  # lines of the base replaced (tests/kit.py checks them)
        target = into / edit["file"]
        target.write_text(target.read_text(encoding="utf-8").replace(edit["replace"], edit["with"], 1),
                          encoding="utf-8")
    return into


def snapshot(exercises: list[str], scale: float, seed: int, cache_dir: Path | None = None,
             code: Path = ROOT) -> dict:
    import importlib

    # The catalogue is pgdrill.checks (and the fixtures pgdrill.fixtures); a revision from before
    # issue 13 has the top-level packages checks and fixtures instead (importing pgdrill.checks
    # there would find the editable install's tree).
    one_package = (code / "pgdrill" / "checks").is_dir()
    checks = importlib.import_module("pgdrill.checks" if one_package else "checks")
    from pgdrill.grading import Grader, GradingOptions, start_grading_server
    from pgdrill.render import render
    from pgdrill.spec import load_spec

    registry = checks.load_all()
    specs = [load_spec(ROOT / "exercises" / e / "exercise.yaml", registry) for e in exercises]
    options = GradingOptions(scale=scale, seed=seed, unsandboxed_programs=True)
    if cache_dir is not None:
        cache = importlib.import_module("pgdrill.fixtures.cache" if one_package else "fixtures.cache")
        server = start_grading_server(specs, options, cache=cache.ClusterCache(cache_dir.resolve()))
    else:
        server = start_grading_server(specs, options)
    out: dict = {"scale": scale, "seed": seed, "reports": {}}
    try:
        grader = Grader(server, options=options)
        with tempfile.TemporaryDirectory(prefix="pgdrill-variants-") as tmp:
            for spec in specs:
                for label, folder in submissions_of(spec.id):
                    graded = as_graded(spec, label, folder, Path(tmp) / spec.id / label.replace(":", "-"))
                    report = grader.grade(graded, [spec], graded)
                    data = json.loads(render(report, "json", audience="instructor"))
                    paths = {str(graded): "<submission>", str(folder): "<submission>", str(ROOT): "<repo>"}
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
    ra, rb = json.loads(a)["reports"], json.loads(b)["reports"]
    differ = sorted(k for k in set(ra) | set(rb) if ra.get(k) != rb.get(k))
    print(f"{len(differ)} of {len(set(ra) | set(rb))} reports differ: {', '.join(differ)}")
    sys.stdout.writelines(difflib.unified_diff(a.splitlines(True), b.splitlines(True), str(before), str(after)))
    return 1


def against(rev: str, exercises: list[str] | None, scale: float, seed: int, keep: Path | None = None,
            cache_dir: Path | None = None) -> int:
    """Snapshot ``rev``'s code and this tree's on the same inputs (``exercises``; None: all),
    and compare; ``keep``: a folder to copy both snapshots into; ``cache_dir``: grade both on
    servers copied from that template cache."""
    with tempfile.TemporaryDirectory(prefix="pgdrill-reports-") as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True)
        chosen = [a for e in (exercises or ()) for a in ("-e", e)]
        common = [*chosen, "--scale", str(scale), "--seed", str(seed),
                  *(["--cache", str(cache_dir)] if cache_dir is not None else [])]
        for name, extra in (("before.json", ["--code", str(code)]), ("after.json", [])):
            subprocess.run([sys.executable, __file__, "snapshot", str(Path(tmp) / name), *common, *extra], check=True)
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(tmp) / name, keep / name)
        return compare(Path(tmp) / "before.json", Path(tmp) / "after.json")


def _choice_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("-e", "--exercise", action="append", help="only this exercise (repeatable; default: all)")
    which.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK_EXERCISES)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot", help="grade the chosen exercises' references and test submissions")
    snap.add_argument("out", type=Path)
    _choice_arguments(snap)
    snap.add_argument("--scale", type=float, default=0.1)
    snap.add_argument("--seed", type=int, default=7)
    snap.add_argument("--code", type=Path, help="grade with the code of this tree (default: this repository)")
    snap.add_argument("--cache", type=Path, help="grade on a server copied from this template cache")
    cmp_ = sub.add_parser("compare", help="compare two snapshots; exit 1 with a diff when they differ")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    rev = sub.add_parser("against", help="snapshot a git revision's code and this tree's, and compare them")
    rev.add_argument("rev")
    _choice_arguments(rev)
    rev.add_argument("--scale", type=float, default=0.1)
    rev.add_argument("--seed", type=int, default=7)
    rev.add_argument("--keep", type=Path, help="a folder to keep both snapshots in (before.json, after.json)")
    rev.add_argument("--cache", type=Path, help="both snapshots on servers copied from this template cache")
    args = parser.parse_args(argv)
    if args.command == "compare":
        return compare(args.before, args.after)
    chosen = list(QUICK_EXERCISES) if args.quick else args.exercise
    if args.command == "against":
        return against(args.rev, chosen, args.scale, args.seed, args.keep, args.cache)
    code = (args.code or ROOT).resolve()
    sys.path.insert(0, str(code))
    result = snapshot(chosen or all_exercises(), args.scale, args.seed, args.cache, code)
    args.out.write_text(dumps(result), encoding="utf-8")
    print(f"snapshot written to {args.out} ({len(result['reports'])} reports)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        # The reader stopped (compare … | head) while the diff was printed: the reports differ,
        # which the exit status still says. Nothing more may reach the closed pipe at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
