"""Grade a whole class: ``python grade.py --batch SUBMISSIONS_DIR [--workers N] [--out DIR]``.

From Python: ``grade_batch(folder, BatchOptions(...)).write(out_dir)`` — the workers are
started with multiprocessing's *spawn* method, so a script calling it needs the usual
``if __name__ == "__main__":`` guard.

``SUBMISSIONS_DIR`` holds one folder per submission (a student's repository, or just its
``exercises/`` folder, or — with a single ``--exercise`` — the files themselves). Every
submission is graded on its own fresh clones, exactly as ``grade.py`` would grade it, and
the results go into a gradebook:

* ``gradebook.csv`` — one row per submission: points per exercise, total, maximum, percent
  and any problem the grader had;
* ``checks.csv`` — one row per submission and check (status, points), for spreadsheets;
* ``gradebook.html`` — one self-contained page (jinja2, autoescaped, no scripts): the class
  table plus per-exercise and per-check pass rates, lowest first, so an instructor sees which
  task the class struggles with;
* ``reports/<submission>.json`` (everything, for the instructor) and
  ``reports/<submission>.txt`` (the learner's feedback, hidden checks withheld).

Parallelism: *processes*, each with its own throwaway PostgreSQL (see docs/classroom.md,
"Batch grading", for the measurements behind the choice). Sharing one server between
threads would be faster to start but not isolated: roles are cluster-wide (a submission's
``ALTER ROLE learner SET …`` reaches the other submissions' sessions), the incident's
connection burst exhausts ``max_connections`` for everyone, and timing checks would measure
each other. A worker builds its incident templates once and grades submission after
submission on fresh clones.

One broken submission never stops the batch: a grading error becomes that submission's
zero-point report with the reason; a worker that dies (or runs past ``timeout``) is replaced
and the submission it held is recorded as not graded, with the reason.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from pgdrill import gradebook
from pgdrill.gradebook import csv_cell
from pgdrill.report import GradeReport, Status

GRADER_ROOT = Path(__file__).resolve().parents[1]

# The grader enforces statement and file timeouts; this is the last resort for a submission
# that still does not finish (seconds of wall-clock time per submission).
DEFAULT_TIMEOUT = 1800.0
# Seconds a worker may take to start its server before its first submission.
STARTUP_TIMEOUT = 300.0


@dataclass(frozen=True)
class BatchOptions:
    workers: int = 2
    scale: float | None = None
    seed: int | None = None
    server: str | None = None
    dsn: str | None = None
    bindir: str | None = None
    exercises: tuple[str, ...] = ()          # only these exercises (default: all)
    exercises_dir: str | None = None         # the specs (default: the repository's exercises/)
    timeout: float = DEFAULT_TIMEOUT
    cache: bool = True                       # take templates from the cache (fixtures/cache.py)
    unsandboxed_programs: bool = False       # see GradingOptions.unsandboxed_programs


@dataclass(frozen=True)
class Submission:
    name: str        # the folder's name; the gradebook's row label
    path: Path       # what is graded: the folder, or its exercises/ sub-folder
    root: Path | None = None   # the batch folder: below it no link is followed (pgdrill.submission)
    # Only this exercise of a submission of several (grade_exercises): its files are in
    # path/<exercise>/, as grade.py finds them when it grades the whole submission.
    exercise: str | None = None


def _graded_specs(specs, exercise: str | None) -> list:
    """What a task grades: every spec, or only that of ``exercise`` (``Submission.exercise``)."""
    return [s for s in specs if exercise is None or s.id == exercise]


@dataclass
class Entry:
    submission: Submission
    report: GradeReport
    problem: str = ""          # set when the grader (not the submission) had a problem

    @property
    def points(self) -> float:
        return self.report.points

    def exercise(self, exercise_id: str):
        for ex in self.report.exercises:
            if ex.exercise == exercise_id:
                return ex
        return None


# --------------------------------------------------------------------------------------------
# Finding submissions


def find_submissions(root: Path) -> list[Submission]:
    """One submission per visible sub-folder of ``root``, sorted by name.

    A sub-folder or an ``exercises/`` that is a symbolic link is still listed, so that its row
    in the gradebook says why nothing in it was read (the grader follows no link below ``root``).
    """
    out = []
    root = Path(root).absolute()  # the workers do not start in the caller's folder (see _spawn)
    for child in sorted(root.iterdir(), key=lambda p: p.name):
        if child.name.startswith(".") or not (child.is_symlink() or child.is_dir()):
            continue
        inner = child / "exercises"
        nested = inner.is_symlink() or (inner.is_dir() and not child.is_symlink())
        out.append(Submission(child.name, inner if nested else child, root))
    return out


def _csv_row(writer, row) -> None:
    writer.writerow([csv_cell(v) for v in row])


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "submission"


# --------------------------------------------------------------------------------------------
# Worker processes


def _load_specs(options: BatchOptions):
    from pgdrill import checks
    from pgdrill.grading import EXERCISES_DIR
    from pgdrill.spec import load_all_specs, load_spec

    exercises_dir = Path(options.exercises_dir) if options.exercises_dir else EXERCISES_DIR
    if not options.exercises:
        return load_all_specs(exercises_dir.parent, checks.load_all())
    # Only the chosen specs are read: another exercise's problem does not stop this batch.
    specs = [load_spec(exercises_dir / name / "exercise.yaml", checks.load_all()) for name in options.exercises]
    return sorted(specs, key=lambda s: s.sort_key)


def _cache(options: BatchOptions):
    from pgdrill.fixtures.cache import ClusterCache, cache_disabled

    return ClusterCache() if options.cache and not cache_disabled() else None


def _fill_cache(specs, options: BatchOptions, say) -> None:
    """Build every template the class needs once, before the workers start copying it."""
    from pgdrill.fixtures.cache import CacheError
    from pgdrill.fixtures.server import ServerError
    from pgdrill.fixtures.templates import ensure_cached
    from pgdrill.grading import GradingOptions, fixture_keys

    cache = _cache(options)
    if cache is None or (options.server or ("dsn" if options.dsn else "")) == "dsn":
        return
    cache.progress = say
    grading = GradingOptions(scale=options.scale, seed=options.seed)
    try:
        ensure_cached(cache, [key for spec in specs for key in fixture_keys(spec, grading)], kind=options.server,
                      bindir=options.bindir, progress=say)
    except (CacheError, ServerError, OSError) as exc:
        say(f"template cache not filled ({exc}); each worker builds its own templates")


def _worker_main(conn, options: BatchOptions) -> None:
    """One worker: its own server, then submissions (or exercises of one) until told to stop."""
    from pgdrill.classroom import unavailable_report
    from pgdrill.grading import Grader, GradingOptions, grade_report, start_grading_server, submission_dir_for

    specs = _load_specs(options)
    server = None
    problem = ""
    try:
        grading = GradingOptions(scale=options.scale, seed=options.seed,
                                 unsandboxed_programs=options.unsandboxed_programs)
        # The parent filled the cache before starting us: this only copies it.
        server = start_grading_server(specs, grading, kind=options.server, dsn=options.dsn, bindir=options.bindir,
                                      cache=_cache(options))
        grader = Grader(server, options=grading)
        # Which exercises read a baseline's counters, for exercises graded one by one (grade() plans itself).
        grader.plan(specs)
    except Exception as exc:  # noqa: BLE001 - reported per submission, never raised
        problem = f"could not start PostgreSQL: {exc}"
    try:
        conn.send(("ready", problem))
        while True:
            try:
                task = conn.recv()
            except EOFError:
                break
            if task is None:
                break
            name, path, root, exercise = task
            graded = _graded_specs(specs, exercise)
            top = Path(root) if root else None
            try:
                if problem:
                    report, why = unavailable_report(graded, problem, str(path)), problem
                elif exercise is None:
                    report, why = grader.grade(Path(path), specs, top), ""
                else:
                    started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
                    began = time.monotonic()
                    result = grader.grade_exercise(graded[0], submission_dir_for(Path(path), graded[0], False), top)
                    report = grade_report(Path(path), graded, [result], grading, server_version=grader.server_version,
                                          started_at=started_at, duration_s=round(time.monotonic() - began, 2))
                    why = ""
            except Exception as exc:  # noqa: BLE001
                why = f"grading stopped: {type(exc).__name__}: {exc}"
                report = unavailable_report(graded, why, str(path))
            conn.send(("done", name, report.to_dict(), why))
    finally:
        if server is not None:
            server.stop()
        conn.close()


@dataclass
class _Worker:
    process: multiprocessing.Process
    conn: multiprocessing.connection.Connection
    ready: bool = False
    task: Submission | None = None
    started: float = 0.0
    born: float = field(default_factory=time.monotonic)


def _spawn(ctx, options: BatchOptions) -> _Worker:
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_worker_main, args=(child, options), daemon=True, name="pgdrill-batch-worker")
    # A spawned worker starts as `python -c …`, which puts its current folder first on the
    # import path before the grader's own path is restored: started from a folder of
    # submissions, a student's folder named like a module (multiprocessing, pgdrill …) would
    # run as the grader. It starts in the grader's own folder instead (paths it gets are absolute).
    here = os.getcwd()
    os.chdir(GRADER_ROOT)
    try:
        proc.start()
    finally:
        os.chdir(here)
    child.close()
    return _Worker(proc, parent)


def _stop(worker: _Worker, *, kill: bool = False) -> None:
    try:
        if kill:
            worker.process.kill()
        else:
            worker.conn.send(None)
    except (OSError, ValueError):
        pass
    worker.process.join(timeout=60)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join(timeout=10)
    worker.conn.close()


def grade_batch(root: Path, options: BatchOptions = BatchOptions(), *, progress=None,
                submissions: list[Submission] | None = None, on_graded=None) -> "Gradebook":
    """Grade every submission under ``root`` in ``options.workers`` processes.

    ``progress`` is told one line per submission as it is graded (its points, or why it was
    not), or, when ``on_graded`` is given, ``on_graded(entry, seconds)`` is called instead
    for every submission a worker took (the caller words the line).
    """
    from pgdrill.classroom import unavailable_report
    from pgdrill.render import report_from_dict

    started = time.monotonic()
    specs = _load_specs(options)
    subs = find_submissions(root) if submissions is None else list(submissions)
    from pgdrill.render import one_line

    shown = progress or (lambda text: None)

    def say(text: str) -> None:  # a line names a submission folder, which the learner named
        shown(one_line(text))
    entries: dict[str, Entry] = {}
    pending = deque(subs)
    ctx = multiprocessing.get_context("spawn")
    n = max(1, min(options.workers, len(subs)))
    if (options.server or ("dsn" if options.dsn else "")) == "dsn" and n > 1:
        say("one server given by --dsn: grading with one worker (workers share no cluster-wide state then)")
        n = 1
    if subs and options.cache and n > 0:
        _fill_cache(specs, options, say)
    workers = [_spawn(ctx, options) for _ in range(n)] if subs else []
    restarts = 0

    def lost(worker: _Worker, why: str) -> None:
        nonlocal restarts
        sub = worker.task
        if sub is not None:
            entries[sub.name] = Entry(sub, unavailable_report(_graded_specs(specs, sub.exercise), why, str(sub.path)), why)
            if on_graded is not None:
                on_graded(entries[sub.name], time.monotonic() - worker.started)
            else:
                say(f"{sub.name}: not graded — {why}")
        _stop(worker, kill=True)
        workers.remove(worker)
        if pending and restarts < len(subs):
            restarts += 1
            workers.append(_spawn(ctx, options))

    try:
        while pending or any(w.task for w in workers):
            for w in workers:
                if w.ready and w.task is None and pending:
                    w.task = pending.popleft()
                    w.started = time.monotonic()
                    top = w.task.root
                    w.conn.send((w.task.name, str(w.task.path), str(top) if top is not None else "", w.task.exercise))
            if not workers:  # every worker died and none may be restarted
                while pending:
                    sub = pending.popleft()
                    why = "no grader process could be started"
                    entries[sub.name] = Entry(sub, unavailable_report(_graded_specs(specs, sub.exercise), why, str(sub.path)),
                                              why)
                break
            deadlines = [w.started + options.timeout for w in workers if w.task is not None]
            deadlines += [w.born + STARTUP_TIMEOUT for w in workers if not w.ready]
            nap = max(0.05, min([5.0] + [d - time.monotonic() for d in deadlines]))
            ready = wait([w.conn for w in workers] + [w.process.sentinel for w in workers], timeout=nap)
            now = time.monotonic()
            for w in list(workers):
                if w.conn in ready:
                    try:
                        msg = w.conn.recv()
                    except (EOFError, OSError):
                        lost(w, f"the grader process died (exit code {w.process.exitcode})")
                        continue
                    if msg[0] == "ready":
                        w.ready = True
                        if msg[1]:
                            say(f"worker {w.process.pid}: {msg[1]}")
                    elif msg[0] == "done":
                        _, name, data, why = msg
                        assert w.task is not None  # a worker reports only on the task it was given
                        entries[name] = Entry(w.task, report_from_dict(data), why)
                        report = entries[name].report
                        if on_graded is not None:
                            on_graded(entries[name], now - w.started)
                        else:
                            say(f"{name}: {report.points:g}/{report.max_points:g}" + (f" ({why})" if why else ""))
                        w.task = None
                elif w.process.sentinel in ready and not w.process.is_alive():
                    lost(w, f"the grader process died (exit code {w.process.exitcode})")
                elif w.task is not None and now - w.started > options.timeout:
                    lost(w, f"grading took longer than {options.timeout:g} s and was stopped")
                elif not w.ready and now - w.born > STARTUP_TIMEOUT:
                    lost(w, f"the grader process did not start within {STARTUP_TIMEOUT:g} s")
    finally:
        for w in workers:
            _stop(w)
    ordered = [entries[s.name] for s in subs if s.name in entries]
    return Gradebook(specs=specs, entries=ordered, seconds=round(time.monotonic() - started, 2), workers=n)


def grade_exercises(submission: Path, options: BatchOptions, *, root: Path | None = None,
                    progress=None) -> GradeReport:
    """Grade the exercises of one submission in ``options.workers`` processes, each with a
    server of its own (``grade.py SUBMISSION --workers N``): the same report as ``grade.py``
    grading them one after the other, in less time on more cores.

    Each exercise is a task of ``grade_batch``'s: a worker grades it on fresh clones exactly
    as one server grading the whole submission would, with the files of
    ``SUBMISSION/<exercise>/``. The exercises of the largest starting state go first, so the
    longest gradings (Task 4.1 at scale 10) start at once and the short ones fill in around
    them; the report lists them in the specs' order. An exercise whose worker died or ran too
    long is not graded, with the reason, as a submission of a batch would be.
    """
    from pgdrill.classroom import unavailable_report
    from pgdrill.grading import GradingOptions, fixture_key, grade_report

    started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    specs = _load_specs(options)
    grading = GradingOptions(scale=options.scale, seed=options.seed)
    largest_first = sorted(specs, key=lambda spec: -fixture_key(spec, grading).scale)
    tasks = [Submission(spec.id, Path(submission).absolute(), root, exercise=spec.id) for spec in largest_first]
    finished = 0

    def graded(entry: Entry, seconds: float) -> None:
        # The line grade.py prints for an exercise graded in-process: numbered in the order
        # they finish, the visible checks' points only.
        nonlocal finished
        finished += 1
        if progress is not None and entry.report.exercises:
            progress(f"[{finished}/{len(tasks)}] {entry.submission.exercise}: "
                     f"{entry.report.exercises[0].progress_text()} ({seconds:.1f} s)"
                     + (f" — {entry.problem}" if entry.problem else ""))

    book = grade_batch(Path(submission), options, progress=progress, submissions=tasks, on_graded=graded)
    reports = {entry.submission.exercise: entry.report for entry in book.entries}
    exercises = [reports[spec.id].exercises[0] if spec.id in reports
                 else unavailable_report([spec], "not graded", str(submission)).exercises[0] for spec in specs]
    versions = [r.server_version for r in reports.values() if r.server_version]
    return grade_report(Path(submission), specs, exercises, grading, server_version=versions[0] if versions else "",
                        started_at=started_at, duration_s=book.seconds)


# --------------------------------------------------------------------------------------------
# The gradebook


@dataclass
class ExerciseStats:
    id: str
    title: str
    max_points: float
    mean_points: float
    full_marks: int          # submissions with every point of the exercise
    graded: int

    @property
    def pass_rate(self) -> float:
        return self.full_marks / self.graded if self.graded else 0.0


@dataclass
class CheckStats:
    exercise: str
    check_id: str
    check: str
    description: str
    visibility: str
    max_points: float
    passed: int
    errors: int
    graded: int
    mean_points: float

    @property
    def pass_rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclass
class Gradebook:
    specs: list
    entries: list[Entry]
    seconds: float = 0.0
    workers: int = 1
    roster: dict | None = None         # folder -> pgdrill.gradebook.Student (``--roster``)
    assignment: str = "pgdrill"        # the learning platforms' column name

    @property
    def max_points(self) -> float:
        return sum(s.max_points for s in self.specs)

    def exercise_stats(self) -> list[ExerciseStats]:
        out = []
        for spec in self.specs:
            results = [e.exercise(spec.id) for e in self.entries]
            results = [r for r in results if r is not None]
            out.append(ExerciseStats(
                spec.id, spec.title, spec.max_points,
                sum(r.points for r in results) / len(results) if results else 0.0,
                sum(1 for r in results if r.max_points > 0 and r.points >= r.max_points - 1e-9 and not r.error),
                len(results),
            ))
        return out

    def check_stats(self) -> list[CheckStats]:
        out = []
        for spec in self.specs:
            for chk in spec.checks:
                found = []
                for e in self.entries:
                    ex = e.exercise(spec.id)
                    if ex is None:
                        continue
                    found += [c for c in ex.checks if c.check_id == chk.id]
                out.append(CheckStats(
                    spec.id, chk.id, chk.check, chk.description, chk.visibility, chk.points,
                    sum(1 for c in found if c.status is Status.PASSED),
                    sum(1 for c in found if c.status is Status.ERROR),
                    len(found),
                    sum(c.points for c in found) / len(found) if found else 0.0,
                ))
        return out

    # ---------------------------------------------------------------- files
    def csv_text(self) -> str:
        from pgdrill.gradebook import generic_csv

        return generic_csv(self, self.roster)

    def checks_csv_text(self) -> str:
        from pgdrill.render import fmt_points

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["submission", "exercise", "check", "status", "points", "max_points", "visibility"])
        for e in self.entries:
            for ex in e.report.exercises:
                for c in ex.checks:
                    _csv_row(writer, [e.submission.name, ex.exercise, c.check_id, c.status.value,
                                      fmt_points(c.points), fmt_points(c.max_points), c.visibility.value])
        return buf.getvalue()

    def html(self) -> str:
        from pgdrill.output import _template

        checks = self.check_stats()
        struggles = sorted((c for c in checks if c.graded and c.passed < c.graded),
                           key=lambda c: (c.pass_rate, c.exercise, c.check_id))[:5]
        return _template("gradebook.html.j2", autoescape=True).render(
            book=self, exercises=self.exercise_stats(), checks=checks, struggles=struggles,
        )

    def write(self, out_dir: Path) -> dict[str, Path]:
        from pgdrill.render import render

        out_dir = Path(out_dir)
        (out_dir / "reports").mkdir(parents=True, exist_ok=True)
        from pgdrill.gradebook import canvas_csv, moodle_csv, write_index

        files = {
            "csv": out_dir / "gradebook.csv",
            "checks": out_dir / "checks.csv",
            "html": out_dir / "gradebook.html",
            "canvas": out_dir / "canvas.csv",
            "moodle": out_dir / "moodle.csv",
        }
        files["csv"].write_text(self.csv_text(), encoding="utf-8")
        files["canvas"].write_text(canvas_csv(self, self.roster, self.assignment), encoding="utf-8")
        files["moodle"].write_text(moodle_csv(self, self.roster, self.assignment), encoding="utf-8")
        files["checks"].write_text(self.checks_csv_text(), encoding="utf-8")
        files["html"].write_text(self.html(), encoding="utf-8")
        used: set[str] = set()
        stems = {}
        for e in self.entries:
            stem = _safe_name(e.submission.name)
            while stem in used:
                stem += "_"
            used.add(stem)
            stems[e.submission.name] = stem
            (out_dir / "reports" / f"{stem}.json").write_text(
                render(e.report, "json", audience="instructor"), encoding="utf-8")
            (out_dir / "reports" / f"{stem}.txt").write_text(render(e.report, "text"), encoding="utf-8")
        files["index"] = write_index(self, out_dir, stems)
        return files


# ------------------------------------------------------------------------------------------
# Chunks merged (``grade.py gradebook merge``): the JSON reports the jobs wrote, read back


def read_entries(sources: list[Path]):
    """Entries from gradebook folders (their gradebook.json) or single JSON reports."""
    from pgdrill.render import load_json

    entries = {}
    for source in map(Path, sources):
        if source.is_dir():
            index = source / gradebook.INDEX_NAME
            if not index.is_file():
                raise FileNotFoundError(f"{source}: no {gradebook.INDEX_NAME} (is it a gradebook folder?)")
            items = [(item["submission"], source / item["report"], item.get("problem", ""))
                     for item in json.loads(index.read_text(encoding="utf-8"))]
        else:
            items = [(source.stem, source, "")]
        for name, path, problem in items:
            if name in entries:
                raise ValueError(f"submission {name!r} is in more than one of the reports merged")
            report = load_json(path.read_text(encoding="utf-8"))
            entries[name] = Entry(Submission(name, Path(report.submission or name)), report, problem)
    return [entries[name] for name in sorted(entries)]


def merge_gradebooks(sources: list[Path], specs, *, seconds: float = 0.0):
    """One gradebook from the chunks' reports, in the order a single batch would list them."""
    return Gradebook(specs=specs, entries=read_entries(sources), seconds=seconds, workers=0)


def as_dict(book: Gradebook) -> dict:
    """The gradebook's numbers as plain data (what the HTML and CSV show)."""
    return {
        "seconds": book.seconds,
        "workers": book.workers,
        "max_points": book.max_points,
        "submissions": [{"name": e.submission.name, "points": e.points, "problem": e.problem} for e in book.entries],
        "exercises": [dataclasses.asdict(s) | {"pass_rate": s.pass_rate} for s in book.exercise_stats()],
        "checks": [dataclasses.asdict(s) | {"pass_rate": s.pass_rate} for s in book.check_stats()],
    }
