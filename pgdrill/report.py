"""The grading result as data: every output format renders these objects and nothing else."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field


class Status(str, enum.Enum):
    PASSED = "passed"
    PARTIAL = "partial"      # some but not all points
    FAILED = "failed"
    ERROR = "error"          # the check could not run (internal error, server gone); scores 0


class Visibility(str, enum.Enum):
    VISIBLE = "visible"
    HIDDEN = "hidden"                  # never shown to the learner
    AFTER_DUE_DATE = "after_due_date"  # shown once the deadline has passed


@dataclass(frozen=True)
class Evidence:
    """Something a learner can look at to understand a result.

    kind: "plan" (EXPLAIN text), "rows" (a small table), "sql" (a statement), "text".
    instructor_only: the answer itself (a reference query, the expected rows of a graded seed):
    renderers show it to instructors, never to learners (see ``pgdrill.render.for_audience``).
    """

    kind: str
    title: str
    body: str = ""
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    instructor_only: bool = False


@dataclass(frozen=True)
class CheckResult:
    exercise: str
    check_id: str            # the id given in the exercise spec
    check: str               # the catalogue name, e.g. "index_exists"
    description: str         # learner-facing: what is being checked
    points: float
    max_points: float
    status: Status
    message: str             # one line: why it passed or failed
    feedback: str = ""       # the spec's teaching text, shown on failure
    hint: str = ""
    evidence: tuple[Evidence, ...] = ()
    visibility: Visibility = Visibility.VISIBLE
    duration_s: float = 0.0


@dataclass(frozen=True)
class StatementOutcome:
    """One learner statement as the runner executed it."""

    file: str
    line: int
    sql: str
    status: str              # "ok" | "error" | "timeout" | "skipped" (meta-command) | "refused"
    message: str = ""
    sqlstate: str = ""
    rowcount: int = -1
    duration_s: float = 0.0


@dataclass(frozen=True)
class ExerciseResult:
    exercise: str
    title: str
    checks: tuple[CheckResult, ...]
    statements: tuple[StatementOutcome, ...] = ()
    error: str = ""          # set when the exercise could not be graded at all

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.checks)

    def progress_text(self) -> str:
        """The points of a progress line: the visible checks' only (a learner's terminal or CI
        log must not tell what the hidden checks gave), and how many hidden checks there are."""
        if self.error:
            return "could not be graded"
        earned = sum(c.points for c in self.checks if c.visibility == Visibility.VISIBLE)
        total = sum(c.max_points for c in self.checks if c.visibility == Visibility.VISIBLE)
        hidden = sum(1 for c in self.checks if c.visibility != Visibility.VISIBLE)
        return f"{earned:g}/{total:g} points" + (f" (+{hidden} hidden checks)" if hidden else "")


@dataclass(frozen=True)
class GradeReport:
    submission: str
    exercises: tuple[ExerciseResult, ...]
    seed: int | None = None
    scale: float | None = None
    server_version: str = ""
    started_at: str = ""
    duration_s: float = 0.0
    meta: dict = field(default_factory=dict)

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> float:
        return sum(e.max_points for e in self.exercises)

    @property
    def all_passed(self) -> bool:
        return all(c.status is Status.PASSED for e in self.exercises for c in e.checks) and not any(
            e.error for e in self.exercises
        )

    def to_dict(self) -> dict:
        data = asdict(self)
        data["points"] = self.points
        data["max_points"] = self.max_points
        for ex, ex_obj in zip(data["exercises"], self.exercises):
            ex["points"] = ex_obj.points
            ex["max_points"] = ex_obj.max_points
        return data
