"""What every check shares: the registry, the context a check receives and its outcome.

A check is a function ``name(ctx, **arguments) -> Outcome`` registered with ``@check``.
Its docstring has fixed sections, from which docs/checks.md is generated:

    One-line summary.

    What it asserts:
        ...
    Arguments:
        name: meaning
    Feedback on failure:
        ...
    Example:
        - check: name
          with: {...}

Every parameter carries a type (``str``, ``float``, ``list[str]``, ``Literal[...]`` for choices,
or an argument shared by several checks from ``checks/arguments.py``, which need not be
documented again): ``pgdrill.spec`` holds a spec's ``with:`` values against them when it loads.

A check whose arguments nest further (``integrity_checks_pass`` takes a list of checks) may
carry ``argument_problems(args) -> [(key path, message)]``: ``pgdrill.spec`` reports what it
returns with file, line and key, as it does for the top-level arguments.

The error rule (one for every check, applied by ``@check`` and by the grader, never by each
check):

- **The learner's fault** is a failed ``Outcome``: a check returns it, or a helper raises
  ``LearnerFault(outcome)`` (a resolver that finds no such table, no such named query) and
  ``@check`` turns it into the check's result.
- **An exercise bug** — the spec asks for something impossible, its reference SQL fails on
  the untouched incident — raises ``ExerciseBug``; the grader reports it as such, with the
  spec's file and line (``grade.py validate --solutions`` shows it for the reference). An
  exercise bug the learner provoked (the reference query names a table they dropped) says
  so through ``ExerciseBug.learner_outcome`` and is their fault.
- **Not graded here** (``NotGradedHere``): this grader cannot run the check; reported as an
  error with the reason, never as the learner's fault.
- **Anything else** is an internal error of the grader.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pgdrill.report import Evidence, StatementOutcome

if TYPE_CHECKING:  # pragma: no cover - types only: the grader imports the checks, not the reverse
    import psycopg

    from pgdrill.fixtures.activity import Activity
    from pgdrill.fixtures.server import Server
    from pgdrill.runner import CapturedResult


class NotGradedHere(Exception):
    """The check cannot run on this grader (say, no sandbox for learner programs); the message
    says why and what the instructor can do. Reported as an error, never as the learner's fault."""


class LearnerFault(Exception):
    """The learner's doing, found by a helper: the check fails with ``outcome()`` (what was
    expected, what was found, why it matters). Raise it where a failed Outcome cannot be
    returned; ``@check`` makes it the check's result."""

    def __init__(self, outcome: "Outcome"):
        super().__init__(outcome.message)
        self._outcome = outcome

    def outcome(self) -> "Outcome":
        return self._outcome


class ExerciseBug(ValueError):
    """The exercise is wrong, not the learner: its spec asks for what the check cannot do, or
    its reference SQL fails on the incident. The grader reports it with the spec's line."""

    def learner_outcome(self) -> "Outcome | None":
        """A failed Outcome when the learner's changes caused it (None: the exercise's bug)."""
        return None


def learner_outcome(exc: BaseException) -> "Outcome | None":
    """The failed Outcome ``exc`` stands for when it is the learner's fault, else None."""
    if isinstance(exc, LearnerFault):
        return exc.outcome()
    if isinstance(exc, ExerciseBug):
        return exc.learner_outcome()
    return None


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str
    evidence: tuple[Evidence, ...] = ()
    # Fraction of the points in [0, 1] for partial credit; None means all or nothing.
    score: float | None = None

    @property
    def fraction(self) -> float:
        if self.score is not None:
            return max(0.0, min(1.0, self.score))
        return 1.0 if self.passed else 0.0


@dataclass
class CheckContext:
    """What a check may use. Connections are opened lazily by the grading session.

    grader():    the learner's graded database as role pgdrill_grader (read-only,
                 search_path = pg_catalog, pg_temp; statement_timeout set).
    learner():   the same database as role learner, for probes (always rolled back).
    baseline():  grader connection to an untouched clone of the same incident (for
                 speed-up and preservation comparisons); None when not available.
    captured:    the learner's named query results, {name: CapturedResult}.
    statements:  every statement the learner's files ran, with its outcome.
    """

    exercise_id: str
    exercise_dir: Path
    submission_dir: Path
    manifest: dict[str, Any]
    grader: Callable[[], psycopg.Connection[Any]]
    learner: Callable[[], psycopg.Connection[Any]]
    baseline: Callable[[], psycopg.Connection[Any]] | None = None
    captured: dict[str, CapturedResult] = field(default_factory=dict)
    statements: tuple[StatementOutcome, ...] = ()
    server: Server | None = None
    dbname: str = ""
    # The submission's top folder: below it nothing is read through a link (pgdrill.submission).
    submission_root: Path | None = None
    # When the exercise's setup ended, as the server's now()::text: ``since: setup`` of the
    # maintenance checks. None: not known (a check asked for it then fails as an exercise bug).
    setup_finished_at: str | None = None
    # The background activity of the starting state (``incident.activity``); its ``shop`` is
    # what shop_stayed_open judges. None on contrasts and where no activity runs.
    activity: Activity | None = None
    # --allow-unsandboxed-programs: run learner programs even where they cannot be sandboxed.
    unsandboxed_programs: bool = False
    # Seconds the maintenance checks wait for statistics to be published; None: their default
    # (pgdrill.checks.maintenance.DEFAULT_STATS_WAIT). Tests shorten it.
    stats_wait: float | None = None
    # The id of the contrast (exercise.yaml ``contrasts:``) this context judges; None on the
    # graded database. A check whose program's work is judged there too (backup_restores) reads it.
    contrast: str | None = None


@dataclass(frozen=True)
class CheckDef:
    name: str
    family: str
    func: Callable[..., Outcome]

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.func) or ""

    @property
    def contrasted(self) -> bool:
        """Graded on the exercise's contrast databases too (``@on_contrasts``,
        ``@on_contrasts_end_state``)."""
        return bool(getattr(self.func, "contrasted", False))

    @property
    def when_passed(self) -> bool:
        """Graded on contrasts only where it passed on the graded database
        (``@on_contrasts_when_passed``)."""
        return getattr(self.func, "contrasted", False) == WHEN_PASSED

    @property
    def end_state(self) -> bool:
        """Judges what the learner's whole submission left behind (``@on_contrasts_end_state``):
        graded only on the contrasts where every learner file ran."""
        return getattr(self.func, "contrasted", False) == END_STATE

    @property
    def parameters(self) -> dict[str, inspect.Parameter]:
        params = dict(inspect.signature(self.func).parameters)
        params.pop("ctx", None)
        return params


REGISTRY: dict[str, CheckDef] = {}


def check(func: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """Register ``func`` under its own name; the module name is its family.

    The registered function applies the learner's half of the error rule (module doc): a
    ``LearnerFault`` raised anywhere below it, or an ``ExerciseBug`` the learner provoked,
    becomes its failed Outcome. Everything else propagates to the grader."""
    name = func.__name__
    family = func.__module__.rsplit(".", 1)[-1]

    @functools.wraps(func)
    def graded(ctx, *args, **kwargs):
        try:
            return func(ctx, *args, **kwargs)
        except (LearnerFault, ExerciseBug) as exc:
            outcome = learner_outcome(exc)
            if outcome is None:
                raise
            return outcome

    known = REGISTRY[name].func if name in REGISTRY else func
    if getattr(known, "__wrapped__", known) is not func:
        raise ValueError(f"check {name!r} is defined twice ({REGISTRY[name].family}, {family})")
    REGISTRY[name] = CheckDef(name=name, family=family, func=graded)
    return graded


def on_contrasts(func: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """Mark a check that compares a learner's named query with a reference run on the same
    database, or what a learner's program made of the database it ran on with that database:
    in an exercise that declares ``contrasts:`` the grader runs it again on each contrast
    database (``pgdrill.grading``), where the learner's files ran again and a program the
    check runs runs again (``ctx.contrast`` names the contrast). Put it under ``@check``."""
    setattr(func, "contrasted", True)  # read by CheckDef.contrasted
    return func


END_STATE = "end_state"
WHEN_PASSED = "when_passed"


def on_contrasts_when_passed(func: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """Like ``@on_contrasts``, for a check with partial credit for partial work (a dump that
    restores some of the tables): it is run again on the contrasts only when it passed on the
    graded database, so that a contrast names an accident — an answer right there, wrong on a
    second database — and never takes points from work that was partial anyway. Put it under
    ``@check``."""
    setattr(func, "contrasted", WHEN_PASSED)  # read by CheckDef.contrasted and .when_passed
    return func


def on_contrasts_end_state(func: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """Mark a check of the end state (the rows a fix kept, changed or removed, compared with the
    untouched database): in an exercise that declares ``contrasts:`` the grader runs it again on
    each contrast where every learner file ran (a contrast with ``files:`` ran only some, so
    there is no end state to judge), compared with that contrast's own untouched copy. A fix
    that fits the rows of one database only (a typed-in id list, a range that happens to cover
    the bad rows) fails there. Put it under ``@check``."""
    setattr(func, "contrasted", END_STATE)  # read by the grader with getattr; plain functions take attributes
    return func
