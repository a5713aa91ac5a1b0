"""Performance: does the scenario's slow query now run the way a fixed database runs it?

The query is the scenario's own (given in the spec), run by the grader as
``pgdrill_grader`` — never the learner's text — so a learner cannot pass by rewriting it.

How the plans are obtained:

- In a transaction that is always rolled back, with ``SET LOCAL statement_timeout`` and
  ``SET LOCAL search_path = pg_catalog, public, pg_temp``. The scenario's SQL names its
  tables unqualified; rewriting it to ``public.products`` would mean parsing SQL, while the
  path keeps built-ins first and the grader refuses to run while public shadows a built-in
  name (see the results family). ``pg_temp`` is listed last: the grader's session has no
  temporary objects, and a learner cannot create any in it.
- Plan faking neutralised first: a planner setting this session took from
  ``ALTER DATABASE … SET`` or ``ALTER ROLE … SET`` (``enable_seqscan = off``,
  ``random_page_cost = 0.001`` …) is put back to its built-in default with ``SET LOCAL``
  — ``RESET`` would restore the stored value itself — and the evidence says so.
  ``no_plan_faking_settings`` fails on such settings in its own right.
- Parameters (``params``) are bound through the extended protocol with ``$1``-style
  placeholders, so a ``%`` in the query (``LIKE '%laptop%'``) is just text.

A plan passes as index-backed when it contains an Index Scan, Index Only Scan or a Bitmap
Heap Scan fed by Bitmap Index Scans on the named table. The planner only ever picks a valid
index, so an index left INVALID by a failed ``CREATE INDEX CONCURRENTLY`` never counts.
"""

from __future__ import annotations

import json
import re
import statistics
from typing import Any, Literal

import psycopg

from pgdrill.checks.arguments import CapturedQuery, Params, ScenarioQuery, Table
from pgdrill.checks.base import CheckContext, ExerciseBug, Outcome, check
from pgdrill.checks.kit import (PLAN_TIMEOUT_S, BaselineMissing, PlanSession, captured_result, error_text, explain_json,  # noqa: F401
                        explain_text, neutralise_planner_settings, plan_nodes, plan_session, sql_text)
from pgdrill.checks.sql import display, ident_name, load_sql, rows_evidence, split_qualified
from pgdrill.fixtures.sandbox import GRADER, LEARNER
from pgdrill.report import Evidence

INDEX_SCAN_NODES = ("Index Scan", "Index Only Scan")
_LEADING_WILDCARD = re.compile(r"\b(i?like)\s+E?'%", re.IGNORECASE)
_ILIKE_OR_LOWER = re.compile(r"\bilike\b|\blower\s*\(", re.IGNORECASE)


# ------------------------------------------------------------------------------------------
# Reading plans (planning itself is the kit's: checks/kit.py)


class BaselineQueryError(ExerciseBug, RuntimeError):
    """The scenario's query failed on the untouched incident: a bug in the exercise."""


def _failed(exc: psycopg.Error, query: str) -> Outcome:
    """The scenario's query failed on the learner's database: their schema changed under it."""
    if isinstance(exc, psycopg.errors.QueryCanceled):
        message = (f"The scenario's query did not finish within {PLAN_TIMEOUT_S} s on your database, "
                   "so it was stopped. It should take milliseconds once the right index exists.")
    else:
        message = (f"The scenario's query fails on your database: {error_text(exc)}. The application runs this exact "
                   "query — was a table or column it uses renamed or dropped?")
    return Outcome(False, message, (Evidence("sql", "Query", sql_text(query)),))


def _on_baseline(func, *args):
    try:
        return func(*args)
    except psycopg.Error as exc:
        raise BaselineQueryError(f"the query failed on the untouched incident: {exc}") from exc


def index_scans_on(plan: dict, schema: str, table: str) -> list[str]:
    """Descriptions of the index-backed scans of ``schema.table`` in a (VERBOSE) JSON plan."""
    found = []
    for node in plan_nodes(plan):
        if node.get("Relation Name") != table or node.get("Schema", schema) != schema:
            continue
        kind = node.get("Node Type")
        if kind in INDEX_SCAN_NODES:
            found.append(f"{kind} using {node.get('Index Name')}")
        elif kind == "Bitmap Heap Scan":
            indexes = [n["Index Name"] for n in plan_nodes(node) if n.get("Node Type") == "Bitmap Index Scan"]
            if indexes:
                found.append(f"Bitmap Heap Scan fed by Bitmap Index Scan on {', '.join(indexes)}")
    return found


def _scans_of(plan: dict, schema: str, table: str) -> list[str]:
    return [n.get("Node Type", "?") for n in plan_nodes(plan)
            if n.get("Relation Name") == table and n.get("Schema", schema) == schema]


def _why_not(conn, query: str, schema: str, table: str) -> tuple[str, list[Evidence]]:
    """Teaching text and evidence for a plan without an index scan on the table."""
    hints = []
    if _LEADING_WILDCARD.search(query):
        hints.append(
            "The pattern starts with a wildcard (LIKE '%…%'): a B-tree index orders values from their "
            "first character, so it cannot find rows that contain a word somewhere in the middle. "
            "A trigram index can: CREATE EXTENSION pg_trgm; then an index USING gin (column gin_trgm_ops) "
            "(or GiST with gist_trgm_ops) serves LIKE and ILIKE with leading wildcards.")
    elif _ILIKE_OR_LOWER.search(query):
        hints.append("ILIKE and lower(column) are not served by a plain B-tree on the column: index the "
                     "expression (lower(column)) or use a pg_trgm index.")
    evidence = []
    indexes = conn.execute(load_sql("performance_table_indexes"), {"schema": schema, "name": table}).fetchall()
    if indexes:
        evidence.append(rows_evidence(f"Indexes on {display(schema, table)}", ("index", "method", "valid", "definition"),
                                      indexes, limit=20))
        # Only the invalid indexes on a column the query names: products_name_lower_uniq is
        # no reason why a filter on category_id reads the whole table.
        invalid = [r[0] for r in indexes if not r[2] and _mentions_index_columns(query, r[3])]
        if invalid:
            hints.append(f"Index {', '.join(invalid)} is INVALID (a failed CREATE INDEX CONCURRENTLY leaves one "
                         "behind): the planner never uses it. Drop it and build it again.")
    else:
        hints.append(f"{display(schema, table)} has no index at all.")
    stats = conn.execute(load_sql("performance_table_statistics"), {"schema": schema, "name": table}).fetchone()
    if stats and (stats[0] is None or stats[0] < 0 or (stats[1] is None and not stats[2])):
        hints.append(f"{display(schema, table)} has never been analyzed: without statistics the planner "
                     "guesses row counts. Run ANALYZE on it.")
    if not hints:
        hints.append("Check that an index exists on the column(s) the query filters or joins on, and that "
                     "statistics are fresh (ANALYZE).")
    return " ".join(hints), evidence


def _mentions_index_columns(query: str, definition: str) -> bool:
    """Whether ``query`` names a word of the index's key list (its columns and expressions)."""
    keys = definition[definition.find("(") + 1:] if "(" in definition else definition
    words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", keys)}
    return any(w.lower() in words for w in re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", query))


def _table_missing(conn, schema: str, table: str) -> Outcome | None:
    row = conn.execute(load_sql("catalog_relation"), {"schema": schema, "name": table}).fetchone()
    if row is None:
        return Outcome(False, f"The table {display(schema, table)} does not exist (was it dropped or renamed?), "
                              "so its plan cannot be checked.")
    return None


def _index_plan_check(ctx: CheckContext, query: str, table: str, params, *, force_index: bool) -> Outcome:
    schema, name = split_qualified(table)
    conn = ctx.grader()
    try:
        with plan_session(conn, force_index=force_index) as state:
            missing = _table_missing(conn, schema, name)
            if missing is not None:
                return missing
            plan = explain_json(conn, query, params)
            text = explain_text(conn, query, params)
            scans = index_scans_on(plan["Plan"], schema, name)
            evidence = [Evidence("plan", "Plan" + (" with enable_seqscan = off" if force_index else ""), text),
                        *state.evidence()]
            if scans:
                verb = "can read" if force_index else "reads"
                return Outcome(True, f"The plan {verb} {display(schema, name)} through an index ({'; '.join(scans)}).",
                               tuple(evidence))
            why, more = _why_not(conn, query, schema, name)
    except psycopg.Error as exc:
        return _failed(exc, query)
    used = _scans_of(plan["Plan"], schema, name)
    how = f" ({', '.join(used)})" if used else " (the table does not appear in the plan)"
    if force_index:
        message = (f"Even with sequential scans discouraged (enable_seqscan = off), the planner found no index "
                   f"that can serve this query on {display(schema, name)}{how}. {why}")
    else:
        message = (f"The query still reads {display(schema, name)} without an index{how}: on a large table that "
                   f"means reading every row for every search. {why}")
    return Outcome(False, message, tuple(evidence + more + [Evidence("sql", "Query", sql_text(query))]))


# ------------------------------------------------------------------------------------------
# Checks: plans


@check
def uses_index(ctx: CheckContext, *, query: ScenarioQuery, table: Table, params: Params = None) -> Outcome:
    """The planner reads the table through an index for the scenario's query.

    What it asserts:
        `EXPLAIN (FORMAT JSON, COSTS OFF)` of `query`, planned by the grader with default
        planner settings (database- or role-level overrides are ignored, see the family
        notes), contains an index-backed scan of `table`: an Index Scan, an Index Only Scan
        or a Bitmap Heap Scan fed by a Bitmap Index Scan. Any valid index counts, whatever
        its name.
    Arguments:
        table: the table that should be read through an index (`products` or `schema.table`).
    Feedback on failure:
        Shows the plan as text and the table's indexes, and explains why no index was used:
        a leading-wildcard `LIKE '%…%'` that a B-tree cannot serve (a pg_trgm GIN/GiST index
        can), an INVALID index, or a table never analyzed.
    Example:
        - check: uses_index
          with: {query: "SELECT * FROM products WHERE name LIKE '%laptop%'", table: products}
    """
    return _index_plan_check(ctx, query, table, params, force_index=False)


@check
def index_can_serve(ctx: CheckContext, *, query: ScenarioQuery, table: Table, params: Params = None) -> Outcome:
    """Some index on the table can serve the scenario's query at all.

    What it asserts:
        With `SET LOCAL enable_seqscan = off` (index and bitmap scans on), the plan of `query`
        reads `table` through an index. This asks whether a suitable index *exists*, not
        whether the planner prefers it — on a small table a sequential scan may rightly win.
    Arguments:
        table: the table that should be readable through an index.
    Feedback on failure:
        Shows the forced plan and the table's indexes and explains which kind of index would
        serve the query (for `LIKE '%…%'`, pg_trgm's GIN or GiST operator classes).
    Example:
        - check: index_can_serve
          with: {query: "SELECT * FROM order_items WHERE order_id = $1", table: order_items, params: [12345]}
    """
    return _index_plan_check(ctx, query, table, params, force_index=True)


@check
def no_plan_faking_settings(ctx: CheckContext) -> Outcome:
    """No stored database or role setting changes how the planner costs plans.

    What it asserts:
        `pg_db_role_setting` holds no planner setting (enable_*, *_cost, effective_cache_size,
        plan_cache_mode, work_mem, parallelism …) for this database, for the roles `learner`
        and `pgdrill_grader`, or for all roles. Such settings make plans look fixed without
        fixing anything: the application's sessions would not have them, and the plan checks
        ignore them anyway.
    Arguments:
        None.
    Feedback on failure:
        Lists every such setting with where it is stored and the statement that removes it.
    Example:
        - check: no_plan_faking_settings
    """
    conn = ctx.grader()
    rows = conn.execute(load_sql("performance_stored_settings"), {"roles": [LEARNER, GRADER]}).fetchall()
    if not rows:
        return Outcome(True, "No planner setting is stored for this database or its roles.")
    fixes = []
    shown = []
    for database, role, name, value in rows:
        if database and role:
            where, fix = f"role {role} in this database", f"ALTER ROLE {role} IN DATABASE {database} RESET {name}"
        elif database:
            where, fix = "this database", f"ALTER DATABASE {database} RESET {name}"
        elif role:
            where, fix = f"role {role}", f"ALTER ROLE {role} RESET {name}"
        else:
            where, fix = "all roles", f"ALTER ROLE ALL RESET {name}"
        shown.append((name, value, where))
        fixes.append(fix + ";")
    names = ", ".join(sorted({r[2] for r in rows}))
    return Outcome(
        False,
        f"Planner settings are stored for this database or its roles ({names}). They change which plan is "
        "chosen without fixing anything — the application's sessions would still get the slow plan — "
        "and the grader ignores them when it checks plans. Remove them and fix the cause (an index, "
        "fresh statistics) instead.",
        (rows_evidence("Stored planner settings", ("setting", "value", "stored for"), shown, limit=20),
         Evidence("sql", "To remove them", "\n".join(fixes))))


# ------------------------------------------------------------------------------------------
# Checks: measured work and time


def _buffers(conn, query: str, params) -> tuple[int, str]:
    """Shared buffers (hit + read) the query's execution touched, and the plan as text."""
    totals = []
    for _ in range(2):  # the smaller of two runs: the first may set hint bits
        plan = explain_json(conn, query, params, options="ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON")["Plan"]
        totals.append(int(plan.get("Shared Hit Blocks", 0)) + int(plan.get("Shared Read Blocks", 0)))
    return min(totals), explain_text(conn, query, params)


def _baseline(ctx: CheckContext):
    conn = ctx.baseline() if ctx.baseline is not None else None
    if conn is None:
        raise BaselineMissing("this check needs an untouched baseline clone, and none is available")
    return conn


@check
def fewer_buffers_than_baseline(ctx: CheckContext, *, query: ScenarioQuery, factor: float = 2.0,
                                params: Params = None) -> Outcome:
    """The scenario's query touches far fewer buffers than on the untouched incident.

    What it asserts:
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` of `query` on the learner's database reports
        at least `factor` times fewer shared buffers (hit + read, execution only) than the
        same query on an untouched clone of the incident. Buffers measure work, not time, so
        machine noise does not matter. Deleting data to make the query cheap is caught
        elsewhere: this compares plans' work, and the integrity checks catch rows that went
        missing.
    Arguments:
        factor: how many times fewer buffers are required (2 = half as many or fewer).
    Feedback on failure:
        Shows both buffer counts and both plans.
    Example:
        - check: fewer_buffers_than_baseline
          with: {query: "SELECT * FROM order_items WHERE order_id = 12345", factor: 10}
    """
    conn, base = ctx.grader(), _baseline(ctx)
    try:
        with plan_session(conn) as state:
            mine, my_plan = _buffers(conn, query, params)
        with plan_session(base):
            theirs, base_plan = _on_baseline(_buffers, base, query, params)
    except psycopg.Error as exc:
        return _failed(exc, query)
    ratio = theirs / mine if mine else float("inf")
    evidence = (Evidence("plan", f"Your database: {mine} buffers", my_plan),
                Evidence("plan", f"Untouched incident: {theirs} buffers", base_plan), *state.evidence())
    if ratio >= factor:
        return Outcome(True, f"The query touches {mine} buffers, against {theirs} on the untouched incident "
                             f"({_times(ratio)} fewer).", evidence)
    return Outcome(False, f"The query touches {mine} shared buffers (8 kB pages); on the untouched incident it "
                          f"touches {theirs} — {_times(ratio)} fewer, but at least {factor:g}× fewer was expected. "
                          "Each buffer is a page read from memory or disk: an index that finds the rows directly "
                          "reads a handful of pages instead of the whole table.", evidence)


def _times(ratio: float) -> str:
    return "∞×" if ratio == float("inf") else f"{ratio:.1f}×"


def _execution_ms(conn, query: str, params) -> float:
    """Server-side execution time of one run (EXPLAIN ANALYZE with per-node timing off)."""
    data = explain_json(conn, query, params, options="ANALYZE, TIMING OFF, BUFFERS OFF, FORMAT JSON")
    return float(data["Execution Time"])


# What the yardstick (checks/sql/performance_yardstick.sql) costs where the time limits were
# set: measured as the server backend's own CPU time (/proc/<pid>/schedstat) on the course's
# 2-core development machine, which is what its wall time is on that machine when idle.
YARDSTICK_REFERENCE_MS = 16.0


def machine_slowdown(yardstick_ms: list[float], reference_ms: float = YARDSTICK_REFERENCE_MS) -> float:
    """How many times slower than the reference machine this one runs right now (never < 1).

    The median of the yardstick's times in this run over what it takes on the machine where the
    limits were set. A faster machine does not tighten a limit: the scenario's criterion is
    what it is.
    """
    return max(1.0, statistics.median(yardstick_ms) / reference_ms)


@check
def median_time_under(ctx: CheckContext, *, query: ScenarioQuery, ms: float = 100.0, runs: int = 7, warmup: int = 2,
                      params: Params = None, calibrate: bool = True) -> Outcome:
    """The scenario's query runs in under `ms` milliseconds (median of warm runs), on this machine's clock.

    What it asserts:
        After `warmup` unmeasured runs, the median of `runs` execution times of `query` is below
        the limit. Time is the *Execution Time* of `EXPLAIN (ANALYZE, TIMING OFF)`: the server's
        own work, without sending rows to the client (which no index changes) and with per-node
        timing off so the measurement costs little. The median, not the mean, so one run slowed
        by a noisy neighbour does not decide the result. With `calibrate` (the default) the
        limit is `ms` on the machine where the course's limits were set, and is stretched by
        how much slower this machine is right now: each run of the query is followed by a run
        of a yardstick — a fixed amount of CPU work in the server that reads no table — and the
        limit is `ms` × (median yardstick time / its 16 ms on the reference machine), never
        less than `ms`. A grader on a loaded or a half-CPU machine slows query and yardstick
        alike, so a fixed query keeps passing and an unfixed one keeps failing.
    Arguments:
        ms: the limit in milliseconds (the incident's success criterion is 100).
        runs: measured runs; the median of these counts.
        warmup: unmeasured runs first, so caches are warm.
        calibrate: stretch the limit by the yardstick's slowdown measured in the same run
            (false: `ms` as it stands, on whatever machine grades).
    Feedback on failure:
        Shows the median and all measured times, the yardstick's times and the limit they
        give, and the plan.
    Example:
        - check: median_time_under
          with: {query: "SELECT * FROM products WHERE category_id = 5", ms: 100}
    """
    conn = ctx.grader()
    yardstick = load_sql("performance_yardstick")
    yard_times: list[float] = []
    try:
        with plan_session(conn) as state:
            for _ in range(max(0, warmup)):
                _execution_ms(conn, query, params)
            times = []
            for _ in range(max(1, runs)):
                times.append(_execution_ms(conn, query, params))
                if calibrate:
                    yard_times.append(_execution_ms(conn, yardstick, None))
            plan = explain_text(conn, query, params)
    except psycopg.Error as exc:
        return _failed(exc, query)
    median = statistics.median(times)
    limit = ms * machine_slowdown(yard_times) if calibrate else ms
    evidence = [Evidence("text", "Execution times (ms)", ", ".join(f"{t:.2f}" for t in times))]
    if calibrate:
        evidence.append(Evidence(
            "text", "Machine speed (yardstick)",
            f"yardstick times (ms): {', '.join(f'{t:.2f}' for t in yard_times)}; median "
            f"{statistics.median(yard_times):.2f} ms against {YARDSTICK_REFERENCE_MS:g} ms where the limit of "
            f"{ms:g} ms was set, so the limit on this machine right now is {limit:.1f} ms"))
    evidence += [Evidence("plan", "Plan", plan), *state.evidence()]
    shown = f"{limit:.1f}" if limit > ms else f"{ms:g}"
    scaled = f" ({ms:g} ms on the reference machine; this one runs {limit / ms:.1f}× slower right now)" \
        if limit > ms else ""
    if median < limit:
        return Outcome(True, f"The query runs in {median:.1f} ms (median of {len(times)} runs), under "
                             f"{shown} ms{scaled}.", tuple(evidence))
    return Outcome(False, f"The query takes {median:.1f} ms (median of {len(times)} warm runs); it should take under "
                          f"{shown} ms{scaled}. Look at the plan: a sequential scan over a large table is the "
                          "usual cause.", tuple(evidence))


@check
def speedup_over_baseline(ctx: CheckContext, *, query: ScenarioQuery, factor: float = 2.0, runs: int = 7,
                          warmup: int = 2, params: Params = None) -> Outcome:
    """The scenario's query runs `factor` times faster than on the untouched incident.

    What it asserts:
        Median execution time (as in `median_time_under`) on the untouched incident divided by
        the median on the learner's database is at least `factor`. Runs alternate between the
        two databases (and which goes first), so machine noise hits both alike.
    Arguments:
        factor: required speed-up (5 = five times faster).
        runs: measured runs on each database.
        warmup: unmeasured runs on each database first.
    Feedback on failure:
        Shows both medians, the speed-up reached and both plans.
    Example:
        - check: speedup_over_baseline
          with: {query: "SELECT * FROM products WHERE name LIKE '%laptop%'", factor: 5}
    """
    conn, base = ctx.grader(), _baseline(ctx)
    mine: list[float] = []
    theirs: list[float] = []
    try:
        with plan_session(conn) as state, plan_session(base):
            for i in range(max(0, warmup) + max(1, runs)):
                pair = [(conn, mine), (base, theirs)]
                if i % 2:
                    pair.reverse()
                for c, out in pair:
                    if c is base:
                        t = _on_baseline(_execution_ms, c, query, params)
                    else:
                        t = _execution_ms(c, query, params)
                    if i >= warmup:
                        out.append(t)
            my_plan, base_plan = explain_text(conn, query, params), _on_baseline(explain_text, base, query, params)
    except psycopg.Error as exc:
        return _failed(exc, query)
    m, b = statistics.median(mine), statistics.median(theirs)
    ratio = b / m if m > 0 else float("inf")
    evidence = (Evidence("plan", f"Your database: median {m:.2f} ms", my_plan),
                Evidence("plan", f"Untouched incident: median {b:.2f} ms", base_plan), *state.evidence())
    if ratio >= factor:
        return Outcome(True, f"The query runs in {m:.1f} ms against {b:.1f} ms on the untouched incident "
                             f"({_times(ratio)} faster).", evidence)
    return Outcome(False, f"The query runs in {m:.1f} ms against {b:.1f} ms on the untouched incident: "
                          f"{_times(ratio)} faster, but {factor:g}× was expected. Compare the two plans.", evidence)


# ------------------------------------------------------------------------------------------
# Checks: the learner's own EXPLAIN, as proof of a fix

_TEXT_INDEX_SCAN = re.compile(r"^(?:Parallel )?Index (?:Only )?Scan(?: Backward)? using (?P<index>\"(?:[^\"]|\"\")+\"|\S+)"
                              r" on (?P<table>\"(?:[^\"]|\"\")+\"|\S+)")
_TEXT_BITMAP_HEAP = re.compile(r"^(?:Parallel )?Bitmap Heap Scan on (?P<table>\"(?:[^\"]|\"\")+\"|\S+)")
_TEXT_BITMAP_INDEX = re.compile(r"^Bitmap Index Scan on (?P<index>\"(?:[^\"]|\"\")+\"|\S+)")
_TEXT_NODE = re.compile(r"^(?P<indent>\s*)(?:->\s+)?(?P<node>[A-Z].*)$")
_TEXT_TABLE_SCAN = re.compile(r"^(?:Parallel )?(?P<kind>Seq Scan|Bitmap Heap Scan|Index (?:Only )?Scan(?: Backward)?"
                              r"(?: using \S+)?|Tid Scan|Tid Range Scan|Sample Scan) on (?P<table>\"(?:[^\"]|\"\")+\"|\S+)")


def _plain_name(text: str) -> str:
    """The last part of a possibly schema-qualified, possibly quoted name in plan text."""
    return ident_name(text)


def _text_plan_scans(lines: list[str], table: str) -> tuple[set[str], list[str]]:
    """(index names, scan kinds) used for ``table`` in an EXPLAIN text plan."""
    nodes = []  # (indent, node text)
    for line in lines:
        m = _TEXT_NODE.match(line)
        if m and not re.match(r"^[A-Z][A-Za-z ]*:", m.group("node")):  # skip "Index Cond: …" lines
            nodes.append((len(m.group("indent")), m.group("node")))
    indexes: set[str] = set()
    kinds: list[str] = []
    for i, (indent, node) in enumerate(nodes):
        scan = _TEXT_TABLE_SCAN.match(node)
        if scan is None or _plain_name(scan.group("table")) != table:
            continue
        kinds.append(scan.group("kind").split(" using ")[0])
        m = _TEXT_INDEX_SCAN.match(node)
        if m:
            indexes.add(_plain_name(m.group("index")))
        elif _TEXT_BITMAP_HEAP.match(node):
            for child_indent, child in nodes[i + 1:]:
                if child_indent <= indent:
                    break
                b = _TEXT_BITMAP_INDEX.match(child)
                if b:
                    indexes.add(_plain_name(b.group("index")))
    return indexes, kinds


def _json_plan_scans(plan: dict, schema: str, table: str) -> tuple[set[str], list[str]]:
    indexes: set[str] = set()
    kinds: list[str] = []
    for node in plan_nodes(plan):
        if node.get("Relation Name") != table or node.get("Schema", schema) != schema:
            continue
        kind = node.get("Node Type", "?")
        kinds.append(kind)
        if kind in INDEX_SCAN_NODES and node.get("Index Name"):
            indexes.add(node["Index Name"])
        elif kind == "Bitmap Heap Scan":
            indexes.update(n["Index Name"] for n in plan_nodes(node)
                           if n.get("Node Type") == "Bitmap Index Scan" and n.get("Index Name"))
    return indexes, kinds


def _captured_plan(captured) -> tuple[Literal["json"], dict[str, Any]] | tuple[Literal["text"], list[str]] | None:
    """("json", plan dict) or ("text", lines) for a captured EXPLAIN result, else None."""
    if not captured.columns or captured.columns[0].lower() != "query plan":
        return None
    if len(captured.rows) == 1 and not isinstance(captured.rows[0][0], str):
        data = captured.rows[0][0]
        data = data[0] if isinstance(data, list) and data else data
        if isinstance(data, dict) and "Plan" in data:
            return "json", data["Plan"]
        return None
    if len(captured.rows) == 1 and isinstance(captured.rows[0][0], str) and captured.rows[0][0].lstrip().startswith("["):
        try:
            data = json.loads(captured.rows[0][0])
        except ValueError:
            data = None
        if isinstance(data, list) and data and isinstance(data[0], dict) and "Plan" in data[0]:
            return "json", data[0]["Plan"]
    return "text", [str(r[0]) for r in captured.rows]


def _captured_plan_text(captured) -> str:
    if len(captured.rows) == 1 and not isinstance(captured.rows[0][0], str):
        return json.dumps(captured.rows[0][0], indent=2)[:4000]
    return "\n".join(str(r[0]) for r in captured.rows)[:4000]


@check
def explained_plan_uses_index(ctx: CheckContext, *, query: CapturedQuery, reference: str, table: Table,
                              params: Params = None) -> Outcome:
    """The learner's own EXPLAIN shows the table read through the index the application's query uses.

    What it asserts:
        The learner's statement named `query` (`-- name: query` above it) is an EXPLAIN — text
        or JSON format, with or without ANALYZE — whose plan reads `table` through an index
        (an Index Scan, Index Only Scan or Bitmap Index Scan), and at least one of those
        indexes is one the grader's own plan of `reference` uses for `table` on the same
        database, planned as in `uses_index` (default planner settings). So a verification
        EXPLAIN only counts when it shows what the application's query really does now: one
        run under `SET enable_seqscan = off`, of another query, or before the index existed
        does not. When the grader's plan uses no index on `table`, the fix itself is missing
        and the check fails on that.
    Arguments:
        query: name of the learner's captured EXPLAIN statement.
        reference: the application's query (a single SELECT) the EXPLAIN should be about;
            `$1`, `$2` … are parameters.
        table: the table that should be read through an index (`products` or `schema.table`).
        params: values for `$1`, `$2` … in `reference`.
    Feedback on failure:
        Says whether the named statement is missing, failed or is not an EXPLAIN; whether the
        application's query still reads the table without an index (the fix is missing); or
        which scans the learner's plan shows against the index the grader's plan uses, with
        both plans — a different index usually means a different query was explained, none
        means the EXPLAIN ran before the index was built.
    Example:
        - check: explained_plan_uses_index
          with:
            query: search_plan
            reference: "SELECT * FROM products WHERE name LIKE '%laptop%'"
            table: products
    """
    captured = captured_result(ctx, query)
    parsed = _captured_plan(captured)
    if parsed is None:
        return Outcome(False, f"Your statement {query!r} is not an EXPLAIN (its result has the columns "
                              f"{', '.join(captured.columns) or 'none'}). Name the EXPLAIN of the application's "
                              f"query itself: -- name: {query} on the line above EXPLAIN SELECT …",
                       (Evidence("sql", "The application's query", sql_text(reference)),))
    schema, name = split_qualified(table)
    conn = ctx.grader()
    try:
        with plan_session(conn) as state:
            missing = _table_missing(conn, schema, name)
            if missing is not None:
                return missing
            plan = explain_json(conn, reference, params)
            grader_text = explain_text(conn, reference, params)
    except psycopg.Error as exc:
        return _failed(exc, reference)
    wanted, _ = _json_plan_scans(plan["Plan"], schema, name)
    if parsed[0] == "json":
        shown, kinds = _json_plan_scans(parsed[1], schema, name)
    else:
        shown, kinds = _text_plan_scans(parsed[1], name)
    evidence = (Evidence("plan", f"Your EXPLAIN ({query})", _captured_plan_text(captured)),
                Evidence("plan", "The application's query on your database, planned by the grader", grader_text),
                *state.evidence())
    where = display(schema, name)
    if not wanted:
        return Outcome(False, f"The application's query still reads {where} without an index on your database, so "
                              "there is no fix to prove yet: the verification is only as good as the fix it "
                              "verifies.", evidence + (Evidence("sql", "The application's query", sql_text(reference)),))
    if shown & wanted:
        return Outcome(True, f"Your EXPLAIN shows {where} read through {', '.join(sorted(shown & wanted))}, as the "
                             "application's query is planned now.", evidence)
    want = ", ".join(sorted(wanted))
    if not kinds:
        message = (f"Your EXPLAIN {query!r} does not read {where} at all: explain the application's query "
                   f"({sql_text(reference)}), whose plan uses {want}.")
    elif not shown:
        message = (f"Your EXPLAIN {query!r} shows {where} read by {', '.join(kinds)}, without an index, while the "
                   f"application's query is now planned with {want}. Did the EXPLAIN run before the index was "
                   "built (your fixes run first), or explain another query?")
    else:
        message = (f"Your EXPLAIN {query!r} reads {where} through {', '.join(sorted(shown))}, but the application's "
                   f"query is planned with {want}: the EXPLAIN shows another query, or planner settings the "
                   "application's sessions do not have (SET enable_seqscan = off proves nothing).")
    return Outcome(False, message, evidence)
