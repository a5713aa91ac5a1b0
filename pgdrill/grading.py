"""Grade a submission: clone, run the learner's files, run the checks, score.

One exercise at a time, each on a fresh clone of its starting state. Nothing a submission
does can stop the run: a file that fails is reported statement by statement, a check that
crashes scores 0 with "internal error" (an exercise bug, ``pgdrill.checks.base.ExerciseBug``, is reported
as one with the spec's line), an exercise whose setup fails is reported as such,
and the next exercise starts from a fresh clone.

The grader's own sessions are guarded too, since a check may run learner code without
meaning to (a view over a function, folded by the planner, runs as the grader): every check
starts from a clean session (``RESET ALL`` and more), a watchdog cancels — then terminates — any
grader statement that outlives ``GradingOptions.check_statement_limit`` (a learner function
can switch ``statement_timeout`` off), and after every exercise the roles' stored settings
are reset.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import inspect
import os
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import psycopg

from pgdrill import checks
from pgdrill.checks.base import CheckContext, ExerciseBug, Outcome
from pgdrill.checks.sql import read_cap_exceeded
from pgdrill.fixtures import sandbox
from pgdrill.fixtures.activity import Activity
from pgdrill.fixtures.kinds import kind_of
from pgdrill.fixtures.server import Server
from pgdrill.fixtures.templates import Clone, FixtureKey, TemplateCache
from pgdrill import submission as submitted
from pgdrill.report import CheckResult, Evidence, ExerciseResult, GradeReport, StatementOutcome, Status, Visibility
from pgdrill.runner import RunResult, run_sql_bytes
from pgdrill.spec import CheckSpec, ContrastSpec, ExerciseSpec

ROOT = Path(__file__).resolve().parents[1]
EXERCISES_DIR = ROOT / "exercises"
SOLUTIONS_DIR = ROOT / "solutions"

# The seed every learner sees in the lab and in their own runs. Final grading uses another
# one (``--seed``), so a submission that hard-codes the planted ids fails there.
LEARNER_SEED = 1
DEFAULT_GRADING_SEED = int(os.environ.get("PGDRILL_GRADING_SEED", "20261123"))


@dataclass
class GradingOptions:
    scale: float | None = None          # overrides every spec's scale (tests use small ones)
    seed: int | None = None             # the seed for specs whose policy is "grading"
    learner_seed: int = LEARNER_SEED
    row_cap: int = 10_000
    # Seconds one statement of a check may run before the grader stops it from outside
    # (its sessions' statement_timeout, 60 s, normally fires first).
    check_statement_limit: float = 90.0
    # Run learner programs (backup/restore scripts) even where no sandbox can start: only by
    # an instructor's explicit choice (--allow-unsandboxed-programs); the report says so.
    unsandboxed_programs: bool = False


def resolve_seed(policy, options: GradingOptions) -> int:
    if isinstance(policy, int) and not isinstance(policy, bool):
        return policy
    if policy == "grading":
        return options.seed if options.seed is not None else DEFAULT_GRADING_SEED
    return options.learner_seed


def _self_check_meta(specs: list[ExerciseSpec]) -> dict:
    """What the self-check specs of a student template left out, per exercise (docs/classroom.md)."""
    held = {s.id: dict(s.self_check) for s in specs if s.self_check is not None}
    return {"self_check": held} if held else {}


def fixture_key(spec: ExerciseSpec, options: GradingOptions) -> FixtureKey:
    """The starting state ``spec`` is graded on under ``options``."""
    inc = spec.incident
    kind = kind_of(inc.fixture)
    if not kind.seeded:
        return kind.key(inc.fixture)
    scale = options.scale if options.scale is not None else inc.scale
    return kind.key(inc.fixture, scale, resolve_seed(inc.seed, options))


def contrast_key(spec: ExerciseSpec, contrast: ContrastSpec, options: GradingOptions) -> FixtureKey:
    """The starting state of one of ``spec``'s contrasts under ``options``."""
    graded = fixture_key(spec, options)
    if not graded.kind.seeded:
        return graded
    return dataclasses.replace(graded, seed=contrast.seed if contrast.seed is not None else graded.seed,
                               variant=contrast.variant or "")


def with_planted(manifest: Mapping[str, Any] | None, contrast: ContrastSpec,
                 keys: list[list[str]]) -> dict[str, Any]:
    """The manifest the checks read on ``contrast``: the incident's, plus one fault entry per
    ``planted`` query, under its fault id, naming the rows it found (``keys``, in order).

    A fault id the incident has gets a second entry: whatever reads the manifest's faults
    reads them all (``pgdrill.checks.integrity.fault_rows``), so the contrast's rows count as that
    fault's rows — left out by rows_preserved, required by fault_rows_kept."""
    if not contrast.planted:
        return dict(manifest or {})
    out = copy.deepcopy(dict(manifest or {}))
    faults = out.setdefault("faults", [])
    for rows, found in zip(contrast.planted, keys, strict=True):
        faults.append({"id": rows.fault, "table": rows.table, "row_ids": list(found), "count": len(found),
                       "planted_by_contrast": contrast.id})
    return out


_COUNTERS = re.compile(r"pg_stat", re.IGNORECASE)


def baseline_reads_counters(spec: ExerciseSpec) -> bool:
    """Whether a check of ``spec`` runs a reference on the baseline that may read cumulative
    statistics (pg_stat_user_tables, pg_statio_*, pg_stat_statements, pg_stat_get_*…; any
    ``pg_stat`` in its arguments, pg_stats included, to be safe).

    A baseline copied from the graded clone (``TemplateCache.snapshot``) has every row, row
    version and planner statistic of the learner's starting state but no counters (they are
    keyed by the database's OID); such an exercise gets a baseline with its traffic replayed.
    The checks' own code reads no counters on the baseline (only the learner's database's).
    """
    return any(_against(chk) == "baseline" and _COUNTERS.search(repr(chk.args)) for chk in spec.checks)


def _against(chk: CheckSpec) -> str | None:
    """Where ``chk`` runs its reference: its ``against`` argument, else the check's default."""
    if chk.args and "against" in chk.args:
        return chk.args["against"]
    definition = checks.REGISTRY.get(chk.check)
    param = inspect.signature(definition.func).parameters.get("against") if definition else None
    return None if param is None or param.default is inspect.Parameter.empty else param.default


def fixture_keys(spec: ExerciseSpec, options: GradingOptions) -> list[FixtureKey]:
    """Every starting state grading ``spec`` clones: its own, then its contrasts'."""
    return list(dict.fromkeys([fixture_key(spec, options),
                               *(contrast_key(spec, c, options) for c in spec.contrasts)]))


def start_grading_server(specs, options: GradingOptions, *, kind: str | None = None, dsn: str | None = None,
                         bindir=None, cache=None, progress=None) -> Server:
    """A server for grading ``specs``, with their templates ready when ``cache`` is given.

    Missing templates are built into the cache first (``pgdrill.fixtures.templates.ensure_cached``), so
    the server starts as a copy that already holds them: the second grading builds nothing.
    A cache that cannot be used is reported and skipped, never fatal.
    """
    from pgdrill.fixtures.cache import CacheError
    from pgdrill.fixtures.server import start_server
    from pgdrill.fixtures.templates import ensure_cached

    kind = kind or ("dsn" if dsn else None) or os.environ.get("PGDRILL_SERVER") or "embedded"
    if kind == "dsn":
        cache = None  # templates stay on that server between runs already
    if cache is not None:
        try:
            ensure_cached(cache, [key for spec in specs for key in fixture_keys(spec, options)], kind=kind, bindir=bindir,
                          progress=progress)
        except (CacheError, OSError) as exc:
            if progress:
                progress(f"template cache not used: {exc}")
            cache = None
    return start_server(kind, dsn=dsn, bindir=bindir, cache=cache)


def submission_dir_for(submission: Path, spec: ExerciseSpec, single: bool) -> Path:
    """Where this exercise's files are: ``SUBMISSION/<id>/`` or, for one exercise, SUBMISSION itself.

    ``SUBMISSION/<id>`` counts when it exists at all, a link included (lstat), so that a link
    there is refused by name rather than silently replaced by SUBMISSION's own files.
    """
    nested = submission / spec.id
    if os.path.lexists(nested) or not single:
        return nested
    return submission


@dataclass
class _Connections:
    """Lazily opened connections a grading step shares; all closed at the end."""

    server: Server
    dbname: str
    _open: dict = field(default_factory=dict)
    pids: set = field(default_factory=set)

    def get(self, role: str, purpose: str) -> psycopg.Connection:
        conn = self._open.get(role)
        if conn is None or conn.closed or conn.broken:
            conn = self.server.connect(self.dbname, role, purpose=purpose, autocommit=True)
            self._open[role] = conn
            self.pids.add(conn.info.backend_pid)
        elif conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()  # a check left a transaction open: never let it leak into the next
        return conn

    def reset(self) -> None:
        """Give the next check clean sessions: no setting, role or prepared statement that
        learner code run by an earlier check may have left behind."""
        for role, conn in list(self._open.items()):
            try:
                if conn.closed or conn.broken:
                    continue
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    conn.rollback()
                # DISCARD ALL without its DEALLOCATE ALL (psycopg keeps prepared statements).
                conn.execute("RESET SESSION AUTHORIZATION; RESET ALL; CLOSE ALL; UNLISTEN *; "
                             "SELECT pg_catalog.pg_advisory_unlock_all()")
            except psycopg.Error:
                conn.close()
                del self._open[role]

    def close(self) -> None:
        for conn in self._open.values():
            try:
                conn.close()
            except psycopg.Error:
                pass
        self._open.clear()


class _StatementWatchdog:
    """Cancel, then terminate, a grader statement that outlives its limit — from outside.

    The grader's sessions carry ``statement_timeout``, but learner code a check happens to
    run as the grader (an IMMUTABLE function in a view, folded at planning time) can turn it
    off for the session and then sleep. This thread watches the grading step's own backends
    (by PID) in ``pg_stat_activity`` as the superuser, and stops what runs too long.
    """

    POLL_S = 0.25
    TERMINATE_GRACE_S = 3.0

    def __init__(self, server: Server, pools: list, limit: float) -> None:
        self.server, self.pools, self.limit = server, pools, limit
        self.events: list[tuple[float, int, str]] = []  # (monotonic time, pid, "cancelled"/"terminated")
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="pgdrill-check-watchdog", daemon=True)

    def __enter__(self) -> "_StatementWatchdog":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def fired_since(self, since: float) -> list[str]:
        return [what for when, _, what in self.events if when >= since]

    def _watch(self) -> None:
        admin = None
        stopping: dict[tuple[int, object], float] = {}
        try:
            while not self._done.wait(self.POLL_S):
                # Copies (atomic under the GIL): the grading thread adds pools and pids meanwhile.
                pids = sorted({pid for pool in list(self.pools) if pool is not None for pid in list(pool.pids)})
                if not pids:
                    continue
                try:
                    if admin is None or admin.closed or admin.broken:
                        admin = self.server.connect(purpose="watchdog")
                    rows = admin.execute(
                        "SELECT pid, query_start, pg_catalog.date_part('epoch', "
                        "pg_catalog.clock_timestamp() - query_start) FROM pg_catalog.pg_stat_activity "
                        "WHERE pid = ANY(%s) AND state = 'active'", (pids,)).fetchall()
                    now = time.monotonic()
                    for pid, query_start, age in rows:
                        if age is None or age < self.limit:
                            continue
                        first = stopping.setdefault((pid, query_start), now)
                        # Record before signalling: the check's thread may see its query fail
                        # (and ask fired_since) before this thread runs another line.
                        if first == now:
                            self.events.append((now, pid, "cancelled"))
                            admin.execute("SELECT pg_catalog.pg_cancel_backend(%s)", (pid,))
                        elif now - first >= self.TERMINATE_GRACE_S:
                            self.events.append((now, pid, "terminated"))
                            admin.execute("SELECT pg_catalog.pg_terminate_backend(%s)", (pid,))
                            stopping[(pid, query_start)] = float("inf")
                except psycopg.Error:
                    if admin is not None:
                        admin.close()
                    admin = None
        finally:
            if admin is not None:
                admin.close()


class _SetupFailed(Exception):
    pass


@dataclass
class _ContrastRun:
    """One contrast (``contrasts:``) of a prepared exercise: its clone, set up, with the
    learner's files run again on it by the same runner, and a context for the checks."""

    contrast: ContrastSpec
    key: FixtureKey
    clone: Clone
    conns: _Connections
    ctx: CheckContext | None = None
    baseline: Clone | None = None
    base_conns: _Connections | None = None
    started_at: str = ""       # when it was first set up: its setup's now, on both of its clones

    def reset(self) -> None:
        self.conns.reset()
        if self.base_conns is not None:
            self.base_conns.reset()

    def close(self, *, drop: bool = True) -> None:
        for conns in (self.conns, self.base_conns):
            if conns is not None:
                conns.close()
        for clone in (self.clone, self.baseline):
            if clone is not None and drop:
                clone.drop()


CONTRAST_MESSAGE = (
    "{what} is right on the graded database, but not on a second database where the facts differ{where}. "
    "An answer typed in as a constant, or a list or filter that only fits one database, is right there by "
    "accident. Compute it from the catalog and the data, so that it is right on any database.")
SCRIPT_CONTRAST_MESSAGE = (
    "{what} is right on the graded database, but not on a second database where the facts differ{where}. "
    "A list of tables or schemas typed in, or any other filter that only fits one database, is right there by "
    "accident: a script must work on whatever the database holds, including what is added to it after the "
    "script was written.")


def contrast_failure(chk: CheckSpec, contrast: ContrastSpec, graded: Outcome, other: Outcome,
                     captured: dict | None = None) -> Outcome:
    """The outcome of a check right on the graded database and wrong on ``contrast``.

    The learner is told which accident this is — and, when their own query failed or did not
    run there (``captured``: the contrast's named results), that error, which is theirs and
    gives nothing away; what the contrast found (its expected rows, its reference SQL) is
    evidence for instructors only.
    """
    query, script = (chk.args or {}).get("query"), (chk.args or {}).get("script")
    what = f"Your query {query!r}" if query else f"What your {script} does" if script else "Your answer"
    where = f" ({contrast.feedback.strip().rstrip('.')})" if contrast.feedback.strip() else ""
    mine = (captured or {}).get(query) if query else None
    if query and captured is not None and mine is None:
        why = " There it returned nothing: it did not run to the end (was it stopped, or did an earlier statement fail?)."
    elif mine is not None and mine.error:
        why = f" There it failed: {mine.error}"
    else:
        why = ""
    evidence = (*graded.evidence,
                Evidence("text", f"On contrast {contrast.id!r} (instructors only)", other.message, instructor_only=True),
                *(dataclasses.replace(e, title=f"On contrast {contrast.id!r}: {e.title}", instructor_only=True)
                  for e in other.evidence))
    message = (CONTRAST_MESSAGE if query or not script else SCRIPT_CONTRAST_MESSAGE).format(what=what, where=where)
    return Outcome(False, message + why, evidence, score=min(graded.fraction, other.fraction))


@dataclass
class PreparedExercise:
    """One exercise on its own clone: set up, learner files run, checks runnable."""

    grader: "Grader"
    spec: ExerciseSpec
    files_dir: Path
    key: FixtureKey
    clone: Clone
    root: Path | None = None     # the submission's root: nothing below it is reached through a link
    run: RunResult | None = None
    ctx: CheckContext | None = None
    _activity: Activity | None = None
    _baseline: Clone | None = None
    _conns: "_Connections | None" = None
    _base_conns: "_Connections | None" = None
    _contrasts: dict = field(default_factory=dict)     # contrast id -> _ContrastRun, made on first use
    _pools: list = field(default_factory=list)         # every _Connections the watchdog watches

    def setup(self) -> None:
        server, spec = self.grader.server, self.spec
        conns = self._conns = _Connections(server, self.clone.dbname)
        self._pools.append(conns)
        if spec.incident.setup:
            with self.clone.connect(purpose="setup") as conn:
                conn.execute(Path(spec.incident.setup).read_text())
        if spec.incident.activity:
            self._activity = Activity(server, self.clone.dbname, seed=self.key.seed).start(spec.incident.activity)
        with self.clone.connect(purpose="setup") as conn:
            setup_finished_at = conn.execute("SELECT pg_catalog.now()::text").fetchone()[0]
        root = self.root if self.root is not None else self.files_dir
        self.run = self.grader._run_files(spec, self.files_dir, self.clone.dbname, root)
        if self._activity is not None:
            self._activity.settle()  # the open shop closes before the checks, which must not wait behind it
        self.ctx = CheckContext(
            exercise_id=spec.id, exercise_dir=spec.dir, submission_dir=self.files_dir, manifest=self.clone.manifest,
            submission_root=root,
            grader=lambda: conns.get(sandbox.GRADER, "grader"),
            learner=lambda: conns.get(sandbox.LEARNER, "grader-probe"),
            baseline=self._baseline_conn, captured=self.run.captured, statements=tuple(self.run.statements),
            server=server, dbname=self.clone.dbname, setup_finished_at=setup_finished_at, activity=self._activity,
            unsandboxed_programs=self.grader.options.unsandboxed_programs,
        )

    def _baseline_conn(self):
        if self._baseline is None:
            # Made when a check first asks, never beside the learner's clone: replays that
            # overlap leave different dead-tuple counts (page pruning), and two clones of one
            # seed must count the same. Its traffic stays out of pg_stat_statements and the log.
            # The first one of a key on a server copied from the cache was prepared there.
            # (Usually it was copied from the clone before the learner's files ran: prepared().)
            self._baseline = self.grader.templates.baseline(self.key)
        if self._base_conns is None:
            self._base_conns = _Connections(self.grader.server, self._baseline.dbname)
        return self._base_conns.get(sandbox.GRADER, "grader-baseline")

    def _sessions_reset(self) -> None:
        assert self._conns is not None, "setup() comes first"
        self._conns.reset()
        if self._base_conns is not None:
            self._base_conns.reset()

    # ------------------------------------------------------------------ contrasts
    def _contrast(self, contrast: ContrastSpec) -> _ContrastRun:
        """The contrast's clone with the learner's files run on it, made on first use (an
        exercise whose named queries all fail on the graded database pays nothing)."""
        run = self._contrasts.get(contrast.id)
        if run is not None:
            return run
        grader, spec = self.grader, self.spec
        key = contrast_key(spec, contrast, grader.options)
        # Traffic replayed only when asked (seconds per clone), and then with record=False: it
        # goes to pg_stat_statements and the server log once per exercise, from the graded
        # clone, as the learner knows it.
        assert grader.templates is not None and self.ctx is not None, "setup() comes first"
        clone = grader.templates.clone(key, replay=contrast.replay, record=False)
        run = _ContrastRun(contrast, key, clone, _Connections(grader.server, clone.dbname))
        self._contrasts[contrast.id] = run
        self._pools.append(run.conns)
        planted = self._set_up_contrast(run, clone)
        root = self.root if self.root is not None else self.files_dir
        files = grader._run_files(spec, self.files_dir, clone.dbname, root, only=contrast.files)

        def baseline():
            if run.baseline is None:
                run.baseline = grader.templates.clone(key, replay=contrast.replay, record=False)
                self._set_up_contrast(run, run.baseline, incident=False)
                run.base_conns = _Connections(grader.server, run.baseline.dbname)
            return run.base_conns.get(sandbox.GRADER, "grader-baseline")

        run.ctx = dataclasses.replace(
            self.ctx, manifest=with_planted(clone.manifest, contrast, planted), dbname=clone.dbname,
            captured=files.captured,
            statements=tuple(files.statements),
            grader=lambda: run.conns.get(sandbox.GRADER, "grader"),
            learner=lambda: run.conns.get(sandbox.LEARNER, "grader-probe"),
            baseline=baseline, activity=None, contrast=contrast.id)
        return run

    def _set_up_contrast(self, run: _ContrastRun, clone, *, incident: bool = True) -> list[list[str]]:
        """The contrast's setup (a perturbation of the starting data), then, with ``incident``,
        the exercise's incident.setup, which happens to the perturbed data as it happens to the
        graded database. The contrast's untouched copy (``incident=False``) is to it what the
        graded database's untouched clone is to that: the starting data, before the incident.

        With ``incident``, returns the keys of the rows each of the contrast's ``planted``
        queries finds then, in the same session, before any learner file ran (``with_planted``).

        Both clones see the same ``now``: the setup session's
        ``current_setting('pgdrill.contrast_started_at')`` is when the contrast was first set
        up, so rows placed relative to it (minutes in the future) are the same rows on both.
        """
        with clone.connect(purpose="setup") as conn:
            if not run.started_at:
                run.started_at = conn.execute("SELECT pg_catalog.now()::pg_catalog.text").fetchone()[0]
            conn.execute("SELECT pg_catalog.set_config('pgdrill.contrast_started_at', %s, false)", (run.started_at,))
            for setup in (run.contrast.setup, self.spec.incident.setup if incident else None):
                if setup:
                    conn.execute(Path(setup).read_text())
            if not incident:
                return []
            return [[str(row[0]) for row in conn.execute(rows.query).fetchall()] for rows in run.contrast.planted]

    def _on_contrasts(self, chk: CheckSpec, definition, outcome: Outcome) -> Outcome:
        """``outcome`` (the graded database's) unless the check, run again on a contrast,
        earns less there: then the contrast's failure (``contrast_failure``)."""
        if not (self.spec.contrasts and chk.contrast and definition.contrasted) or outcome.fraction <= 0:
            return outcome
        if definition.when_passed and not outcome.passed:
            return outcome  # partial work is told what is missing on the graded database first
        for contrast in self.spec.contrasts:
            if definition.end_state and contrast.files:
                continue  # only some of the learner's files ran there: no end state to judge
            run = self._contrast(contrast)
            run.reset()
            assert run.ctx is not None  # made by _contrast
            other = definition.func(run.ctx, **dict(chk.args or {}))
            if other.fraction < outcome.fraction:
                return contrast_failure(chk, contrast, outcome, other, run.ctx.captured)
        return outcome

    def run_checks(self) -> tuple[CheckResult, ...]:
        # The learner's clone is where learner code lives; the baseline is untouched.
        assert self.ctx is not None, "setup() comes first"
        with _StatementWatchdog(self.grader.server, self._pools, self.grader.options.check_statement_limit) as watchdog:
            found = tuple(self.grader._run_check(self.spec, chk, self.ctx, self._sessions_reset, watchdog,
                                                 contrasts=self._on_contrasts)
                          for chk in self.spec.checks)
        return apply_requirements(self.spec, found)

    def result(self) -> ExerciseResult:
        assert self.run is not None, "setup() comes first"
        return ExerciseResult(self.spec.id, self.spec.title, self.run_checks(), tuple(self.run.statements))

    def close(self, *, drop: bool = True) -> None:
        """End its sessions and drop its databases (``drop=False``: leave them to the removal
        of a server that stops next)."""
        for conns in (self._conns, self._base_conns):
            if conns is not None:
                conns.close()
        if self._activity is not None:
            self._activity.stop()
        if drop:
            self.clone.drop()
            if self._baseline is not None:
                self._baseline.drop()
        for run in self._contrasts.values():
            run.close(drop=drop)


def _names(ids) -> str:
    return ", ".join(ids[:-1]) + " or " + ids[-1] if len(ids) > 1 else ids[0]


def apply_requirements(spec: ExerciseSpec, found: tuple[CheckResult, ...]) -> tuple[CheckResult, ...]:
    """Gated points (``requires:``): a check whose required checks did not do their part
    scores 0, with a message that says why and what it found on its own.

    Two passes, so two checks may require each other and the order of checks is free:
    ``all`` reads what the named checks found on their own (a fix counts only if what it had
    to keep was kept); ``any`` then reads the fixes as the first pass scored them, so a guard
    does not pay for a "fix" that was itself voided by destruction (TRUNCATE leaves no orphan).
    """
    by_id = {r.check_id: r for r in found}  # a subset of the spec's checks ignores the others' requirements

    def void(result: CheckResult, why: str) -> CheckResult:
        return dataclasses.replace(result, points=0.0, status=Status.FAILED,
                                   message=f"{why} On its own: {result.message}", feedback="", hint="")

    fixes = []
    for chk, result in zip(spec.checks, found):
        unmet = [i for i in chk.requires_all if i in by_id and by_id[i].status is not Status.PASSED]
        if result.points > 0 and unmet:
            verb, pronoun = ("passes", "it does") if len(unmet) == 1 else ("pass", "they do")
            result = void(result, f"No points: this fix counts only when {', '.join(unmet)} {verb} as well, and "
                                  f"{pronoun} not — a fix that destroys what it had to keep fixes nothing.")
        fixes.append(result)
    scored = {r.check_id: r for r in fixes}
    gated = []
    for chk, result in zip(spec.checks, fixes):
        named = [i for i in chk.requires_any if i in scored]
        if result.points > 0 and named and not any(scored[i].points > 0 for i in named):
            result = void(result, f"No points: this check counts only once {_names(list(chk.requires_any))} earns "
                                  "points, and none did — doing nothing damages nothing, so keeping things intact "
                                  "is not yet an achievement.")
        gated.append(result)
    return tuple(gated)


@dataclass
class Grader:
    """A grading session on one server; reusable for many submissions."""

    server: Server
    templates: TemplateCache | None = None
    options: GradingOptions = field(default_factory=GradingOptions)
    # Told one line per exercise as it finishes (the CLI prints it on stderr).
    progress: Callable[[str], None] | None = None
    # The keys whose baseline counters an exercise of this run reads (plan()).
    _counted: set = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.templates is None:
            self.templates = TemplateCache(self.server)
        checks.load_all()

    def key_for(self, spec: ExerciseSpec) -> FixtureKey:
        return fixture_key(spec, self.options)

    def plan(self, specs: list[ExerciseSpec]) -> None:
        """Say which exercises this run grades, before the first of them (``grade`` does; a
        caller that grades exercise by exercise calls it itself): a server copied from the
        cache holds one prepared baseline per key, and it goes to an exercise whose checks
        read its counters; the others copy their graded clone (``prepared``)."""
        self._counted = {self.key_for(s) for s in specs if baseline_reads_counters(s)}

    # ------------------------------------------------------------------ one exercise
    def grade_exercise(self, spec: ExerciseSpec, files_dir: Path, root: Path | None = None, *,
                       keep_databases: bool = False) -> ExerciseResult:
        """Grade the files in ``files_dir``; ``root`` (default ``files_dir``) is the submission's
        top, trusted as given: below it no link is followed (``pgdrill.submission``).
        ``keep_databases``: see ``prepared``."""
        try:
            with self.prepared(spec, files_dir, root, keep_databases=keep_databases) as graded:
                return graded.result()
        except _SetupFailed as exc:
            return self._broken(spec, str(exc))
        except Exception as exc:  # noqa: BLE001 - the grader itself failed; report, never crash
            return self._broken(spec, f"grading stopped: {exc}")

    @contextlib.contextmanager
    def prepared(self, spec: ExerciseSpec, files_dir: Path, root: Path | None = None, *,
                 keep_databases: bool = False):
        """A fresh clone with the starting state and the learner's files run on it.

        Yields a :class:`PreparedExercise` whose ``run_checks()`` may be called more than once
        (the determinism tests do); everything is dropped and reset on exit — but the
        databases with ``keep_databases``, when the server's files are removed next anyway.
        """
        key = self.key_for(spec)
        assert self.templates is not None  # made by __post_init__
        try:
            clone = self.templates.clone(key)
        except Exception as exc:  # noqa: BLE001
            raise _SetupFailed(f"could not prepare the starting state: {exc}") from exc
        # The untouched baseline, for an incident that replays traffic: a copy of the clone
        # now, before anything else touches it — unless a check reads its counters, or the
        # server holds a prepared baseline that no exercise of this run needs for its counters
        # (claimed on first use: a rename costs less than a copy).
        baseline = None
        if (key.kind.replays and not baseline_reads_counters(spec)
                and (key in self._counted or not self.templates.has_prepared(key))):
            try:
                baseline = self.templates.snapshot(clone)
            except psycopg.Error:
                baseline = None  # a replayed one is made on first use instead
        graded = PreparedExercise(self, spec, files_dir, key, clone, root, _baseline=baseline)
        try:
            graded.setup()
            yield graded
        finally:
            graded.close(drop=not (keep_databases and self.server.removed_at_stop))
            self._reset_roles()

    def _reset_roles(self) -> None:
        """End every learner-side session in the cluster (and drop leftover program roles),
        undo role-level settings a submission may have made (``ALTER ROLE learner SET …``, or
        ``ALTER ROLE pgdrill_grader SET …`` from learner code the grader ran), then restore
        the roles' own settings.

        Role settings are cluster-wide and would otherwise leak into the next exercise or the
        next student's submission.
        """
        roles = (sandbox.LEARNER, sandbox.GRADER, sandbox.APP)
        try:
            with self.server.connect(purpose="janitor") as conn:
                # Sessions a learner controls (a backend a script left running, a session filling
                # max_connections) end here, cluster-wide, before the next exercise starts.
                sandbox.end_learner_sessions(self.server, conn)
                for role in roles:
                    conn.execute(psycopg.sql.SQL("ALTER ROLE {} RESET ALL").format(psycopg.sql.Identifier(role)))
                # Per-database ones vanish with a dropped clone; others (postgres) stay.
                leftover = conn.execute(
                    "SELECT r.rolname, d.datname FROM pg_catalog.pg_db_role_setting s "
                    "JOIN pg_catalog.pg_roles r ON r.oid = s.setrole "
                    "JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase "
                    "WHERE r.rolname = ANY(%s)", (list(roles),)).fetchall()
                for role, dbname in leftover:
                    conn.execute(psycopg.sql.SQL("ALTER ROLE {} IN DATABASE {} RESET ALL").format(
                        psycopg.sql.Identifier(role), psycopg.sql.Identifier(dbname)))
                sandbox.create_roles(conn)
        except psycopg.Error:
            pass

    def _run_files(self, spec: ExerciseSpec, files_dir: Path, dbname: str, root: Path,
                   only: tuple[str, ...] = ()) -> RunResult:
        """Run the learner's SQL files (those named in ``only``, when given); for every learner
        file that is missing or will not be read (a link, a pipe, a device, too large:
        ``pgdrill.submission``), one line says so."""
        run = RunResult()
        for fspec in spec.files:
            if only and fspec.path not in only:
                continue
            try:
                data = submitted.read_file(root, files_dir / fspec.path, submitted.MAX_FILE_BYTES)
            except submitted.Missing:
                if fspec.required:
                    run.statements.append(StatementOutcome(fspec.path, 0, "", "error",
                                                           f"missing file: {fspec.path} was not submitted"))
                continue
            except submitted.Refused as exc:
                run.statements.append(StatementOutcome(fspec.path, 0, "", "refused", f"not read: {exc}"))
                continue
            except OSError as exc:
                run.statements.append(StatementOutcome(fspec.path, 0, "", "error",
                                                       f"cannot read the file: {exc.strerror}"))
                continue
            if fspec.run != "sql":
                continue
            part = run_sql_bytes(self.server, dbname, data, display_name=fspec.path,
                                 statement_timeout=spec.timeouts.statement, file_timeout=spec.timeouts.file,
                                 row_cap=self.options.row_cap)
            run.statements.extend(part.statements)
            run.captured.update(part.captured)
        return run

    def _run_check(self, spec: ExerciseSpec, chk: CheckSpec, ctx: CheckContext, sessions_reset=None,
                   watchdog: _StatementWatchdog | None = None, contrasts=None) -> CheckResult:
        started = time.monotonic()
        definition = checks.REGISTRY.get(chk.check)
        try:
            if sessions_reset is not None:
                sessions_reset()
            if definition is None:
                raise LookupError(f"unknown check {chk.check!r}")
            outcome = definition.func(ctx, **dict(chk.args or {}))
            if not isinstance(outcome, Outcome):
                raise TypeError(f"check {chk.check} returned {type(outcome).__name__}, not Outcome")
            if contrasts is not None:
                outcome = contrasts(chk, definition, outcome)
            fraction = outcome.fraction
            status = Status.PASSED if fraction >= 1 else Status.FAILED if fraction <= 0 else Status.PARTIAL
            message, evidence = outcome.message, outcome.evidence
        except checks.NotGradedHere as exc:
            fraction, status, message, evidence = 0.0, Status.ERROR, str(exc), ()
        except ExerciseBug as exc:  # the spec or its reference, not the learner (checks/base.py)
            fraction, status, evidence = 0.0, Status.ERROR, ()
            message = f"exercise bug in check {chk.id} ({spec.id}/exercise.yaml, line {chk.line}): {exc}"
        except Exception as exc:  # noqa: BLE001 - one check's crash costs that check only
            fraction, evidence = 0.0, ()
            capped = read_cap_exceeded(exc) if isinstance(exc, psycopg.Error) else None
            if capped is not None:  # the learner's database is too big to read: their doing
                status, message = Status.FAILED, capped
            else:
                status, message = Status.ERROR, f"internal error in check {chk.check}: {type(exc).__name__}: {exc}"
                if os.environ.get("PGDRILL_DEBUG"):
                    traceback.print_exc()
        stopped = watchdog.fired_since(started) if watchdog is not None else []
        if stopped:
            fraction, status, evidence = 0.0, Status.FAILED, ()
            message = (f"The grader {stopped[-1]} its own query after {self.options.check_statement_limit:g} s: "
                       "something in your database that it reads (a view, a function, a policy) kept it running. "
                       "Checks only read; they must finish.")
        return CheckResult(
            exercise=spec.id, check_id=chk.id, check=chk.check, description=chk.description,
            points=round(chk.points * fraction, 2), max_points=chk.points, status=status, message=message,
            feedback=chk.feedback if status is not Status.PASSED else "", hint=chk.hint if status is not Status.PASSED else "",
            evidence=tuple(evidence), visibility=Visibility(chk.visibility),
            duration_s=round(time.monotonic() - started, 3),
        )

    def _broken(self, spec: ExerciseSpec, why: str) -> ExerciseResult:
        results = tuple(
            CheckResult(spec.id, chk.id, chk.check, chk.description, 0.0, chk.points, Status.ERROR, why,
                        visibility=Visibility(chk.visibility))
            for chk in spec.checks
        )
        return ExerciseResult(spec.id, spec.title, results, (), error=why)

    # ------------------------------------------------------------------ many exercises
    def grade(self, submission: Path, specs: list[ExerciseSpec], root: Path | None = None, *,
              server_stops_next: bool = False) -> GradeReport:
        """Grade every exercise of ``submission``; ``root`` (default ``submission``) is the
        folder trusted as given — a batch passes its own folder, so a student's folder that is
        a link is refused too.

        ``server_stops_next``: the caller stops the server right after (``grade.py`` on one
        submission). A server of ours then removes its files, the last exercise's databases
        with them, so they are not dropped first (dropping Task 4.1's scale-10 clone and
        baseline took 1.4 s; ``grade.py`` leaves the removal to a process of its own). Another
        server (``--dsn``) has them dropped all the same.
        """
        started = time.monotonic()
        started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        single = len(specs) == 1
        root = root if root is not None else submission
        self.plan(specs)
        exercises: list[ExerciseResult] = []
        for number, spec in enumerate(specs, 1):
            began = time.monotonic()
            result = self.grade_exercise(spec, submission_dir_for(submission, spec, single), root,
                                         keep_databases=server_stops_next and number == len(specs))
            exercises.append(result)
            if self.progress:
                self.progress(f"[{number}/{len(specs)}] {spec.id}: {result.progress_text()} "
                              f"({time.monotonic() - began:.1f} s)")
        return grade_report(submission, specs, exercises, self.options, server_version=self.server_version,
                            started_at=started_at, duration_s=round(time.monotonic() - started, 2))

    @property
    def server_version(self) -> str:
        return f"{self.server.version_num // 10000}.{self.server.version_num % 10000}"


def grade_report(submission: Path, specs: list[ExerciseSpec], exercises: list[ExerciseResult],
                 options: GradingOptions, *, server_version: str, started_at: str, duration_s: float) -> GradeReport:
    """The report of ``submission`` from its exercises' results, in the order of ``specs``
    (``Grader.grade``, or exercises graded in several processes: ``pgdrill.batch.grade_exercises``)."""
    seeded = [fixture_key(s, options) for s in specs if kind_of(s.incident.fixture).seeded]
    seeds = sorted({key.seed for key in seeded})
    scales = sorted({key.scale for key in seeded})
    return GradeReport(
        submission=str(submission), exercises=tuple(exercises),
        seed=seeds[0] if len(seeds) == 1 else None, scale=scales[0] if len(scales) == 1 else None,
        server_version=server_version, started_at=started_at, duration_s=duration_s,
        meta=_self_check_meta(specs),
    )
