"""The check kit: what every check family uses, so no family imports another.

A check author needs this module, ``checks/base.py`` (registry, context, outcome, the error
rule) and ``checks/sql.py`` (the query loader, names, evidence) — never another family.

- **Running SQL as the grader** on the learner's database (``grader_transaction``): in a
  transaction that is always rolled back, with ``SET LOCAL statement_timeout`` and
  ``search_path = pg_catalog, public, pg_temp`` (the scenario's SQL names its tables
  unqualified, so ``public`` must be on the path, but *after* ``pg_catalog`` so a learner's
  ``public.count`` cannot replace a built-in, and ``pg_temp`` explicitly last), refusing to
  run at all while schema ``public`` holds a learner's function or operator named like a
  built-in (``ShadowedBuiltins``, the learner's fault).
- **Reference queries** (``run_reference``, ``reference_value``, ``reference_connection``):
  streamed with a row cap and byte caps (parallel workers allowed, unlike a server-side
  cursor's) — the server measures each row (as text) and stops at the first over
  ``REFERENCE_ROW_BYTES``; the grader stops reading after ``REFERENCE_TOTAL_BYTES``. A
  reference that fails is an exercise bug (``ReferenceQueryError``) unless the learner
  dropped what it reads.
- **The learner's named queries** (``captured_result``): their rows, or the learner's fault
  saying why there are none.
- **Plans** (``plan_session``, ``explain_json``, ``explain_text``, ``plan_nodes``): planned in a
  rolled-back transaction with stored planner settings put back to their defaults.
- **SQLSTATEs and error text** (``sqlstate_of``, ``condition_name``, ``error_text``,
  ``error_report``).
- **Tables and columns** (``require_relation``, ``require_columns``; ``pgdrill.checks.sql.resolve_tables``
  for lists): the relation a spec names, or the learner's fault when it is gone.
- **Comparison** of single values (``as_number``, ``values_equal``); rows compare with
  ``pgdrill.compare``.
"""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator

import psycopg
from psycopg import errors, sql

from pgdrill.checks.base import CheckContext, ExerciseBug, LearnerFault, Outcome
from pgdrill.checks.sql import (TABLE_KINDS, Relation, as_list, columns_of, find_relation, ident_name, load_sql,
                        missing_relation_message, rows_evidence, split_qualified)
from pgdrill.report import Evidence
from pgdrill.runner import CapturedResult, row_size
from pgdrill.sqlsplit import split_sql

REFERENCE_TIMEOUT_S = 30
REFERENCE_ROW_CAP = 10_000
REFERENCE_ROW_BYTES = 1024 * 1024         # one row, as text, measured by the server
REFERENCE_TOTAL_BYTES = 32 * 1024 * 1024  # all rows read, measured by the grader
REFERENCE_FETCH = 100                     # rows per message from the server, where libpq can (17+)
_CHUNKED_ROWS = psycopg.pq.version() >= 170000
# work_mem of a reference query: the incident's largest anti join (order lines against orders
# at scale 1) hashes in memory; one query at a time, so 768 MB machines keep their margin.
REFERENCE_WORK_MEM = "32MB"
TOO_LARGE_SQLSTATE = "54000"              # program_limit_exceeded
_ROW_TOO_LARGE = "pgdrill-row-too-large"
SEARCH_PATH = "pg_catalog, public, pg_temp"
PLAN_TIMEOUT_S = 30
DEFAULT_TIMEOUT = "5s"                    # a probe run as the learner


# ------------------------------------------------------------------------------------------
# Errors the grader's own SQL meets


class ReferenceQueryError(ExerciseBug, RuntimeError):
    """The spec's reference query failed.

    Usually a bug in the exercise (caught by the meta-test that grades the reference
    solution), and then the grader reports it as one. When the query names a table, column
    or function that no longer exists, the learner changed the schema under it:
    ``learner_caused`` is set and the check fails with that explanation instead
    (``learner_outcome``, the error rule of ``checks/base.py``).
    """

    # undefined_table, undefined_column, undefined_function, undefined_object
    LEARNER_SQLSTATES = ("42P01", "42703", "42883", "42704", TOO_LARGE_SQLSTATE)

    def __init__(self, message: str, sqlstate: str = "", error: str = ""):
        super().__init__(message)
        self.sqlstate = sqlstate
        self.error = error

    @property
    def learner_caused(self) -> bool:
        return self.sqlstate in self.LEARNER_SQLSTATES

    def learner_outcome(self) -> Outcome | None:
        return self.outcome() if self.learner_caused else None

    def outcome(self) -> Outcome:
        if self.sqlstate == TOO_LARGE_SQLSTATE:
            return Outcome(False, f"The grader stopped reading your database: {self.error}. Something there (a view, "
                                  "a function, a column) returns far larger values than the incident's data.")
        return Outcome(False, f"The grader's reference query fails on your database: {self.error}. It was written "
                              "for the incident's schema — did you drop or rename a table or column it uses?")


class IncidentMismatch(ExerciseBug, LookupError):
    """The spec names what the untouched incident does not hold (a table, a column, planted
    rows): the exercise is wrong about its starting state."""


class BaselineMissing(ExerciseBug, RuntimeError):
    """The check compares with an untouched clone of the incident, and the exercise gives none."""


class ShadowedBuiltins(LearnerFault):
    """Schema public holds overloads of built-in names; grader SQL will not run (the learner's fault)."""

    def __init__(self, objects: list[tuple[str, str]]):
        Exception.__init__(self, ", ".join(sig for _, sig in objects))
        self.objects = objects

    def outcome(self) -> Outcome:
        shown = ", ".join(sig for _, sig in self.objects[:5])
        more = f" and {len(self.objects) - 5} more" if len(self.objects) > 5 else ""
        return Outcome(
            False,
            f"Schema public holds {len(self.objects)} function(s) or operator(s) named like built-ins "
            f"({shown}{more}). An overload like that can silently replace the built-in in any query "
            "that has public on its search_path, so the grader will not run its queries here. "
            "Drop them (or move them to their own schema) and grade again.",
            (rows_evidence("Objects shadowing built-ins", ("kind", "signature"), self.objects, limit=20),),
        )


def error_text(exc: Exception) -> str:
    """The server's primary message of a database error (its text when it has none)."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return (primary or str(exc)).strip()


def error_report(exc: psycopg.Error) -> str:
    """A database error as evidence: ``ERROR <SQLSTATE>: message``, its detail and constraint."""
    diag = exc.diag
    parts = [f"ERROR {exc.sqlstate}: {diag.message_primary or exc}"]
    if diag.message_detail:
        parts.append(f"DETAIL: {diag.message_detail}")
    if diag.constraint_name:
        parts.append(f"constraint: {diag.constraint_name}")
    return "\n".join(parts)


def sqlstate_of(code_or_name: str) -> str:
    """A five-character SQLSTATE from a code (23503) or condition name (foreign_key_violation)."""
    text = str(code_or_name).strip()
    if re.fullmatch(r"[0-9A-Z]{5}", text):
        return text
    try:
        state = errors.lookup(text.upper()).sqlstate
    except KeyError:
        raise ExerciseBug(f"unknown SQLSTATE or condition name {code_or_name!r}") from None
    if state is None:  # an error class psycopg knows without a code of its own
        raise ExerciseBug(f"unknown SQLSTATE or condition name {code_or_name!r}")
    return state


def condition_name(code: str) -> str:
    """``23503 foreign_key_violation`` for a SQLSTATE (the code alone when psycopg has no name)."""
    try:
        cls = errors.lookup(code)
    except KeyError:
        return code
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
    return f"{code} {name}"


# ------------------------------------------------------------------------------------------
# Running grader SQL on the learner's database


def sql_text(query: str) -> str:
    """A spec's SQL without trailing semicolons and whitespace (so it can be wrapped)."""
    return query.strip().rstrip(";").rstrip()


@contextlib.contextmanager
def grader_transaction(conn, *, timeout_s: float = REFERENCE_TIMEOUT_S) -> Iterator[psycopg.Connection]:
    """A rolled-back transaction on ``conn`` set up to run scenario SQL (see module doc).

    Raises ``ShadowedBuiltins`` before running anything when public shadows a built-in.
    """
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT pg_catalog.set_config('search_path', %s, true), "
                     "pg_catalog.set_config('statement_timeout', %s, true)",
                     (SEARCH_PATH, f"{int(timeout_s * 1000)}ms"))
        shadowing = [tuple(r) for r in conn.execute(load_sql("results_shadowed_builtins")).fetchall()]
        if shadowing:
            raise ShadowedBuiltins(shadowing)
        yield conn


@dataclass(frozen=True)
class ReferenceRows:
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    truncated: bool


def run_reference(conn, query: str, *, row_cap: int = REFERENCE_ROW_CAP,
                  timeout_s: float = REFERENCE_TIMEOUT_S) -> ReferenceRows:
    """Rows of the spec's reference query on ``conn``, at most ``row_cap`` of them.

    Raises ``ShadowedBuiltins`` (see ``grader_transaction``) or ``ReferenceQueryError``.
    """
    rows: list = []
    size = 0
    try:
        with grader_transaction(conn, timeout_s=timeout_s):
            # A few MB more for hashes keeps the incident's anti joins in memory (no row changes).
            conn.execute("SELECT pg_catalog.set_config('work_mem', %s, true)", (REFERENCE_WORK_MEM,))
            # Streamed, not read through a server-side cursor: a cursor's query never runs in
            # parallel (and plans for its first tenth of rows), a streamed one is planned as a
            # whole and may use parallel workers — the incident's anti joins take half the time.
            # No LIMIT in the SQL (it would bring back fast-start plans): reading stops after
            # row_cap + 1 rows or REFERENCE_TOTAL_BYTES, and closing the stream cancels the rest.
            with conn.cursor() as cur:
                stream = cur.stream(size_guarded(sql_text(query)), size=REFERENCE_FETCH if _CHUNKED_ROWS else 1)
                try:
                    for row in stream:
                        rows.append(row)
                        size += row_size(row)
                        if size > REFERENCE_TOTAL_BYTES:
                            raise ReferenceQueryError(
                                "the reference query", TOO_LARGE_SQLSTATE,
                                f"its rows exceed {REFERENCE_TOTAL_BYTES // 1024 ** 2} MiB")
                        if len(rows) > row_cap:
                            break
                finally:
                    stream.close()  # a generator: closing it cancels the query
                if not rows:  # a stream describes its rows with the first of them: ask for none
                    cur.execute(f"SELECT * FROM (\n{sql_text(query)}\n) AS pgdrill_q LIMIT 0")
                columns = tuple(d.name for d in (cur.description or ()))
    except psycopg.Error as exc:
        if _ROW_TOO_LARGE in str(exc):
            raise ReferenceQueryError("the reference query", TOO_LARGE_SQLSTATE,
                                      f"a row is larger than {REFERENCE_ROW_BYTES // 1024 ** 2} MiB") from exc
        raise ReferenceQueryError(f"the reference query failed: {error_text(exc)}",
                                  getattr(exc, "sqlstate", "") or "", error_text(exc)) from exc
    truncated = len(rows) > row_cap
    return ReferenceRows(columns, tuple(tuple(r) for r in rows[:row_cap]), truncated)


def size_guarded(text: str) -> str:
    """``text`` (a SELECT) wrapped so the server stops at the first row whose text form is
    larger than REFERENCE_ROW_BYTES, with an error naming _ROW_TOO_LARGE (CASE keeps the
    failing cast from running for rows within the limit; the size is not a constant, so the
    planner cannot fold it)."""
    return (f"SELECT pgdrill_q.* FROM (\n{text}\n) AS pgdrill_q "
            "CROSS JOIN LATERAL (SELECT pg_catalog.octet_length(pgdrill_q::pg_catalog.text) AS n) AS pgdrill_size "
            f"WHERE CASE WHEN pgdrill_size.n <= {REFERENCE_ROW_BYTES} THEN true "
            f"ELSE ('{_ROW_TOO_LARGE} ' || pgdrill_size.n)::pg_catalog.int4 > 0 END")


def reference_value(conn, query: str, *, timeout_s: float = REFERENCE_TIMEOUT_S):
    """The single value (first column of the only row) of a reference query."""
    ref = run_reference(conn, query, row_cap=2, timeout_s=timeout_s)
    if len(ref.rows) != 1 or not ref.columns:
        raise ReferenceQueryError(
            f"the reference query must return exactly one row with a value; it returned "
            f"{'more than one' if len(ref.rows) > 1 else 'no'} row")
    return ref.rows[0][0]


def reference_connection(ctx: CheckContext, against: str):
    """The grader's connection for reference queries: the learner's database (``graded``) or
    an untouched clone of the same incident (``baseline``)."""
    if against == "graded":
        return ctx.grader()
    if against != "baseline":
        raise ExerciseBug(f"against must be 'graded' or 'baseline', not {against!r}")
    conn = ctx.baseline() if ctx.baseline is not None else None
    if conn is None:
        raise BaselineMissing("against: baseline needs an untouched baseline clone, and none is available")
    return conn


# ------------------------------------------------------------------------------------------
# Running SQL as the learner (probes): always rolled back


# The application's view of the database: public (pg_catalog is always searched first).
PROBE_SEARCH_PATH = "public"
_TRANSACTION_CONTROL = re.compile(
    r"^\s*(begin|start\s+transaction|commit|end|rollback|abort|savepoint|release|prepare\s+transaction)\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class ProbeRun:
    """What one rolled-back probe did: its error (or None), the rows it touched, rows it returned."""

    error: psycopg.Error | None
    rowcount: int
    result: object = None


def probe(ctx: CheckContext, statement, *, timeout: str = DEFAULT_TIMEOUT, settings: dict | None = None,
          then=None) -> ProbeRun:
    """Run ``statement`` (text or psycopg.sql) once as the learner and roll it back.

    The statement runs in its own transaction (BEGIN … ROLLBACK, always) behind a savepoint,
    with local statement and lock timeouts, the application's search_path and any other
    ``settings`` made local to it (e.g. a TimeZone). ``then(conn, cursor)``, when given, runs
    right after it in the same transaction (the same now()), and its result is returned.
    """
    text = statement.as_string(ctx.learner()) if isinstance(statement, sql.Composable) else statement
    if _TRANSACTION_CONTROL.match(text or ""):
        raise ExerciseBug("a probe statement must not control the transaction (BEGIN, COMMIT, ROLLBACK, …)")
    conn = ctx.learner()
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()
    error, rowcount, result = None, -1, None
    local = {"statement_timeout": str(timeout), "lock_timeout": str(timeout),
             # The application's path, not one the learner stored on their role (ALTER ROLE learner
             # SET search_path = decoy, public would aim the probe at a decoy table).
             "search_path": PROBE_SEARCH_PATH, **(settings or {})}
    with conn.transaction(force_rollback=True):
        for name, value in local.items():
            conn.execute("SELECT pg_catalog.set_config(%s, %s, true)", (name, str(value)))
        try:
            with conn.transaction():  # a savepoint: the failure stays inside it
                # binary=True makes psycopg use the extended protocol, which takes exactly one
                # statement: "INSERT …; COMMIT" cannot smuggle a COMMIT past the rollback.
                cur = conn.execute(text, binary=True)
                rowcount = cur.rowcount
                if then is not None:
                    result = then(conn, cur)
        except psycopg.Error as exc:
            error = exc
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:  # pragma: no cover - belt and braces
        conn.rollback()
    return ProbeRun(error, rowcount, result)


def run_probe(ctx: CheckContext, statement: str, *, as_role: str = "learner", timeout: str = DEFAULT_TIMEOUT):
    """Run ``statement`` once as the learner and roll it back; ``(error or None, rowcount)``."""
    if as_role != "learner":
        raise ExerciseBug(f"probes run as the learner only, not as {as_role!r}")
    run = probe(ctx, statement, timeout=timeout)
    return run.error, run.rowcount


# ------------------------------------------------------------------------------------------
# The learner's named queries


def captured_result(ctx: CheckContext, query: str) -> CapturedResult:
    """The rows of the learner's query named ``query``; raises ``LearnerFault`` saying why there
    are none (no such query, or it failed)."""
    captured = named_result(ctx, query)
    if captured.error:
        raise LearnerFault(Outcome(
            False,
            f"Your query {query!r} ({captured.file}, line {captured.line}) failed, so there are no rows "
            f"to compare: {captured.error}",
            (Evidence("text", f"Error from {query}", captured.error),)))
    return captured


def named_result(ctx: CheckContext, query: str) -> CapturedResult:
    """The CapturedResult named ``query``, failed or not; raises ``LearnerFault`` saying why
    there is none."""
    captured = ctx.captured.get(query)
    if captured is None:
        mine = stopped_statement_named(ctx, query)
        if mine is not None:
            raise LearnerFault(Outcome(False, f"Your query {query!r} ({mine.file}, line {mine.line}) was stopped for running too "
                                  f"long ({mine.message}), so it returned nothing to compare. Make it faster: "
                                  "look at its plan (EXPLAIN) for a scan of a large table or a join without a "
                                  "condition."))
        known = ", ".join(sorted(ctx.captured)) or "none"
        stopped = [s for s in ctx.statements if getattr(s, "status", "") == "timeout"]
        timeout_note = (f" {len(stopped)} statement(s) of your files were stopped for running too long "
                        f"(first at {stopped[0].file}, line {stopped[0].line}); if {query!r} was one of them, "
                        "make it faster." if stopped else "")
        raise LearnerFault(Outcome(
            False,
            f"You did not run a query named {query!r}. Put the comment line `-- name: {query}` directly "
            f"above the statement in your SQL file so the grader can find its result "
            f"(named queries found: {known}).{timeout_note}"))
    return captured


def stopped_statement_named(ctx: CheckContext, query: str):
    """The learner's statement named ``query`` when it was stopped for running too long (the
    runner keeps no result for it, so its name is read back from the learner's file)."""
    stopped = [s for s in ctx.statements if getattr(s, "status", "") == "timeout"]
    for file in {s.file for s in stopped}:
        try:
            text = (Path(ctx.submission_dir) / file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        named_lines = {stmt.line for stmt in split_sql(text) if stmt.name == query}
        for s in stopped:
            if s.file == file and s.line in named_lines:
                return s
    return None


# ------------------------------------------------------------------------------------------
# Plans


@dataclass
class PlanSession:
    """What was done to a grader session before planning: the settings put back."""

    neutralised: list[tuple[str, str, str, str]] = field(default_factory=list)  # name, value, source, default

    def evidence(self) -> list[Evidence]:
        if not self.neutralised:
            return []
        where = {"database": "database level (ALTER DATABASE … SET)", "user": "role level (ALTER ROLE … SET)",
                 "database user": "role-in-database level (ALTER ROLE … IN DATABASE … SET)"}
        lines = [f"setting {name} = {value} was changed at {where.get(source, source)}; ignored "
                 f"(planned with the default {default})" for name, value, source, default in self.neutralised]
        return [Evidence("text", "Planner settings ignored", "\n".join(lines))]


def neutralise_planner_settings(conn) -> PlanSession:
    """Inside a transaction: SET LOCAL every planner setting that came from a stored
    database or role setting back to its built-in default."""
    state = PlanSession()
    for name, setting, unit, source, boot_val in conn.execute(load_sql("performance_session_overrides")).fetchall():
        conn.execute("SELECT pg_catalog.set_config(%s, %s, true)", (name, boot_val))
        state.neutralised.append((name, f"{setting}{unit and ' ' + unit}", source, f"{boot_val}{unit and ' ' + unit}"))
    return state


@contextlib.contextmanager
def plan_session(conn, *, force_index: bool = False, timeout_s: float = PLAN_TIMEOUT_S) -> Iterator[PlanSession]:
    """A rolled-back transaction ready to plan or time the scenario's query."""
    with grader_transaction(conn, timeout_s=timeout_s):
        state = neutralise_planner_settings(conn)
        if force_index:
            for name, value in (("enable_seqscan", "off"), ("enable_indexscan", "on"),
                                ("enable_bitmapscan", "on"), ("enable_indexonlyscan", "on")):
                conn.execute("SELECT pg_catalog.set_config(%s, %s, true)", (name, value))
        yield state


def run_extended(conn, text: str, params) -> list[tuple]:
    """Run ``text`` through the extended protocol ($1 placeholders, one statement only)."""
    cur = psycopg.RawCursor(conn)
    cur.execute(text, list(params or []))
    return cur.fetchall()


def explain_json(conn, query: str, params=None, *, options: str = "FORMAT JSON, COSTS OFF, VERBOSE") -> dict:
    rows = run_extended(conn, f"EXPLAIN ({options}) {sql_text(query)}", params)
    data = rows[0][0]
    return data[0] if isinstance(data, list) else data


def explain_text(conn, query: str, params=None) -> str:
    return "\n".join(r[0] for r in run_extended(conn, f"EXPLAIN (COSTS OFF) {sql_text(query)}", params))


def plan_nodes(plan: dict) -> Iterator[dict]:
    """Every node of a JSON plan, depth first, the root first."""
    yield plan
    for child in plan.get("Plans") or ():
        yield from plan_nodes(child)


# ------------------------------------------------------------------------------------------
# Tables and columns a spec names


def require_relation(conn, table, schema: str | None = "public", *, role: str = "table",
                     kinds: tuple[str, ...] = TABLE_KINDS) -> Relation:
    """The relation ``table`` names (of one of ``kinds``); raises ``LearnerFault`` when it is
    missing ("was it dropped or renamed?") or of another kind."""
    rel = find_relation(conn, table, schema)
    if rel is None:
        raise LearnerFault(Outcome(False, missing_relation_message(*split_qualified(table, schema), role=role)))
    if rel.relkind not in kinds:
        raise LearnerFault(Outcome(False, f"{rel.display} is a {rel.kind_word}, not a table."))
    return rel


def require_columns(conn, rel: Relation, names) -> list[str]:
    """The columns ``names`` (folded as PostgreSQL reads them); raises ``LearnerFault`` when
    ``rel`` lacks one of them."""
    have = {name for name, _ in columns_of(conn, rel.oid)}
    cols = [ident_name(c) for c in as_list(names)]
    missing = [c for c in cols if c not in have]
    if missing:
        raise LearnerFault(Outcome(False, f"{rel.display} has no column {', '.join(missing)} "
                                          f"(was it dropped or renamed?), so this cannot be checked."))
    return cols


# ------------------------------------------------------------------------------------------
# Comparing values


_SIZE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(bytes|byte|b|kb|mb|gb|tb|pb)\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "byte": 1, "bytes": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "tb": 1024 ** 4,
          "pb": 1024 ** 5}


def as_number(value) -> tuple[float, float] | None:
    """(value, rounding slack) for numbers, numeric strings and sizes like ``'8553 kB'``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        return (float(value), 0.0)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            return (float(Decimal(text)), 0.0)
        except (InvalidOperation, ValueError):
            pass
        m = _SIZE.match(text)
        if m:
            unit = _UNITS[m.group(2).lower()]
            # pg_size_pretty rounds to whole units: allow half a unit either way.
            return (float(m.group(1)) * unit, unit / 2 if unit > 1 else 0.0)
    return None


def values_equal(expected, actual, *, relative_tolerance: float, absolute_tolerance: float) -> bool:
    e, a = as_number(expected), as_number(actual)
    if e is not None and a is not None:
        if math.isnan(e[0]) or math.isnan(a[0]):
            return math.isnan(e[0]) and math.isnan(a[0])
        slack = max(relative_tolerance * max(abs(e[0]), abs(a[0])), absolute_tolerance, e[1] + a[1])
        return abs(e[0] - a[0]) <= slack
    if expected is None or actual is None:
        return expected is None and actual is None
    return str(expected).strip() == str(actual).strip()
