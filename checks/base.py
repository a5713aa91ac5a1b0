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

A check whose arguments nest further (``integrity_checks_pass`` takes a list of checks) may
carry ``argument_problems(args) -> [(key path, message)]``: ``pgdrill.spec`` reports what it
returns with file, line and key, as it does for the top-level arguments.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pgdrill.report import Evidence


class NotGradedHere(Exception):
    """The check cannot run on this grader (say, no sandbox for learner programs); the message
    says why and what the instructor can do. Reported as an error, never as the learner's fault."""


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
    """

    exercise_id: str
    exercise_dir: Path
    submission_dir: Path
    manifest: dict
    grader: Callable[[], Any]
    learner: Callable[[], Any]
    baseline: Callable[[], Any] | None = None
    captured: dict = field(default_factory=dict)
    statements: tuple = ()
    server: Any = None
    dbname: str = ""
    options: dict = field(default_factory=dict)
    # The submission's top folder: below it nothing is read through a link (pgdrill.submission).
    submission_root: Path | None = None


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
    """Register ``func`` under its own name; the module name is its family."""
    name = func.__name__
    family = func.__module__.rsplit(".", 1)[-1]
    if name in REGISTRY and REGISTRY[name].func is not func:
        raise ValueError(f"check {name!r} is defined twice ({REGISTRY[name].family}, {family})")
    REGISTRY[name] = CheckDef(name=name, family=family, func=func)
    return func


def on_contrasts(func: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """Mark a check that compares a learner's named query with a reference run on the same
    database: in an exercise that declares ``contrasts:`` the grader runs it again on each
    contrast database (``pgdrill.grading``), where the learner's files ran again. Put it
    under ``@check``."""
    func.contrasted = True
    return func


END_STATE = "end_state"


def on_contrasts_end_state(func: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """Mark a check of the end state (the rows a fix kept, changed or removed, compared with the
    untouched database): in an exercise that declares ``contrasts:`` the grader runs it again on
    each contrast where every learner file ran (a contrast with ``files:`` ran only some, so
    there is no end state to judge), compared with that contrast's own untouched copy. A fix
    that fits the rows of one database only (a typed-in id list, a range that happens to cover
    the bad rows) fails there. Put it under ``@check``."""
    func.contrasted = END_STATE
    return func
