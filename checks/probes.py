"""Probe checks: try a statement as the learner and see what the database does with it.

A probe runs inside a transaction that is always rolled back, behind a savepoint and with
its own statement and lock timeouts and search_path, so it leaves no rows, schema changes or
settings behind, and no search_path the learner stored on their role can aim it at a decoy.
(Sequences are not transactional: an INSERT into a serial column still advances its
sequence, which leaves a gap in the ids and nothing else.)

One probe tests one value, not a rule: a CHECK that refuses 0 may accept −5. The property
probes (``column_rule_enforced``, ``defaults_follow_rule``) therefore try many values and
contexts. Values come from the rule's boundaries (each side of each one, and the boundary
itself), the extremes of the column's type, NULL, values the spec lists, and values Hypothesis
generates for the column's type — derandomized (a fixed seed, no shrinking, no example
database), so every grading run tries the same values; a run is bounded by ``MAX_PROBES``
statements of ``timeout`` each. The rows already in the table are checked against the rule
too, so a constraint added NOT VALID over bad rows fails.
"""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from psycopg import errors, sql

from pgdrill.checks.arguments import ProbeTimeout, Schema, SqlState, Table
from pgdrill.checks.base import CheckContext, ExerciseBug, Outcome, check
from pgdrill.checks.kit import DEFAULT_TIMEOUT, condition_name, error_report, probe, run_probe, sqlstate_of
from pgdrill.checks.sql import TABLE_KINDS, as_list, find_relation, missing_relation_message, query, rows_evidence, \
    one_row, split_qualified, sql_query
from pgdrill.report import Evidence

@check
def statement_fails(ctx: CheckContext, *, sql: str, sqlstate: SqlState, as_role: Literal["learner"] = "learner",
                    timeout: ProbeTimeout = DEFAULT_TIMEOUT) -> Outcome:
    """The database rejects this statement with this SQLSTATE.

    What it asserts:
        Run as the learner in a transaction that is always rolled back, ``sql`` fails with
        ``sqlstate`` (or one of a list): e.g. 23503 (foreign key), 23514 (check), 23505
        (unique), 23502 (not null). Nothing is left behind either way.
    Arguments:
        sql: one statement that a constraint should stop.
        as_role: who runs it; only learner is supported.
        timeout: statement and lock timeout for the probe (default 5s).
        One value proves no rule on a column's values (a CHECK refusing 0 may let −5 in):
        for those use ``column_rule_enforced``; keep this check for what is one case by
        nature (a foreign key to a row that does not exist, a duplicate).
    Feedback on failure:
        Either "the statement succeeded, so nothing prevents this any more" — the
        constraint that should reject such rows is missing or not enforced — or the
        error it failed with instead (another constraint, a typo in the schema).
    Example:
        - check: statement_fails
          with:
            sql: INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (-1, 1, 1, 1)
            sqlstate: "23503"
    """
    want = [sqlstate_of(s) for s in as_list(sqlstate)]
    if not want:
        raise ExerciseBug("statement_fails needs sqlstate")
    error, _ = run_probe(ctx, sql, as_role=as_role, timeout=timeout)
    want_text = " or ".join(condition_name(w) for w in want)
    stmt = Evidence("sql", "Probe (rolled back)", sql)
    if error is None:
        return Outcome(False, f"Want the statement rejected with {want_text}; it succeeded, so nothing prevents "
                              "this any more.", (stmt,))
    found = Evidence("text", "Error", error_report(error))
    if error.sqlstate in want:
        return Outcome(True, f"Rejected as expected ({condition_name(error.sqlstate)}: "
                             f"{error.diag.message_primary}).", (stmt, found))
    if isinstance(error, errors.QueryCanceled):
        return Outcome(False, f"Want {want_text}; the statement did not finish within {timeout} (is something "
                              "holding a lock?).", (stmt, found))
    return Outcome(False, f"Want {want_text}; the statement failed with {condition_name(error.sqlstate or '?????')} "
                          f"instead: {error.diag.message_primary or error}.", (stmt, found))


@check
def statement_succeeds(ctx: CheckContext, *, sql: str, as_role: Literal["learner"] = "learner",
                       min_rows: int | None = None, timeout: ProbeTimeout = DEFAULT_TIMEOUT) -> Outcome:
    """This statement still works (and is rolled back).

    What it asserts:
        Run as the learner in a transaction that is always rolled back, ``sql`` completes
        without error — and, when ``min_rows`` is given, affects or returns at least that
        many rows. Used to show a fix did not break legitimate work, e.g. a valid order
        line can still be inserted.
    Arguments:
        sql: one statement that must keep working.
        as_role: who runs it; only learner is supported.
        min_rows: the fewest rows it must insert, update, delete or return.
    Feedback on failure:
        The error the statement raised: a constraint that is too strict (or a trigger, or
        a lock held elsewhere) now rejects ordinary, valid work.
    Example:
        - check: statement_succeeds
          with:
            sql: INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (1, 1, 1, 9.99)
    """
    error, rowcount = run_probe(ctx, sql, as_role=as_role, timeout=timeout)
    stmt = Evidence("sql", "Probe (rolled back)", sql)
    if error is not None:
        return Outcome(False, f"The statement should work but failed with {condition_name(error.sqlstate or '?????')}: "
                              f"{error.diag.message_primary or error}. Valid work is now rejected.",
                       (stmt, Evidence("text", "Error", error_report(error))))
    if min_rows is not None and rowcount < int(min_rows):
        return Outcome(False, f"The statement ran but touched {max(rowcount, 0)} rows, want at least {min_rows}.",
                       (stmt,))
    return Outcome(True, "The statement works" + (f" ({rowcount} rows)" if rowcount >= 0 else "") + "; rolled back.",
                   (stmt,))


# ------------------------------------------------------------------------------------------
# property probes: a rule tried on many values, a default in several contexts

MAX_PROBES = 60
GENERATED_EXAMPLES = 12
_INTEGER_RANGES = {"int2": (-2 ** 15, 2 ** 15 - 1), "int4": (-2 ** 31, 2 ** 31 - 1), "int8": (-2 ** 63, 2 ** 63 - 1)}
_DECIMAL_TYPES = ("numeric", "float4", "float8")
_UNBOUNDED_DECIMAL = Decimal("999999999")
_DEFAULT_PROBE = ("UPDATE {table} SET {column} = {value} "
                  "WHERE ctid = (SELECT ctid FROM {table} WHERE ctid IS NOT NULL LIMIT 1)")
_FAR_APART_ZONES = ("Pacific/Kiritimati", "Etc/GMT+12")  # UTC+14 and UTC-12: never the same date


@functools.lru_cache(maxsize=64)
def generated_values(kind: str, low: str, high: str, places: int, count: int) -> tuple:
    """``count`` values of a type between ``low`` and ``high``, generated by Hypothesis the same
    way on every run (derandomized: a fixed seed; only the generate phase, so nothing shrinks;
    no example database)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import strategies as st

    strategy: st.SearchStrategy[Any]
    if kind == "integer":
        strategy = st.integers(int(low), int(high))
    else:
        strategy = st.decimals(Decimal(low), Decimal(high), places=places, allow_nan=False, allow_infinity=False)
    found: list = []

    @settings(max_examples=count, derandomize=True, database=None, phases=(Phase.generate,), deadline=None,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    @given(strategy)
    def collect(value):
        found.append(value)

    collect()
    return tuple(found)


def _numeric_shape(base_type: str, typmod) -> tuple[int, Decimal]:
    """(decimal places, largest magnitude) of values a numeric-like column holds exactly."""
    if base_type == "numeric" and typmod is not None and typmod >= 4:
        precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
        step = Decimal(1).scaleb(-scale)
        return scale, Decimal(10) ** (precision - scale) - step
    return 2, _UNBOUNDED_DECIMAL


def probe_values(base_type: str, typmod, boundaries, extra, examples: int = GENERATED_EXAMPLES) -> list:
    """The values a rule is tried on: both sides of each boundary and the boundary itself, the
    extremes of the type, generated values in between, then ``extra`` (the spec's own list).
    Only integer and numeric-like columns get generated values; others take ``extra`` alone."""
    chosen: list = []

    def add(value):
        if value not in chosen:
            chosen.append(value)

    if base_type in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[base_type]
        for b in boundaries:
            b = Decimal(str(b))
            for v in (int(b.to_integral_value(rounding="ROUND_FLOOR")) + d for d in (-2, -1, 0, 1, 2)):
                if low <= v <= high:
                    add(v)
            if b != b.to_integral_value():
                add(int(b.to_integral_value(rounding="ROUND_CEILING")))
        add(low)
        add(high)
        for v in generated_values("integer", str(low), str(high), 0, int(examples)):
            add(v)
    elif base_type in _DECIMAL_TYPES:
        places, limit = _numeric_shape(base_type, typmod)
        step = Decimal(1).scaleb(-places)
        for b in boundaries:
            b = Decimal(str(b)).quantize(step)
            for near in (b - 1, b - step, b, b + step, b + 1):
                if -limit <= near <= limit:
                    add(near)
        add(-limit)
        add(limit)
        for v in generated_values("decimal", str(-limit), str(limit), places, int(examples)):
            add(v)
    for v in as_list(extra):
        add(v)
    return chosen[:MAX_PROBES]


def _column_type(conn, rel, column: str):
    return conn.execute(query(conn, "probes_column_type"), {"table_oid": rel.oid, "column": column}).fetchone()


def _shown(value) -> str:
    return "NULL" if value is None else str(value)


def _in_utc(value):
    """An instant (timestamptz) shown in UTC, whatever the probe's TimeZone: the same instant
    compares equal across contexts."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc)
    return value


def _rule_verdicts(conn, rule: str, values: list) -> dict:
    """For each value: True (the rule allows it), False (refuses it) or None (does not decide)."""
    verdicts = {}
    for v in values:
        row = conn.execute(sql_query(conn, "probes_rule_holds", rule=sql.SQL(rule), value=sql.Literal(v))).fetchone()
        verdicts[v] = row[0]
    return verdicts


@check
def column_rule_enforced(ctx: CheckContext, *, table: Table, column: str, rule: str,
                         boundaries: float | Sequence[float] = (),
                         values: str | float | Sequence[str | float | bool | None] = (),
                         nulls: Literal["accept", "refuse", "any"] = "any", probe_sql: str | None = None,
                         sqlstate: SqlState = "23514", examples: int = GENERATED_EXAMPLES, existing_rows: bool = True,
                         schema: Schema = "public", timeout: ProbeTimeout = DEFAULT_TIMEOUT) -> Outcome:
    """The database enforces a rule on a column: every value it allows gets in, every other is refused.

    What it asserts:
        A property probe. ``rule`` is a boolean SQL expression of ``value`` (``value >= 0``).
        The check writes many values into the column, each as the learner in its own rolled-back
        transaction: both sides of each of ``boundaries`` and the boundary itself (for integers
        b−2…b+2, for numeric b−1, b − one step of the column's scale, b, b + one step, b+1),
        the extremes of the column's type, ``examples`` values Hypothesis generates for the type
        (the same on every run), the spec's own ``values`` and, unless ``nulls`` is ``any``,
        NULL. Each value the rule allows (or does not decide, as a CHECK lets NULL results in)
        must be accepted; each value it refuses must be refused with ``sqlstate``. NULL must be
        accepted (``nulls: accept``) or refused with ``sqlstate`` or 23502 (``nulls: refuse``).
        With ``existing_rows`` (default) no row already in the table may break the rule (nor be
        NULL under ``nulls: refuse``): a constraint added NOT VALID refuses new bad values and
        leaves the old ones. Whatever enforces the rule counts — a table CHECK, a domain's
        CHECK, a trigger raising check_violation — because only its effect is judged. Columns
        of integer or numeric types (also through a domain) get the boundary and generated
        values; others only ``values`` and NULL.
    Arguments:
        table: the table, ``name`` or ``schema.name``.
        column: the column the rule is about.
        rule: boolean SQL of ``value`` that holds for every allowed value (not shown to learners).
        boundaries: the values where the rule changes its answer, e.g. [0].
        values: more values to try (numbers or text), e.g. the spellings a rule must refuse.
        nulls: ``accept``, ``refuse`` or ``any`` (default: NULL is not probed).
        probe_sql: the statement that writes one value, with ``{value}`` (a literal) and
            optionally ``{table}`` and ``{column}`` (identifiers); braces meant literally are
            doubled. Default: an UPDATE of one existing row (the table must have one) — give an
            INSERT for an empty table. It must touch at least one row when it succeeds.
        sqlstate: the SQLSTATE (or list, or condition name) a refused value must raise
            (default 23514 check_violation).
        examples: how many generated values to add (default 12); at most 60 probes in all.
        existing_rows: also check the rows already in the table (default true).
    Feedback on failure:
        The values that got in although the rule refuses them (a CHECK on the wrong side of the
        boundary, or one that only refuses some of the bad values), the values that were refused
        although the rule allows them (too strict, or another error), how NULL fared, and how
        many existing rows break the rule with a few of their values (fix them, then VALIDATE a
        NOT VALID constraint). The probe statement and each value's verdict are attached; the
        rule itself only for instructors.
    Example:
        - check: column_rule_enforced
          with: {table: products, column: stock_quantity, rule: "value >= 0", boundaries: [0]}
    """
    if nulls not in ("accept", "refuse", "any"):
        raise ExerciseBug(f"column_rule_enforced: nulls must be accept, refuse or any, not {nulls!r}")
    want = [sqlstate_of(s) for s in as_list(sqlstate)]
    if not want:
        raise ExerciseBug("column_rule_enforced needs sqlstate")
    conn = ctx.grader()
    rel = find_relation(conn, table, schema)
    if rel is None or rel.relkind not in TABLE_KINDS:
        return Outcome(False, missing_relation_message(*split_qualified(table, schema)))
    col = str(column)
    typ = _column_type(conn, rel, col)
    if typ is None:
        return Outcome(False, f"{rel.display} has no column {col}, so the rule on it cannot be checked.")
    candidates = probe_values(typ[0], typ[1], as_list(boundaries), values, examples)
    verdicts = _rule_verdicts(conn, str(rule), candidates)
    if nulls != "any":
        candidates.append(None)
        verdicts[None] = nulls == "accept"
    if not candidates:
        raise ExerciseBug("column_rule_enforced: no values to try (give boundaries or values)")
    template = sql.SQL(probe_sql or _DEFAULT_PROBE)
    want_text = " or ".join(condition_name(w) for w in want)

    wrongly_in, wrongly_out, other_error, ev_rows = [], [], [], []
    for v in candidates:
        statement = template.format(value=sql.Literal(v), table=rel.ident, column=sql.Identifier(col))
        run = probe(ctx, statement, timeout=timeout)
        allowed = verdicts[v] is not False
        refuse_codes = want + (["23502"] if v is None else [])
        if run.error is None and run.rowcount == 0:
            return Outcome(False, f"The probe that writes {col} changed no row of {rel.display}, so nothing could be "
                                  "judged (were its rows deleted?).",
                           (Evidence("sql", "Probe (rolled back)", statement.as_string(ctx.learner())),))
        if run.error is None:
            got = "accepted"
            if not allowed:
                wrongly_in.append(_shown(v))
        else:
            got = f"refused ({condition_name(run.error.sqlstate or '?????')})"
            if isinstance(run.error, errors.QueryCanceled):
                got = f"no answer within {timeout}"
            if allowed:
                wrongly_out.append(f"{_shown(v)} ({run.error.sqlstate}: {run.error.diag.message_primary or run.error})")
            elif run.error.sqlstate not in refuse_codes:
                other_error.append(f"{_shown(v)} (refused, but with {condition_name(run.error.sqlstate or '?????')} "
                                   f"instead of {want_text}: {run.error.diag.message_primary or run.error})")
        ev_rows.append((_shown(v), "accept" if allowed else "refuse", got))

    breakers, examples_found = 0, []
    if existing_rows:
        condition = sql.SQL("NOT COALESCE(({}), true)").format(sql.SQL(str(rule)))
        if nulls == "refuse":
            condition = sql.SQL("({}) OR v.value IS NULL").format(condition)
        breakers, examples_found = one_row(conn.execute(sql_query(conn, "probes_rule_breakers", table=rel.ident,
                                                                  column=sql.Identifier(col), condition=condition)))
    evidence = (
        Evidence("sql", "Probe statement (rolled back), for each value",
                 (probe_sql or _DEFAULT_PROBE).replace("{table}", rel.display).replace("{column}", col)),
        rows_evidence(f"Values tried on {rel.display}.{col}", ("value", "want", "database"), ev_rows,
                      limit=MAX_PROBES + 1),
        Evidence("sql", "The rule (value allowed when true)", str(rule), instructor_only=True),
    )
    problems = []
    if wrongly_in:
        problems.append(f"these values got in although they break the rule: {', '.join(wrongly_in[:8])}"
                        + (f" and {len(wrongly_in) - 8} more" if len(wrongly_in) > 8 else ""))
    for found, what in ((wrongly_out, "these were refused although the rule allows them"),
                        (other_error, "these failed for another reason")):
        if found:
            more = f" and {len(found) - 5} more" if len(found) > 5 else ""
            problems.append(f"{what}: {'; '.join(found[:5])}{more}")
    if breakers:
        problems.append(f"{breakers} row(s) already in {rel.display} break the rule (e.g. {col} = "
                        f"{', '.join(_shown(x) for x in examples_found)}): whatever refuses new bad values left "
                        "them — a constraint added NOT VALID checks new rows only; fix the rows, then VALIDATE it")
    tried = f"{len(candidates)} values of {col} (both sides of each boundary, the type's extremes, generated ones" + \
            (", NULL" if nulls != "any" else "") + ")"
    if not problems:
        return Outcome(True, f"Tried {tried}: each value the rule allows got in, each other was refused with "
                             f"{want_text}" + ("; no row already there breaks it." if existing_rows else "."),
                       evidence)
    lesson = (" One refused value does not prove a rule: the database must refuse every bad value and accept "
              "every good one." if wrongly_in or wrongly_out or other_error else "")
    return Outcome(False, f"Tried {tried}; " + "; ".join(problems) + "." + lesson, evidence)


@check
def defaults_follow_rule(ctx: CheckContext, *, probe_sql: str, expect: str,
                         zones: str | Sequence[str] = _FAR_APART_ZONES, again_after: float = 1.5, timeout: ProbeTimeout = DEFAULT_TIMEOUT) -> Outcome:
    """The defaults a new row gets follow a rule in every context, not just at one moment.

    What it asserts:
        A property probe for DEFAULTs. ``probe_sql`` inserts rows that leave some columns to
        their defaults and returns them (``INSERT … RETURNING status, order_date``); ``expect``
        is a boolean SQL expression of the returned columns that must hold for every returned
        row (``status = 'pending'``, or for "the current time" ``order_date BETWEEN now() -
        interval '1 second' AND clock_timestamp()``). The probe runs as the learner once per
        time zone in ``zones`` (by default UTC+14 and UTC−12, whose dates always differ), each
        in its own rolled-back transaction at its own moment, with ``expect`` evaluated in that
        same transaction. So a constant typed in at creation (DEFAULT '2026-01-01', or DEFAULT
        'now', which PostgreSQL evaluates once, when the table is created) fails where the rule
        asks for the moment of the insert: for date and timestamp columns in at least one zone.
        A timestamptz frozen a moment ago is the same instant in every zone and may still be
        within the tolerance ``expect`` allows: when every context returned the very same row
        (instants compared in UTC), the probe runs once more ``again_after`` seconds later, and
        that row must fit too — a frozen instant has aged past the tolerance by then, a default
        computed per row has moved on. A trigger that fills the column counts like a DEFAULT:
        only the inserted values are judged.
    Arguments:
        probe_sql: one INSERT … RETURNING the columns ``expect`` reads.
        expect: boolean SQL over the returned columns (not shown to learners).
        zones: the TimeZone of each context (default Pacific/Kiritimati and Etc/GMT+12).
        again_after: seconds to wait before the extra probe made when every context returned
            the same row (default 1.5, longer than the tolerance in ``expect``); 0: none.
    Feedback on failure:
        The row the defaults produced in each context and whether it fits; when the same
        values came back in every context, right in one and wrong in another, it names the
        likely cause: a constant frozen when the table was created. An error says what stopped
        the insert (a column without a default that may not be NULL …).
    Example:
        - check: defaults_follow_rule
          with:
            probe_sql: "INSERT INTO orders (customer_id) VALUES (NULL) RETURNING status, order_date"
            expect: "status = 'pending' AND order_date BETWEEN now() - interval '1 second' AND clock_timestamp()"
    """
    zone_list = [str(z) for z in as_list(zones)]
    if not zone_list:
        raise ExerciseBug("defaults_follow_rule needs at least one zone")

    def judge_rows(conn, cur):
        """Each returned row (as "name=value, …") and whether ``expect`` holds for it, read in the
        probe's own transaction (the same now()) with search_path pg_catalog, pg_temp. A
        data-modifying WITH cannot be nested, so the row goes back in as parameters, typed as
        psycopg read them."""
        if cur.description is None:
            raise ExerciseBug("defaults_follow_rule: probe_sql must end in RETURNING the columns expect reads")
        names = [d.name for d in cur.description]
        select = sql.SQL("SELECT ({expect})::pg_catalog.bool FROM (SELECT {columns}) AS probe").format(
            expect=sql.SQL(str(expect)),
            columns=sql.SQL(", ").join(sql.SQL("{} AS {}").format(sql.Placeholder(), sql.Identifier(n))
                                      for n in names))
        judged = []
        # Built-ins only: nothing the learner defined in public can answer for the rule.
        conn.execute("SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)")
        for row in cur.fetchmany(100):
            fits = conn.execute(select, row).fetchone()[0]
            judged.append((bool(fits), ", ".join(f"{n}={_shown(_in_utc(v))}" for n, v in zip(names, row))))
        return judged

    ev_rows, problems = [], []
    contexts = [(zone, f"TimeZone {zone}") for zone in zone_list]
    for i, (zone, label) in enumerate(contexts):
        if i == len(zone_list):  # every zone gave the same row: once more, later
            time.sleep(float(again_after))
        run = probe(ctx, str(probe_sql), timeout=timeout, settings={"TimeZone": zone}, then=judge_rows)
        if run.error is not None:
            return Outcome(False, "Inserting a row that leaves its columns to their defaults failed with "
                                  f"{condition_name(run.error.sqlstate or '?????')}: "
                                  f"{run.error.diag.message_primary or run.error}.",
                           (Evidence("sql", "Probe (rolled back)", str(probe_sql)),
                            Evidence("text", "Error", error_report(run.error))))
        if not isinstance(run.result, list) or not run.result:  # the rows judge_rows returned
            raise ExerciseBug("defaults_follow_rule: probe_sql returned no row (it must INSERT … RETURNING columns)")
        for fits, row in run.result:
            ev_rows.append((label, row, "yes" if fits else "no"))
            if not fits:
                problems.append(f"{row} ({label})")
        if (i == len(zone_list) - 1 and not problems and float(again_after) > 0
                and len({row for _, row, _ in ev_rows}) == 1):
            contexts.append((zone_list[0], f"TimeZone {zone_list[0]}, {float(again_after):g} s later"))
    evidence = (Evidence("sql", "Probe (rolled back), once per time zone", str(probe_sql)),
                rows_evidence("The new row in each context", ("context", "returned", "fits the rule"), ev_rows,
                              limit=20),
                Evidence("sql", "The rule (the row fits when true)", str(expect), instructor_only=True))
    if not problems:
        return Outcome(True, f"The new row's defaults fit the rule in all {len(contexts)} contexts "
                             f"({', '.join(label for _, label in contexts)}).", evidence)
    same_value = len({row for _, row, _ in ev_rows}) == 1
    fits_somewhere = any(fits == "yes" for _, _, fits in ev_rows)
    frozen = (" The same values came back in every context, right in one and wrong in another: a constant, "
              "fixed when the table was created (DEFAULT 'now' or a typed-in date is evaluated once), not a default "
              "computed for each row (now(), CURRENT_DATE …).") if same_value and fits_somewhere else ""
    return Outcome(False, f"The defaults do not give a new row what it should get: {'; '.join(problems)}."
                   + frozen, evidence)
