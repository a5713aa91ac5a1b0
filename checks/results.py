"""Results: does the learner's named query return what the scenario asked for?

The learner marks a statement with ``-- name: orphan_items``; the runner captures its rows.
These checks compare them with the rows of a *reference* query that the grader runs on the
same clone, at grading time, as role ``pgdrill_grader`` — expected rows are never written
into a spec, so a hidden grading seed changes the answer and the checks follow it.

How the grader runs a reference query (``grader_transaction`` and ``run_reference``, also
used by the performance and files families):

- inside a transaction that is always rolled back, with ``SET LOCAL statement_timeout``;
- with ``SET LOCAL search_path = pg_catalog, public, pg_temp``: the scenario's SQL names its
  tables unqualified (``order_items``), so ``public`` must be on the path, but *after*
  ``pg_catalog`` so a learner's ``public.count`` cannot replace a built-in of the same
  signature, and with ``pg_temp`` explicitly last (unlisted, it would be searched first);
- refusing to run at all while schema ``public`` holds a learner's function or operator
  named like a built-in (``lower(varchar)``): such an overload for a more specific type
  would win over ``pg_catalog`` whatever the path order, and could change the answer;
- streamed with a row cap and byte caps, so a reference that returns
  far more rows than intended, or values far larger (a learner's view returning 300 MB
  strings), costs neither memory nor time: the server measures each row (as text) before
  sending it and stops the query at the first row over ``REFERENCE_ROW_BYTES``; the grader
  stops reading after ``REFERENCE_TOTAL_BYTES``. Either is the learner's failure, said in
  one line.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

from pgdrill.checks.arguments import Against, CapturedQuery, NumericTolerance, Params, RowsMode, SqlState
from pgdrill.checks.base import CheckContext, ExerciseBug, LearnerFault, Outcome, check, on_contrasts
from pgdrill.checks.kit import (REFERENCE_ROW_CAP, ReferenceQueryError, ShadowedBuiltins, captured_result,  # noqa: F401
                        condition_name, error_text, explain_json, grader_transaction, named_result, plan_nodes,
                        plan_session, reference_connection, reference_value, run_probe, run_reference, sql_text,
                        sqlstate_of, values_equal)
from pgdrill.checks.sql import answer, cell, missing_column, project_columns, rows_evidence, split_qualified
from pgdrill.compare import compare_columns, compare_rows
from pgdrill.report import Evidence

EXAMPLES = 5


# ------------------------------------------------------------------------------------------
# The learner's captured result


def _truncated_outcome(query: str, captured, expected_count: int | None = None) -> Outcome:
    expected = f" The reference returns {expected_count} row(s)." if expected_count is not None else ""
    return Outcome(
        False,
        f"Your query {query!r} returned more than {len(captured.rows)} rows; the grader stops reading "
        f"there, so the result cannot be the expected one.{expected} Check your join and WHERE "
        "conditions (a missing join condition multiplies rows).",
        (rows_evidence(f"First rows of {query}", captured.columns, captured.rows),))


# ------------------------------------------------------------------------------------------
# Checks


@check
@on_contrasts
def rows_match(ctx: CheckContext, *, query: CapturedQuery, reference: str, ordered: bool = False,
               mode: RowsMode = "bag", numeric_tolerance: NumericTolerance = 1e-6, columns: list[str] | None = None,
               against: Against = "graded") -> Outcome:
    """The learner's named query returns the same rows as the reference query.

    What it asserts:
        The rows the learner's statement marked `-- name: <query>` returned equal the rows of
        `reference`, which the grader runs on the same database at grading time (so the answer
        follows the seed; no expected rows are written into the spec). Columns are compared by
        position (or by the names in `columns`); numbers compare by value within
        `numeric_tolerance` (a numeric 15 equals a bigint 15), NULL equals NULL.
    Arguments:
        reference: SQL run by the grader; a SELECT returning the expected rows.
        ordered: when true, row order matters (the task asked for ORDER BY).
        columns: optional list of column names to compare (by name, case-insensitive) instead
            of all columns by position.
    Feedback on failure:
        Names the missing query or shows the learner's SQL error; otherwise says how many
        expected rows are missing and how many extra rows came back, with up to five of each
        as tables (the expected rows and the reference query are shown to instructors only), "right rows, wrong order" when only the order differs, a column-count
        mismatch, or that the learner's result hit the row cap.
    Example:
        - check: rows_match
          with:
            query: orphan_items
            reference: "SELECT oi.* FROM order_items oi LEFT JOIN orders o ON o.id = oi.order_id WHERE o.id IS NULL"
    """
    captured = captured_result(ctx, query)
    ref = run_reference(reference_connection(ctx, against), reference)
    if ref.truncated:
        raise ReferenceQueryError(f"the reference query returned more than {REFERENCE_ROW_CAP} rows; "
                                  "rows_match compares at most that many")
    if captured.truncated:
        return _truncated_outcome(query, captured, len(ref.rows))
    expected_cols, expected = ref.columns, list(ref.rows)
    actual_cols, actual = captured.columns, list(captured.rows)
    if columns:
        wanted = [str(c) for c in columns]
        if not actual_cols and not actual:
            # No rows and no column names came back (the runner could not describe the
            # empty result): nothing to project, and the count still tells.
            actual_cols = tuple(wanted)
        missing_name = missing_column(actual_cols, wanted)
        if missing_name is not None:
            return Outcome(False, f"Your query {query!r} has no column named {missing_name!r} "
                                  f"(its columns: {', '.join(actual_cols)}).")
        ref_missing = missing_column(expected_cols, wanted)
        if ref_missing is not None:
            raise ReferenceQueryError(f"the reference query has no column named {ref_missing!r}")
        actual = project_columns(actual_cols, actual, wanted)
        expected = project_columns(expected_cols, expected, wanted)
        expected_cols = actual_cols = tuple(wanted)

    cmp = compare_rows(expected, actual, ordered=ordered, mode=mode,
                                         numeric_tolerance=numeric_tolerance, max_examples=EXAMPLES)
    if cmp.equal:
        order = " in the right order" if ordered else ""
        return Outcome(True, f"Your query {query!r} returned the expected {len(expected)} row(s){order}.")

    evidence: list[Evidence] = [Evidence("sql", "Expected rows come from", sql_text(reference), instructor_only=True)]
    if cmp.column_count_mismatch:
        message = (f"Your query {query!r} returns {len(actual_cols)} column(s) ({', '.join(actual_cols)}); "
                   f"the expected result has {len(expected_cols)} ({', '.join(expected_cols)}). "
                   "Select exactly the columns the task asks for.")
        # The comparison's examples: the first rows by value (as returned when the order was asked for).
        evidence.append(answer(rows_evidence("Expected (first rows)", expected_cols, cmp.missing,
                                             total=len(expected))))
        evidence.append(rows_evidence("Yours (first rows)", actual_cols, cmp.extra, total=len(actual)))
        return Outcome(False, message, tuple(evidence))
    if cmp.order_only:
        message = (f"Right rows, wrong order: your query {query!r} returned the expected {len(expected)} "
                   "row(s) but not in the order asked for. Add or fix its ORDER BY — without one, "
                   "PostgreSQL may return rows in any order.")
        evidence.append(answer(rows_evidence("Expected order (first rows)", expected_cols, expected)))
        evidence.append(rows_evidence("Your order (first rows)", actual_cols, actual))
        return Outcome(False, message, tuple(evidence))
    parts = []
    if cmp.missing_count:
        parts.append(f"{cmp.missing_count} expected row(s) are missing")
        evidence.append(answer(rows_evidence("Missing from your result", expected_cols, cmp.missing,
                                             total=cmp.missing_count)))
    if cmp.extra_count:
        parts.append(f"{cmp.extra_count} row(s) should not be there")
        evidence.append(rows_evidence("Unexpected rows in your result", actual_cols, cmp.extra,
                                      total=cmp.extra_count))
    detail = " and ".join(parts) or (cmp.message or "the rows differ")
    message = (f"Your query {query!r} returned {len(actual)} row(s), the expected result has {len(expected)}: "
               f"{detail}. A wrong answer here means the diagnosis built on it is wrong too."
               f"{_own_maintenance_note(ctx, captured) if against == 'baseline' else ''}")
    return Outcome(False, message, tuple(evidence))


_MAINTENANCE = re.compile(r"^(?:\s|--[^\n]*\n|/\*.*?\*/)*(vacuum|analy[sz]e)\b", re.IGNORECASE | re.DOTALL)


def _own_maintenance_note(ctx: CheckContext, captured) -> str:
    """Names the VACUUM or ANALYZE the learner ran before their query: the expected rows
    describe the incident as it was, and the learner's own maintenance rewrote the statistics
    and counters a diagnosis reads."""
    earlier = [(s, match) for s in ctx.statements
               if getattr(s, "status", "") == "ok" and s.file == captured.file and s.line < captured.line
               and (match := _MAINTENANCE.match(s.sql or ""))]
    if not earlier:
        return ""
    first, match = earlier[0]
    verb = match.group(1).upper()
    return (f" Your file ran {verb} ({first.file}, line {first.line}) before this query: it rewrote the statistics "
            "and counters the query reads, so your rows describe the database after your own maintenance, not "
            "the incident. The expected rows are the incident's: diagnose first, and leave the maintenance to "
            "the phase that fixes it.")


@check
def columns_named(ctx: CheckContext, *, query: CapturedQuery, names: list[str]) -> Outcome:
    """The learner's named query returns columns with the expected names.

    What it asserts:
        The column names of the learner's query `query` are `names`, in that order (compared
        case-insensitively). Meant as a separate, lower-weight check next to `rows_match`, so a
        right answer with an unhelpful column name (`?column?`, `count`) loses little.
    Arguments:
        names: the expected column names, in order.
    Feedback on failure:
        Shows the expected and the actual names and suggests `AS name` aliases.
    Example:
        - check: columns_named
          with: {query: table_sizes, names: [table_name, row_count]}
    """
    captured = captured_result(ctx, query)
    expected = [str(n) for n in names]
    cmp = compare_columns(expected, list(captured.columns))
    if cmp.equal:
        return Outcome(True, f"Your query {query!r} names its columns {', '.join(expected)}.")
    have = ", ".join(captured.columns) or "none"
    detail = cmp.message[:1].upper() + cmp.message[1:] + "." if cmp.message else ""
    present = {str(c).casefold() for c in captured.columns}
    absent = [n for n in expected if n.casefold() not in present]
    if cmp.count_mismatch and len(captured.columns) < len(expected) and absent:
        advice = (f"It lacks {', '.join(absent)}: select {'that column' if len(absent) == 1 else 'those columns'} "
                  "too (with `AS name` where it is computed).")
    else:
        advice = "Name each column with `AS name` so whoever reads the result knows what it is."
    return Outcome(
        False,
        f"Your query {query!r} returns columns ({have}); expected ({', '.join(expected)}). "
        f"{detail + ' ' if detail else ''}{advice}",
        (rows_evidence("Column names", ("expected", "yours"),
                       _zip_longest(expected, list(captured.columns)), limit=20),))


def _zip_longest(a: list, b: list) -> list[tuple]:
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else "—", b[i] if i < len(b) else "—") for i in range(n)]


@check
@on_contrasts
def row_count_matches(ctx: CheckContext, *, query: CapturedQuery, reference: str,
                      against: Against = "graded") -> Outcome:
    """The learner's named query returns as many rows as the reference query.

    What it asserts:
        The number of rows captured for `query` equals the number of rows `reference` returns
        on the same database (the grader counts them with `SELECT count(*) FROM (reference)`).
        Weaker than `rows_match`; useful when the task asks to *find* rows but not which columns.
    Arguments:
        reference: SQL whose rows the grader counts.
    Feedback on failure:
        Says how many rows the learner's query returned and how many were expected, with the
        first rows of the learner's result.
    Example:
        - check: row_count_matches
          with: {query: negative_stock, reference: "SELECT id FROM products WHERE stock_quantity < 0"}
    """
    captured = captured_result(ctx, query)
    counting = sql.SQL("SELECT pg_catalog.count(*) FROM ({}\n) AS reference_rows").format(sql.SQL(sql_text(reference)))
    expected = int(reference_value(reference_connection(ctx, against), counting.as_string(None)))
    if captured.truncated:
        return _truncated_outcome(query, captured, expected)
    have = len(captured.rows)
    if have == expected:
        return Outcome(True, f"Your query {query!r} returned the expected {expected} row(s).")
    return Outcome(
        False,
        f"Your query {query!r} returned {have} row(s); {expected} were expected. "
        f"{'It finds too many: is a condition or join missing?' if have > expected else 'It misses some: is a condition too strict, or an inner join dropping rows?'}",
        (rows_evidence(f"First rows of {query}", captured.columns, captured.rows),))


# ------------------------------------------------------------------------------------------
# Single values


@check
@on_contrasts
def value_matches(ctx: CheckContext, *, query: CapturedQuery, reference: str, relative_tolerance: float = 0.0,
                  absolute_tolerance: float = 1e-6, column: str | None = None, against: Against = "graded") -> Outcome:
    """The learner's named query returns the single value the reference query returns.

    What it asserts:
        The learner's query `query` returned one row, and its value (its only column, or the
        column named `column`) equals the value of `reference` run by the grader. Numbers
        compare within `relative_tolerance` (a fraction: 0.05 = 5 %) or `absolute_tolerance`;
        numeric strings count as numbers and sizes as `pg_size_pretty` prints them
        (`8553 kB`) count as bytes, allowing for its rounding. Anything else compares as text.
    Arguments:
        reference: SQL returning one row; its first column is the expected value.
        relative_tolerance: allowed difference as a fraction of the larger value (use it for
            values that drift, like database size).
        absolute_tolerance: allowed absolute difference for numbers.
        column: which column of the learner's row holds the value, when it returns several.
    Feedback on failure:
        Shows the learner's value and on which database it is compared, or explains that the
        query must return a single value; the expected value (the answer on the graded seed)
        and its query are evidence for instructors only.
    Example:
        - check: value_matches
          with:
            query: database_size
            reference: "SELECT pg_database_size(current_database())"
            relative_tolerance: 0.1
    """
    captured = captured_result(ctx, query)
    actual = _one_value(query, captured, column)
    expected = reference_value(reference_connection(ctx, against), reference)
    if values_equal(expected, actual, relative_tolerance=relative_tolerance, absolute_tolerance=absolute_tolerance):
        return Outcome(True, f"Your query {query!r} returned {cell(actual)}, as expected.")
    tol = f" (not even within {relative_tolerance:.0%})" if relative_tolerance else ""
    where = ("the untouched incident, as you diagnosed it" if against == "baseline"
             else "the graded database, after your files ran")
    # The expected value is the answer on the graded seed: instructors only.
    return Outcome(
        False,
        f"Your query {query!r} returned {cell(actual)}, which is not the value on {where}{tol}. Compute it "
        "from the catalog or the data in the query itself: a number read off the lab is not the graded "
        "database's.",
        (rows_evidence("Your value", ("yours",), [(actual,)]),
         answer(rows_evidence("Value", ("expected", "yours"), [(expected, actual)])),
         Evidence("sql", "Expected value comes from", sql_text(reference), instructor_only=True)))


# ------------------------------------------------------------------------------------------
# Numbers read off a query plan


def _one_value(query: str, captured, column: str | None):
    """The single value a learner's captured query returned, or ``LearnerFault`` saying why not."""
    if len(captured.rows) != 1:
        raise LearnerFault(Outcome(False, f"Your query {query!r} returned {len(captured.rows)} row(s)"
                                          f"{' (or more)' if captured.truncated else ''}; a single row was expected.",
                                   (rows_evidence(f"First rows of {query}", captured.columns, captured.rows),)))
    row = captured.rows[0]
    if column is not None:
        lower = [c.lower() for c in captured.columns]
        if str(column).lower() not in lower:
            raise LearnerFault(Outcome(False, f"Your query {query!r} has no column named {column!r} "
                                              f"(its columns: {', '.join(captured.columns)})."))
        return row[lower.index(str(column).lower())]
    if len(row) != 1:
        raise LearnerFault(Outcome(False, f"Your query {query!r} returned {len(row)} columns "
                                          f"({', '.join(captured.columns)}); return just the one value asked for.",
                                   (rows_evidence(f"Result of {query}", captured.columns, captured.rows),)))
    return row[0]


def _plain_number(value):
    """PostgreSQL 18 prints row counts as 73.0: show and compare them as 73."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@check
@on_contrasts
def plan_value_matches(ctx: CheckContext, *, query: CapturedQuery, explain: str, relation: str, field: str,
                       column: str | None = None, params: Params = None, relative_tolerance: float = 0.0,
                       absolute_tolerance: float = 1e-6, against: Against = "graded") -> Outcome:
    """The learner's named query returns the number a query plan reports.

    What it asserts:
        The learner's query `query` returned one row whose value (its only column, or the
        column named `column`) equals `field` of the plan node that reads `relation` when the
        grader runs `EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON)` on `explain`: for example the
        `Actual Rows` or `Rows Removed by Filter` of a Seq Scan, or the planner's estimate
        `Plan Rows`. The plan is made as for the performance checks (in a rolled-back
        transaction, stored planner settings ignored) and with parallel query off, so row
        counts are whole-table totals rather than per-worker averages. Numbers compare as in
        `value_matches`. A number copied from a plan seen in the lab is wrong on another seed;
        a query that computes it from the data is right on any — which shows the learner knows
        what the plan's number means.
    Arguments:
        explain: the SQL whose plan holds the number (one statement; `$1`, `$2` … are parameters).
        relation: the table whose node holds the number (`products` or `schema.table`); the
            first node reading it, depth first.
        field: the plan field as EXPLAIN's JSON output names it (`Actual Rows`,
            `Rows Removed by Filter`, `Plan Rows`, `Node Type` …).
        column: which column of the learner's row holds the value, when it returns several.
        params: values for `$1`, `$2` … in `explain`.
        relative_tolerance: allowed difference as a fraction of the larger value.
        absolute_tolerance: allowed absolute difference for numbers.
        against: where the grader runs `explain`: `graded` (the learner's database, at grading
            time) or `baseline` (an untouched clone of the incident, the plan as the incident
            had it).
    Feedback on failure:
        Shows the learner's value, the plan node it is compared with (type and relation) and
        the SQL that was explained; or explains that the query must return a single row. The
        plan's numbers on the graded database (the answer) are evidence for instructors only.
    Example:
        - check: plan_value_matches
          with:
            query: search_plan
            column: rows_removed
            explain: "SELECT id, name FROM products WHERE name LIKE '%laptop%'"
            relation: products
            field: Rows Removed by Filter
    """
    captured = captured_result(ctx, query)
    actual = _one_value(query, captured, column)
    schema, table = split_qualified(relation)
    conn = reference_connection(ctx, against)
    try:
        with plan_session(conn):
            conn.execute("SELECT pg_catalog.set_config('max_parallel_workers_per_gather', '0', true)")
            plan = explain_json(conn, explain, params, options="ANALYZE, VERBOSE, FORMAT JSON")
    except psycopg.Error as exc:
        raise ReferenceQueryError(f"the plan's query failed: {error_text(exc)}",
                                  getattr(exc, "sqlstate", "") or "", error_text(exc)) from exc
    node = next((n for n in plan_nodes(plan["Plan"])
                 if n.get("Relation Name") == table and n.get("Schema", schema) == schema), None)
    if node is None:
        raise ReferenceQueryError(f"no node of the plan reads {schema}.{table}")
    if field not in node:
        raise ReferenceQueryError(f"the {node.get('Node Type')} node on {table} has no field {field!r} "
                                  f"(it has: {', '.join(k for k in node if k != 'Plans')})")
    expected = _plain_number(node[field])
    shown = tuple(_plain_number(node.get(k, "—")) for k in ("Plan Rows", "Actual Rows", "Rows Removed by Filter"))
    node_evidence = rows_evidence("The plan's node", ("node", "relation", "estimated rows", "actual rows",
                                                      "rows removed by filter"),
                                  [(node.get("Node Type"), table, *shown)])
    if values_equal(expected, actual, relative_tolerance=relative_tolerance, absolute_tolerance=absolute_tolerance):
        return Outcome(True, f"Your query {query!r} returned {cell(actual)}, the {field} the plan reports for "
                             f"its {node.get('Node Type')} on {table}.", (node_evidence,))
    # The plan's numbers on the graded database are the answer: instructors only.
    return Outcome(
        False,
        f"Your query {query!r} returned {cell(actual)}, which is not the {field} the plan's "
        f"{node.get('Node Type')} on {table} reports on "
        f"{'the untouched incident' if against == 'baseline' else 'the graded database'}. Work out what that "
        "number counts, then compute it from the data (a number copied from the lab's plan is not the graded database's).",
        (rows_evidence("Your value", ("yours",), [(actual,)]),
         answer(rows_evidence("Value", ("plan", "yours"), [(expected, actual)])), answer(node_evidence),
         Evidence("sql", "Plan of", sql_text(explain))))


# ------------------------------------------------------------------------------------------
# Errors as the answer


@check
def query_fails(ctx: CheckContext, *, query: CapturedQuery, sqlstate: SqlState, message_contains: str | None = None,
                same_error_as: str | None = None) -> Outcome:
    """The learner's named statement failed, with this SQLSTATE.

    What it asserts:
        The statement the learner marked `-- name: <query>` ran and was rejected by the
        server with `sqlstate` (or one of a list), and, when `message_contains` is given,
        the error message contains that text (case-insensitive). For tasks whose proof *is*
        an error: amcheck's `bt_index_check` raising XX001/XX002 on a corrupt index, a
        `REINDEX` failing with 23505 while duplicates exist. The runner records each
        statement's outcome, so the error is graded as the server reported it. With
        `same_error_as`, the proof is checked at its source: the grader runs that statement
        itself (rolled back, on the learner's database and on an untouched copy of the
        incident), runs the learner's statement again as the learner (rolled back, as a
        probe), and the two errors must be one and the same: same SQLSTATE, same message word
        for word, raised by the same function of the server (the error report names it). An
        error the learner's own code raised (`RAISE … USING ERRCODE = 'XX002'`, even with
        amcheck's exact words) comes from PL/pgSQL's RAISE and does not count.
    Arguments:
        query: name of the learner's statement (`-- name: query` in their SQL file).
        message_contains: text the error message must contain (e.g. the index's name).
        same_error_as: SQL whose error, raised when the grader runs it, the learner's error
            must equal (name functions with their argument types so nothing the learner
            created can stand in for them).
    Feedback on failure:
        Names the missing statement; says that it succeeded (and what it returned) when
        it should have failed; shows the error it failed with instead; or says that the error
        is not the one the statement it claims to be raises on this database.
    Example:
        - check: query_fails
          with:
            query: email_index_check
            sqlstate: [XX001, XX002]
            message_contains: customers_email_key
            same_error_as: "SELECT bt_index_check('customers_email_key'::pg_catalog.regclass, true)"
    """
    want = [sqlstate_of(s) for s in (sqlstate if isinstance(sqlstate, (list, tuple)) else [sqlstate])]
    if not want:
        raise ExerciseBug("query_fails needs sqlstate")
    want_text = " or ".join(condition_name(w) for w in want)
    captured = named_result(ctx, query)
    outcome = next((s for s in ctx.statements
                    if getattr(s, "file", None) == captured.file and getattr(s, "line", None) == captured.line),
                   None)
    if not captured.error:
        rows = (rows_evidence(f"What {query} returned", captured.columns, captured.rows),) if captured.columns else ()
        return Outcome(False, f"Your statement {query!r} ({captured.file}, line {captured.line}) succeeded; it should "
                              f"fail with {want_text}. Here the error is the finding: run the statement whose "
                              "failure proves the problem, and let it fail.", rows)
    code = getattr(outcome, "sqlstate", "") or ""
    shown = (Evidence("text", f"Error from {query}", f"ERROR {code or '?????'}: {captured.error}"),)
    if getattr(outcome, "status", "") == "timeout":
        return Outcome(False, f"Your statement {query!r} was stopped for running too long, so it did not show "
                              f"the {want_text} it should.", shown)
    if code not in want:
        return Outcome(False, f"Your statement {query!r} failed with {condition_name(code) if code else 'an error'} "
                              f"({captured.error}); want {want_text}. It failed for another reason than the one "
                              "it should prove.", shown)
    if message_contains and str(message_contains).lower() not in captured.error.lower():
        return Outcome(False, f"Your statement {query!r} failed with {condition_name(code)}, but its message does not "
                              f"mention {message_contains!r}: {captured.error}. Run it on the object the task "
                              "names.", shown)
    if same_error_as:
        raised = _errors_raised_by(ctx, str(same_error_as))
        error = run_probe(ctx, outcome.sql, timeout=SOURCE_CHECK_TIMEOUT)[0] if outcome is not None else None
        again = _origin(error) if error is not None else None
        if again is None or again not in raised:
            return Outcome(False, f"Your statement {query!r} failed with {condition_name(code)} ({captured.error}), but that "
                                  f"error is not the one {sql_text(str(same_error_as))} raises: the grader ran your "
                                  "statement again and the error did not come from the check itself. Only the "
                                  "check's own error proves the problem; an error your own code raises (RAISE … USING "
                                  "ERRCODE) proves nothing.", shown)
    return Outcome(True, f"Your statement {query!r} failed as it should ({condition_name(code)}: {captured.error}).",
                   shown)


# The grader's own check of a proof runs the learner's statement again: amcheck on a large
# table takes seconds, not the 5 s of a probe.
SOURCE_CHECK_TIMEOUT = "60s"


def _origin(error: psycopg.Error) -> tuple[str, str, str, str]:
    """What identifies an error: SQLSTATE, message, and the server function that raised it
    (a PL/pgSQL RAISE reports exec_stmt_raise in pl_exec.c, whatever code and text it gives)."""
    diag = error.diag
    return (diag.sqlstate or "", (diag.message_primary or str(error)).strip(),
            diag.source_file or "", diag.source_function or "")


def _errors_raised_by(ctx: CheckContext, statement: str) -> set[tuple[str, str, str, str]]:
    """The error ``statement`` raises (see ``_origin``) when the grader runs it, rolled back,
    on the learner's database and on the untouched incident (where there is one)."""
    raised = set()
    connections = [ctx.grader()] + ([ctx.baseline()] if ctx.baseline is not None else [])
    for conn in connections:
        try:
            with grader_transaction(conn):
                conn.execute(sql_text(statement))
        except psycopg.Error as exc:
            raised.add(_origin(exc))
    if not raised:
        raise ReferenceQueryError(f"{sql_text(statement)} raised no error on this database: nothing to compare with")
    return raised
