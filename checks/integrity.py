"""Integrity checks: the data obeys its rules, the indexes are sound, and nothing good was lost.

Two kinds. *Rule* checks (``no_orphans``, ``no_duplicates``, ``no_negative_values``,
``no_nulls``, ``no_future_values``, ``not_before_parent``, ``totals_match_items``,
``amcheck_passes``) look at the learner's database alone; ``integrity_checks_pass`` runs a
list of them as one criterion ("all data integrity checks pass"). *Preservation* checks
(``rows_preserved``, ``nothing_lost``, ``rows_quarantined``, ``fault_rows_kept``,
``duplicates_merged``, ``index_rebuilt``) compare it with an untouched clone of the same
incident (``ctx.baseline()``) or with the manifest's planted rows, so that "fixing" orphans
with ``TRUNCATE``, duplicates by deleting every customer involved, or a wrong total by
deleting the order scores nothing.

Where duplicates are looked for, the table itself is read (index scans off, or a scan the
planner cannot serve from an index): the incident's corrupt unique index lacks exactly the
duplicate rows, so a plan that reads it would report none.

Which rows a fault planted comes from the incident manifest (``ctx.manifest["faults"]``):
each fault's ``row_ids`` are rows of the first table in its ``objects``, unless the fault
names the table itself (``"table"``) or gives ``row_ids`` as ``{table: [ids]}``; the ids in
its ``data`` whose key names a table (``duplicate_account_order_ids`` → orders) are rows a
fix may legitimately change too. Rows of faults whose id says *orphan* or *duplicate* are
the ones a fix may delete (``nothing_lost``'s default allowance).
"""

from __future__ import annotations

import contextlib
import inspect
import re
from typing import Any, Iterable, Iterator

import psycopg
from psycopg import sql

from pgdrill.checks.arguments import Columns, FaultIds, RowKey, Schema, Table, argument_problems
from pgdrill.checks.base import CheckContext, ExerciseBug, LearnerFault, Outcome, check, on_contrasts_end_state
from pgdrill.checks.kit import BaselineMissing, IncidentMismatch, require_columns, require_relation
from pgdrill.checks.sql import (
    READABLE_KINDS, TABLE_KINDS, Relation, as_list, cell, columns_of, cursor_evidence, display, find_relation,
    ident_name, one_row, parse_name, query, rows_evidence, split_qualified, sql_query,
)
from pgdrill.report import Evidence

# Words in a manifest data key before ``_id``/``_ids`` and the table they name.
ID_WORD_TABLES = {
    "order": "orders", "customer": "customers", "product": "products", "category": "categories",
    "item": "order_items", "order_item": "order_items", "line": "order_items",
}
# A fault whose id contains one of these may have its rows deleted by a correct fix.
REMOVABLE_FAULT_WORDS = ("orphan", "duplicate")

_LIMIT = sql.SQL("LIMIT 5")


# ------------------------------------------------------------------------------------------
# manifest helpers


def _is_table_name(obj) -> bool:
    return isinstance(obj, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$.]*", obj) is not None


def fault_rows(fault: dict) -> dict[str, set[str]]:
    """{table: {key text}} of the rows a fault planted (its own ``row_ids``)."""
    out: dict[str, set[str]] = {}
    ids = fault.get("row_ids")
    if isinstance(ids, dict):
        for table, values in ids.items():
            out.setdefault(split_qualified(table)[1], set()).update(str(v) for v in as_list(values))
        return out
    table = fault.get("table")
    if table is None:
        objects = [o for o in as_list(fault.get("objects")) if _is_table_name(o)]
        table = objects[0] if objects else None
    if table is not None and ids:
        out.setdefault(split_qualified(table)[1], set()).update(str(v) for v in ids)
    return out


def related_rows(fault: dict) -> dict[str, set[str]]:
    """{table: {key text}} of rows a fault's ``data`` names (ids a fix may have to touch)."""
    out: dict[str, set[str]] = {}
    data = fault.get("data") or {}
    for key, values in data.items() if isinstance(data, dict) else ():
        m = re.fullmatch(r"(?:.*_)?(order_item|[a-z]+?)_ids?", key)
        if not m or key.startswith("deleted_"):
            continue  # deleted rows no longer exist anywhere
        table = ID_WORD_TABLES.get(m.group(1))
        if table is None:
            continue
        vals = [v for v in as_list(values) if isinstance(v, (int, str)) and not isinstance(v, bool)]
        if vals:
            out.setdefault(table, set()).update(str(v) for v in vals)
    return out


def fault_row_keys(manifest: dict, table: str, *, related: bool = True) -> set[str]:
    """Keys (as text) of every row of ``table`` that some fault planted or names."""
    keys: set[str] = set()
    for fault in (manifest or {}).get("faults", []):
        keys |= fault_rows(fault).get(table, set())
        if related:
            keys |= related_rows(fault).get(table, set())
    return keys


def removable_rows(manifest: dict, table: str, fault_ids: Iterable[str] | None = None) -> int:
    """How many rows of ``table`` the faults allow a fix to delete."""
    total = 0
    for fault in (manifest or {}).get("faults", []):
        fid = str(fault.get("id", ""))
        if fault_ids is not None:
            if fid not in fault_ids:
                continue
        elif not any(word in fid for word in REMOVABLE_FAULT_WORDS):
            continue
        rows = fault_rows(fault).get(table)
        if rows:
            total += len(rows)
    return total


# ------------------------------------------------------------------------------------------
# resolution helpers


def _relation(conn, table, schema, role="table", ctx: CheckContext | None = None) -> Relation:
    """The table (or view) ``table`` names; raises ``LearnerFault`` when it is gone, or is no
    longer the table the incident had (``_table_replaced``)."""
    rel = require_relation(conn, table, schema, role=role, kinds=READABLE_KINDS)
    replaced = _table_replaced(ctx, rel) if ctx is not None else None
    if replaced is not None:
        raise LearnerFault(replaced)
    return rel


def _table_replaced(ctx: CheckContext, rel: Relation) -> Outcome | None:
    """A failing Outcome when ``rel`` is a view (or other non-table) standing where the untouched
    incident has a table: a view over a renamed table can hide rows (orphans, duplicates) the
    data still holds, and reading it would run the learner's code as the grader."""
    if rel.relkind in TABLE_KINDS or ctx.baseline is None:
        return None
    base = ctx.baseline()
    brel = find_relation(base, rel.display, None) if base is not None else None
    if brel is None or brel.relkind not in TABLE_KINDS:
        return None
    return Outcome(False, f"{rel.display} was a table in the incident and is now a {rel.kind_word}. A "
                          f"{rel.kind_word} can hide rows the data still holds, so the grader only reads the "
                          "table itself: keep the table and fix its rows.")


def _table_now(ctx: CheckContext, conn, table: str, schema: str | None, gone: str) -> Relation | Outcome:
    """The learner's ``table`` as it stands now, or a failing Outcome: ``gone`` when it was
    dropped, ``_table_replaced``'s when a view (or other non-table) stands in its place."""
    rel = find_relation(conn, table, schema)
    if rel is None:
        return Outcome(False, gone)
    replaced = _table_replaced(ctx, rel)
    return rel if replaced is None else replaced


def _incident_columns(base, rel: Relation, names) -> list[str]:
    """``require_columns`` on the untouched incident, where a missing column is the exercise's bug."""
    try:
        return require_columns(base, rel, names)
    except LearnerFault as exc:
        raise IncidentMismatch(exc.outcome().message) from None


def _count_and_sample(conn, name: str, title: str, **parts) -> tuple[int, Evidence | None]:
    count = conn.execute(sql_query(conn, name, select_list=sql.SQL("pg_catalog.count(*)"), limit=sql.SQL(""),
                                   **parts)).fetchone()[0]
    if not count:
        return 0, None
    cur = conn.execute(sql_query(conn, name, select_list=sql.SQL("*"), limit=_LIMIT, **parts))
    return count, cursor_evidence(title, cur, total=count)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


@contextlib.contextmanager
def _heap_reads(conn) -> Iterator:
    """A rolled-back transaction whose plans read tables, not indexes.

    A corrupt index can lack rows (the incident's ``customers_email_key`` has no entries for
    the duplicate accounts): an index-only scan over it, or a join the planner proves
    redundant with it, hides exactly the rows a check looks for.
    """
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT pg_catalog.set_config('enable_indexscan', 'off', true), "
                     "pg_catalog.set_config('enable_indexonlyscan', 'off', true), "
                     "pg_catalog.set_config('enable_bitmapscan', 'off', true)")
        yield conn


# ------------------------------------------------------------------------------------------
# rule checks


@check
@on_contrasts_end_state
def no_orphans(ctx: CheckContext, *, child: Table, column: str, parent: Table, parent_column: str = "id",
               schema: Schema = "public") -> Outcome:
    """No row of the child table references a parent row that does not exist.

    What it asserts:
        Every non-NULL ``child.column`` has a row in ``parent`` with that
        ``parent_column`` (NOT EXISTS). A NULL reference is not an orphan.
    Arguments:
        child: the referencing table, e.g. order_items.
        column: its referencing column, e.g. order_id.
        parent: the referenced table, e.g. orders.
        parent_column: the referenced column (default id).
    Feedback on failure:
        How many orphans remain, with a few of them. Orphans are rows whose parent was
        deleted behind the foreign key's back; reports that join them to their parent
        silently drop them. Fixing some of them earns partial credit, measured against
        how many the untouched incident had.
    Example:
        - check: no_orphans
          with: {child: order_items, column: order_id, parent: orders}
    """
    conn = ctx.grader()
    try:
        crel = _relation(conn, child, schema, ctx=ctx)
    except LearnerFault as exc:
        raise LearnerFault(Outcome(False, exc.outcome().message + " Dropping a table removes its orphans together "
                                                                  "with every valid row.")) from None
    prel = _relation(conn, parent, schema, role="parent table", ctx=ctx)
    (col,) = require_columns(conn, crel, [column])
    (pcol,) = require_columns(conn, prel, [parent_column])
    count, ev = _count_and_sample(
        conn, "integrity_orphans", f"Orphaned rows of {crel.display}", child=crel.ident,
        column=sql.Identifier(col), parent=prel.ident, parent_column=sql.Identifier(pcol))
    what = f"{crel.display}.{col} → {prel.display}.{pcol}"
    if count == 0:
        return Outcome(True, f"No orphans: every non-NULL {what} has its parent row.")
    planted = _orphans_in_incident(ctx, crel, col, prel, pcol)
    score = (planted - count) / planted if planted and count < planted else None
    return Outcome(False, f"{_plural(count, 'row')} of {crel.display} reference{'s' if count == 1 else ''} "
                          f"a missing {prel.display} row ({what}). Orphans point at nothing: joins drop "
                          "them and totals built from them are wrong. Delete or re-attach them, then "
                          "make sure a foreign key stops new ones.", (ev,) if ev else (), score=score)


def _orphans_in_incident(ctx: CheckContext, crel: Relation, col: str, prel: Relation, pcol: str) -> int:
    """How many orphans the untouched incident had (the base of partial credit).

    Counted on the untouched clone when there is one. Without it, the manifest's faults
    whose first two objects are the child and the parent table are summed (which may also
    count a fault that is no orphan, like orders placed before their customer existed).
    """
    base = ctx.baseline() if ctx.baseline is not None else None
    if base is not None:
        bc, bp = find_relation(base, crel.display, None), find_relation(base, prel.display, None)
        if bc is not None and bp is not None:
            return one_row(base.execute(sql_query(
                base, "integrity_orphans", child=bc.ident, column=sql.Identifier(col), parent=bp.ident,
                parent_column=sql.Identifier(pcol), select_list=sql.SQL("pg_catalog.count(*)"),
                limit=sql.SQL(""))))[0]
    planted = 0
    for fault in (ctx.manifest or {}).get("faults", []):
        objects = [split_qualified(o)[1] for o in as_list(fault.get("objects")) if _is_table_name(o)]
        if objects[:2] == [crel.name, prel.name]:
            planted += len(fault_rows(fault).get(crel.name, ()))
    return planted


@check
def no_duplicates(ctx: CheckContext, *, table: Table, columns: Columns, ignore_case: bool = False,
                  schema: Schema = "public") -> Outcome:
    """No two rows share the same values in these columns.

    What it asserts:
        Grouping ``table`` by ``columns`` gives no group with more than one row. Rows with
        a NULL in any of the columns are ignored, as a UNIQUE constraint ignores them. The
        table itself is read (index scans off), so a corrupt index cannot hide duplicates.
    Arguments:
        table: the table.
        columns: a column or list of columns that should identify a row.
        ignore_case: compare the values as lower-case text (e-mail addresses).
    Feedback on failure:
        How many duplicate groups remain, with the worst ones. Duplicates break the
        UNIQUE constraint the data is supposed to satisfy (it cannot be created or
        re-validated while they exist) and split one customer's history over two rows.
    Example:
        - check: no_duplicates
          with: {table: customers, columns: [email]}
    """
    conn = ctx.grader()
    rel = _relation(conn, table, schema, ctx=ctx)
    cols = require_columns(conn, rel, columns)
    if not cols:
        raise ExerciseBug("no_duplicates needs columns")
    exprs = []
    for c in cols:
        ident = sql.SQL("t.{}").format(sql.Identifier(c))
        exprs.append(sql.SQL("pg_catalog.lower({}::pg_catalog.text) AS {}").format(ident, sql.Identifier(c))
                     if ignore_case else sql.SQL("{} AS {}").format(ident, sql.Identifier(c)))
    # GROUP BY positions keep the expressions and their aliases in one place.
    keys_select = sql.SQL(", ").join(exprs)
    q = sql.SQL(query(conn, "integrity_duplicates").replace("GROUP BY {keys}", "GROUP BY {positions}")).format(
        keys=keys_select, table=rel.ident,
        not_null=sql.SQL(" AND ").join(sql.SQL("t.{} IS NOT NULL").format(sql.Identifier(c)) for c in cols),
        positions=sql.SQL(", ").join(sql.Literal(i + 1) for i in range(len(cols))))
    with _heap_reads(conn):  # a corrupt unique index would hide the very duplicates it let in
        groups = conn.execute(q).fetchall()
    if not groups:
        return Outcome(True, f"No duplicates in {rel.display} ({', '.join(cols)}).")
    extra = sum(g[-1] - 1 for g in groups)
    ev = rows_evidence(f"Duplicate values in {rel.display}", [*cols, "copies"], groups)
    return Outcome(False, f"{_plural(len(groups), 'value')} of ({', '.join(cols)}) appear more than once in "
                          f"{rel.display} ({_plural(extra, 'surplus row')}). Duplicates split one entity's "
                          "history and keep a UNIQUE constraint from being (re)built.", (ev,))


def _rows_where(ctx, table, column, schema, condition: str, word: str, why: str, **values) -> Outcome:
    """Pass when no row of ``table`` satisfies ``condition`` (``{col}`` is the column, other
    placeholders are filled from ``values`` as literals)."""
    conn = ctx.grader()
    rel = _relation(conn, table, schema, ctx=ctx)
    (col,) = require_columns(conn, rel, [column])
    cond = sql.SQL(condition).format(col=sql.Identifier(col), **{k: sql.Literal(v) for k, v in values.items()})
    count, ev = _count_and_sample(conn, "integrity_rows_where", f"Rows of {rel.display} with {word} {col}",
                                  table=rel.ident, condition=cond)
    if count == 0:
        return Outcome(True, f"No {word} values in {rel.display}.{col}.")
    return Outcome(False, f"{_plural(count, 'row')} of {rel.display} {'has' if count == 1 else 'have'} {word} "
                          f"{col}. {why}", (ev,) if ev else ())


@check
def no_negative_values(ctx: CheckContext, *, table: Table, column: str, allow_zero: bool = True,
                       schema: Schema = "public") -> Outcome:
    """No row has a negative value in this column.

    What it asserts:
        ``column < 0`` holds for no row of ``table`` (NULLs are not negative); with
        ``allow_zero: false``, ``column <= 0`` holds for none (an order total must be
        positive).
    Arguments:
        table: the table, e.g. products.
        column: the numeric column, e.g. stock_quantity.
        allow_zero: whether 0 is a valid value (default true).
    Feedback on failure:
        How many negative (or zero) values remain, with a few rows. A negative stock count
        means items were sold that did not exist; a CHECK (column >= 0) keeps it from recurring.
    Example:
        - check: no_negative_values
          with: {table: products, column: stock_quantity}
        - check: no_negative_values
          with: {table: orders, column: total_amount, allow_zero: false}
    """
    if allow_zero:
        return _rows_where(ctx, table, column, schema, "t.{col} < 0", "negative",
                           "Negative quantities or amounts are impossible values; correct them and add a "
                           "CHECK constraint so they cannot come back.")
    return _rows_where(ctx, table, column, schema, "t.{col} <= 0", "zero or negative",
                       "A value that must be positive (an order's total) is zero or below: it is a "
                       "record that should not exist or one written wrongly; repair it at its cause.")


@check
def no_future_values(ctx: CheckContext, *, table: Table, column: str, schema: Schema = "public") -> Outcome:
    """No row has a timestamp after now in this column.

    What it asserts:
        ``column`` is later than "now" for no row of ``table``. Now is the later of the
        server's clock and the incident's own reference time (``reference_time`` of the
        manifest, the moment the scenario starts), so rows the incident dated up to its
        Monday morning are never "in the future", whatever the clock of the grading machine.
    Arguments:
        table: the table, e.g. orders.
        column: the timestamp column, e.g. order_date.
    Feedback on failure:
        How many rows are dated in the future, with a few of them. A future date sorts
        before every real row in "latest first" lists and breaks reports by month; it is a
        typing error to correct, not a row to delete.
    Example:
        - check: no_future_values
          with: {table: orders, column: order_date}
    """
    reference = str((ctx.manifest or {}).get("reference_time") or "-infinity")
    return _rows_where(ctx, table, column, schema,
                       "t.{col} > GREATEST(pg_catalog.now(), {reference}::pg_catalog.timestamptz)",
                       "future", "Nothing is ordered or created in the future: the date was typed wrong. "
                       "Correct it (keep the old value somewhere) rather than delete the row.",
                       reference=reference)


@check
def not_before_parent(ctx: CheckContext, *, child: Table, column: str, reference: str, parent: Table,
                      parent_column: str, parent_key: str = "id", schema: Schema = "public") -> Outcome:
    """No child row is dated before the parent row it belongs to.

    What it asserts:
        For every row of ``child`` whose ``reference`` finds a row of ``parent`` (by
        ``parent_key``), ``child.column >= parent.parent_column`` — an order is not placed
        before its customer's account was created. Rows without a parent, or with a NULL
        timestamp on either side, are not counted here.
    Arguments:
        child: the table of the later events, e.g. orders.
        column: its timestamp, e.g. order_date.
        reference: its column referencing the parent, e.g. customer_id.
        parent: the table of the earlier events, e.g. customers.
        parent_column: the parent's timestamp, e.g. created_at.
        parent_key: the parent's column ``reference`` points at (default id).
    Feedback on failure:
        How many child rows predate their parent, with a few of them. One of the two
        timestamps is wrong; which one, the pattern tells (here: accounts all created within
        a minute of each other at night, by an import).
    Example:
        - check: not_before_parent
          with: {child: orders, column: order_date, reference: customer_id, parent: customers,
                 parent_column: created_at}
    """
    conn = ctx.grader()
    crel = _relation(conn, child, schema, ctx=ctx)
    prel = _relation(conn, parent, schema, role="parent table", ctx=ctx)
    (ccol, cref) = require_columns(conn, crel, [column, reference])
    (pcol, pkey) = require_columns(conn, prel, [parent_column, parent_key])
    count, ev = _count_and_sample(
        conn, "integrity_before_parent", f"Rows of {crel.display} dated before their {prel.display} row",
        child=crel.ident, column=sql.Identifier(ccol), reference=sql.Identifier(cref), parent=prel.ident,
        parent_column=sql.Identifier(pcol), parent_key=sql.Identifier(pkey))
    if count == 0:
        return Outcome(True, f"No {crel.display} row is dated before its {prel.display} row "
                             f"({ccol} ≥ {pcol}).")
    return Outcome(False, f"{_plural(count, 'row')} of {crel.display} {'is' if count == 1 else 'are'} dated "
                          f"({ccol}) before the {prel.display} row {'it belongs' if count == 1 else 'they belong'} "
                          f"to was created ({pcol}). One of the two timestamps is wrong: find which from the "
                          "pattern, and correct it rather than delete rows.", (ev,) if ev else ())


@check
def no_nulls(ctx: CheckContext, *, table: Table, column: str, schema: Schema = "public") -> Outcome:
    """No row has NULL in this column.

    What it asserts:
        ``column IS NULL`` holds for no row of ``table``.
    Arguments:
        table: the table.
        column: the column that must always have a value.
    Feedback on failure:
        How many NULLs remain, with a few rows. A NULL in a critical field makes
        arithmetic and comparisons on it unknown, so the row drops out of filters and sums;
        a NOT NULL constraint keeps it from recurring.
    Example:
        - check: no_nulls
          with: {table: products, column: stock_quantity}
    """
    return _rows_where(ctx, table, column, schema, "t.{col} IS NULL", "NULL",
                       "NULL in a required field drops rows out of comparisons and sums; fill the "
                       "values in and add NOT NULL.")


@check
def totals_match_items(ctx: CheckContext, *, orders: Table = "orders", items: Table = "order_items",
                       order_key: str = "id", item_order_column: str = "order_id",
                       total_column: str = "total_amount", quantity_column: str = "quantity",
                       price_column: str = "price", tolerance: float = 0.01, allow_added_adjustment: bool = False,
                       schema: Schema = "public") -> Outcome:
    """Every order's stored total equals the sum of its lines (quantity × price).

    What it asserts:
        For every row of ``orders``, |total − Σ quantity × price of its items| ≤
        ``tolerance``. An order without items sums to 0; a NULL total counts as 0. With
        ``allow_added_adjustment``, a numeric column of ``orders`` that the untouched
        incident did not have may record the difference (a discount the total was charged
        with): the check then passes when total ± that column equals the lines for every
        order — whatever the column is called and whichever sign it is kept with.
    Arguments:
        orders: the orders table (default orders).
        items: the order lines table (default order_items).
        order_key: key of orders (default id).
        item_order_column: the lines' reference to the order (default order_id).
        total_column: the stored total (default total_amount).
        quantity_column: line quantity (default quantity).
        price_column: line unit price (default price).
        tolerance: largest allowed difference (default 0.01).
        allow_added_adjustment: accept a column added since the incident (e.g. a
            discount) as part of the total (default false; needs the untouched clone).
    Feedback on failure:
        How many orders disagree with their lines, with the largest differences. A stored
        total that does not match its lines means either the invoice or the lines are
        wrong — revenue reports and refunds inherit the error.
    Example:
        - check: totals_match_items
          with: {tolerance: 0.01}
        - check: totals_match_items
          with: {allow_added_adjustment: true}
    """
    conn = ctx.grader()
    orel = _relation(conn, orders, schema, ctx=ctx)
    irel = _relation(conn, items, schema, ctx=ctx)
    (okey, total) = require_columns(conn, orel, [order_key, total_column])
    (iorder, qty, price) = require_columns(conn, irel, [item_order_column, quantity_column, price_column])
    parts = dict(orders=orel.ident, items=irel.ident, order_key=sql.Identifier(okey),
                 item_order=sql.Identifier(iorder), total=sql.Identifier(total), quantity=sql.Identifier(qty),
                 price=sql.Identifier(price))

    def mismatches(adjustment: sql.Composable) -> list:
        return conn.execute(sql_query(conn, "integrity_totals", adjustment=adjustment, **parts),
                            {"tolerance": tolerance, "limit": 5}).fetchall()

    rows = mismatches(sql.SQL("+ 0"))
    if not rows:
        return Outcome(True, f"Every {orel.display} total matches its lines (within {tolerance}).")
    for column in _added_numeric_columns(ctx, conn, orel, schema) if allow_added_adjustment else ():
        for sign in ("+", "-"):
            term = sql.SQL(sign + " COALESCE(o.{}, 0)").format(sql.Identifier(column))
            if not mismatches(term):
                return Outcome(True, f"Every {orel.display} {total} {sign} {column} matches its lines (within "
                                     f"{tolerance}): {column} records the difference.")
    count = rows[0][-1]
    ev = rows_evidence(f"Orders whose {total} differs from their lines",
                       ("order", total, "lines total", "difference"), [r[:-1] for r in rows], total=count)
    return Outcome(False, f"{_plural(count, 'order')} of {orel.display} {'has' if count == 1 else 'have'} a "
                          f"{total} that differs from the sum of {irel.display} quantity × price by more than "
                          f"{tolerance}. Either the invoice or the lines are wrong, and every revenue "
                          "report inherits it.", (ev,))


def _added_numeric_columns(ctx: CheckContext, conn, rel: Relation, schema) -> list[str]:
    """Numeric columns of ``rel`` that the same table in the untouched incident lacks."""
    if ctx.baseline is None or ctx.baseline() is None:
        return []
    base = ctx.baseline()
    brel = find_relation(base, rel.display, schema)
    if brel is None:
        return []
    before = {c for c, _ in columns_of(base, brel.oid)}
    numeric = ("numeric", "integer", "bigint", "smallint", "real", "double precision", "money")
    return [c for c, typ in columns_of(conn, rel.oid) if c not in before and typ.split("(")[0] in numeric]


@check
def amcheck_passes(ctx: CheckContext, *, index: str, heapallindexed: bool = True, schema: Schema = "public") -> Outcome:
    """amcheck finds nothing wrong with this B-tree index.

    What it asserts:
        amcheck's ``bt_index_check(index, heapallindexed)`` completes without error: the
        index's structure is consistent and, with ``heapallindexed``, every table row has
        its index entry.
    Arguments:
        index: the index, ``name`` or ``schema.name``.
        heapallindexed: also verify that every heap tuple is indexed (default true).
    Feedback on failure:
        amcheck's error, verbatim. A corrupt index returns wrong answers — a UNIQUE index
        missing entries lets duplicates in — until it is rebuilt with REINDEX (after
        the rows it should have rejected are resolved).
    Example:
        - check: amcheck_passes
          with: {index: customers_email_key}
    """
    conn = ctx.grader()
    nsp, iname = split_qualified(index, schema)
    row = conn.execute(query(conn, "catalog_index_by_name"), {"schema": nsp, "name": iname}).fetchone()
    if row is None:
        return Outcome(False, f"There is no index {display(nsp, iname)} (was it dropped or renamed?), "
                              "so it cannot be verified.")
    oid, table_name, method, usable, definition = row
    if method != "btree":
        return Outcome(False, f"{display(nsp, iname)} is a {method} index; bt_index_check verifies B-tree "
                              "indexes only.")
    if not usable:
        return Outcome(False, f"{display(nsp, iname)} is INVALID, so amcheck cannot verify it and the planner "
                              f"does not use it: {definition}. Rebuild it with REINDEX.")
    amcheck = conn.execute(query(conn, "extension_function"), {"extname": "amcheck", "proname": "bt_index_check", "nargs": 2}).fetchone()
    if amcheck is None:
        return Outcome(False, "The amcheck extension is not installed in this database, so the index cannot be "
                              "verified.")
    if not amcheck[1]:
        raise PermissionError("the grader may not execute amcheck's bt_index_check(regclass, boolean)")
    fn = sql.Identifier(amcheck[0], "bt_index_check")
    try:
        conn.execute(sql_query(conn, "integrity_amcheck", fn=fn),
                     {"index_oid": oid, "heapallindexed": bool(heapallindexed)})
    except psycopg.errors.QueryCanceled:
        raise
    except psycopg.Error as exc:
        diag = exc.diag
        text = "\n".join(x for x in (diag.message_primary, diag.message_detail, diag.message_hint) if x) or str(exc)
        return Outcome(False, f"amcheck reports {display(nsp, iname)} on {table_name} as corrupt "
                              f"(SQLSTATE {exc.sqlstate}): {diag.message_primary or exc}. A corrupt index "
                              "gives wrong answers; rebuild it with REINDEX once the rows it let through are "
                              "fixed.", (Evidence("text", "amcheck error", text),))
    return Outcome(True, f"amcheck found no problem in {display(nsp, iname)}"
                         + (" (every row is indexed)." if heapallindexed else "."))


@check
def index_rebuilt(ctx: CheckContext, *, index: str, schema: Schema = "public") -> Outcome:
    """The index was rebuilt since the incident (REINDEX, or dropped and created again).

    What it asserts:
        ``index`` exists, is valid, and its storage is not the untouched incident's: its
        filenode (``pg_relation_filenode``) differs from the one the same index has in an
        untouched clone. REINDEX, REINDEX CONCURRENTLY, a DROP and CREATE, VACUUM FULL and
        CLUSTER all write a new file; deleting or fixing rows does not.
    Arguments:
        index: the index, ``name`` or ``schema.name``.
    Feedback on failure:
        Says the index is still the very file that was found corrupt. Removing the rows
        it lacked can make amcheck quiet, but a corrupt B-tree (a collation change, a bad
        disk, a bug) cannot be trusted with the rest of its entries either: rebuild it
        once the rows it should have rejected are resolved. Also says when the index is
        gone or left INVALID (a failed REINDEX CONCURRENTLY leaves a ``_ccnew`` copy).
    Example:
        - check: index_rebuilt
          with: {index: customers_email_key}
    """
    conn = ctx.grader()
    base = _baseline(ctx)
    nsp, iname = split_qualified(index, schema)
    params = {"schema": nsp, "name": iname}
    before = base.execute(query(base, "integrity_index_storage"), params).fetchone()
    if before is None:
        raise IncidentMismatch(f"{display(nsp, iname)} does not exist in the untouched incident")
    now = conn.execute(query(conn, "integrity_index_storage"), params).fetchone()
    if now is None:
        return Outcome(False, f"There is no index {display(nsp, iname)} any more (was it dropped or renamed?). "
                              "Rebuild it in place with REINDEX rather than dropping what it enforces.")
    _, filenode, usable, definition = now
    if not usable:
        return Outcome(False, f"{display(nsp, iname)} is INVALID: {definition}. The planner does not use it "
                              "and it enforces nothing reliably; resolve the rows it rejects, then REINDEX it.")
    if filenode == before[1]:
        return Outcome(False, f"{display(nsp, iname)} was never rebuilt: it is still the file that was found "
                              "corrupt. Deleting the rows it lacked can make amcheck quiet, but an index that "
                              "was corrupt once cannot be trusted with its other entries. Once the rows it "
                              "should have rejected are resolved, run REINDEX INDEX (or REINDEX INDEX "
                              "CONCURRENTLY on a busy table).", (Evidence("text", "Definition", definition),))
    return Outcome(True, f"{display(nsp, iname)} was rebuilt (new storage): {definition}.")


# ------------------------------------------------------------------------------------------
# preservation


def _baseline(ctx: CheckContext):
    if ctx.baseline is None:
        raise BaselineMissing("this check compares with an untouched clone, and none is available")
    conn = ctx.baseline()
    if conn is None:
        raise BaselineMissing("this check compares with an untouched clone, and none is available")
    return conn


def _checksum_parts(rel: Relation, cols: list[str], key: str | None) -> dict:
    """The SQL pieces the checksum queries are built from, for one side of the comparison."""
    row = sql.SQL("ROW({})").format(sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in cols))
    if key is None:
        bucket = sql.SQL("pg_catalog.md5({}::pg_catalog.text)").format(row)
        key_text = sql.SQL("pg_catalog.md5({}::pg_catalog.text)").format(row)
        exclude_condition: sql.Composable = sql.SQL("true")
    else:
        key_text = sql.SQL("t.{}::pg_catalog.text").format(sql.Identifier(key))
        bucket = sql.SQL("pg_catalog.md5({})").format(key_text)
        exclude_condition = sql.SQL("({k} IS NULL OR {k} <> ALL(%(exclude)s::pg_catalog.text[]))").format(k=key_text)
    return dict(table=rel.ident, row=row, bucket=bucket, key_text=key_text, exclude_condition=exclude_condition)


def _hash_rows(conn, parts, exclude, buckets) -> list[tuple[str, str]]:
    """(key text, row hash) of the rows in ``buckets`` (with no key, the key text is the hash)."""
    return conn.execute(sql_query(conn, "integrity_row_hashes", **parts),
                        {"exclude": exclude, "buckets": buckets}).fetchall()


def _hashes(conn, parts, exclude, buckets) -> dict[str, str]:
    """Row hash by key, for a table with a key."""
    return {k: h for k, h in _hash_rows(conn, parts, exclude, buckets)}


def _hash_counts(conn, parts, exclude, buckets) -> dict[str, int]:
    """How many rows have each hash, for a table without a key."""
    bag: dict[str, int] = {}
    for k, _ in _hash_rows(conn, parts, exclude, buckets):
        bag[k] = bag.get(k, 0) + 1
    return bag


@check
@on_contrasts_end_state
def rows_preserved(ctx: CheckContext, *, table: Table, key: RowKey | None = "id", exclude_fault_rows: bool = True,
                   ignore_columns: Columns | None = None, schema: Schema = "public") -> Outcome:
    """Every row the faults did not touch is still there, unchanged.

    What it asserts:
        Compared with an untouched clone of the incident, every row of ``table`` that no
        planted fault touched still exists (same ``key``) with the same content in every
        original column (columns the learner added are ignored). Rows the faults planted
        or name are left out with ``exclude_fault_rows``. Rows added by the learner are
        allowed. The comparison uses per-row md5 checksums, bucketed, so only differing
        buckets are fetched.
    Arguments:
        table: the table to compare.
        key: the column identifying a row (default id); null compares the table as a
            bag of rows, without excluding fault rows.
        exclude_fault_rows: leave out rows the manifest's faults planted or name
            (default true).
        ignore_columns: original columns a correct fix may change everywhere.
    Feedback on failure:
        How many good rows were deleted or changed, with their keys and before/after
        values. Fixing an incident must not destroy or rewrite data that was fine — a
        broad UPDATE or DELETE is a second incident.
    Example:
        - check: rows_preserved
          with: {table: order_items, key: id}
    """
    conn = ctx.grader()
    base = _baseline(ctx)
    nsp, name = split_qualified(table, schema)
    brel = find_relation(base, table, schema)
    if brel is None:
        raise IncidentMismatch(f"{display(nsp, name)} does not exist in the untouched incident")
    rel = _table_now(ctx, conn, table, schema,
                     f"{display(nsp, name)} no longer exists: dropping it destroyed every row it held.")
    if isinstance(rel, Outcome):
        return rel
    ignored = {ident_name(c) for c in as_list(ignore_columns)}
    base_cols = [c for c, _ in columns_of(base, brel.oid) if c not in ignored]
    have_cols = {c for c, _ in columns_of(conn, rel.oid)}
    key_col = ident_name(key) if key else None
    dropped = [c for c in base_cols if c not in have_cols]
    if dropped:
        return Outcome(False, f"{rel.display} lost column{'s' if len(dropped) > 1 else ''} {', '.join(dropped)}: "
                              "the data in it is gone.")
    if key_col is not None and key_col not in base_cols:
        raise IncidentMismatch(f"{display(nsp, name)} has no column {key_col} to identify rows by")
    exclude = sorted(fault_row_keys(ctx.manifest, brel.name)) if exclude_fault_rows and key_col else []

    bparts = _checksum_parts(brel, base_cols, key_col)
    lparts = _checksum_parts(rel, base_cols, key_col)
    bsum = {b: (n, s) for b, n, s in base.execute(sql_query(base, "integrity_row_buckets", **bparts),
                                                    {"exclude": exclude}).fetchall()}
    lsum = {b: (n, s) for b, n, s in conn.execute(sql_query(conn, "integrity_row_buckets", **lparts),
                                                    {"exclude": exclude}).fetchall()}
    differing = sorted(b for b in set(bsum) | set(lsum) if bsum.get(b) != lsum.get(b))
    checked = sum(n for n, _ in bsum.values())
    scope = f"{_plural(checked, 'row')}" + (f" (not counting {_plural(len(exclude), 'fault row')})" if exclude else "")
    if not differing:
        return Outcome(True, f"All {scope} of {rel.display} are unchanged.")

    if key_col is None:
        counted_before = _hash_counts(base, bparts, exclude, differing)
        counted_now = _hash_counts(conn, lparts, exclude, differing)
        lost = sum(max(0, n - counted_now.get(h, 0)) for h, n in counted_before.items())
        if lost == 0:
            return Outcome(True, f"All {scope} of {rel.display} are still there (rows were only added).")
        return Outcome(False, f"{_plural(lost, 'original row')} of {rel.display} were deleted or changed. "
                              "Fixing an incident must leave the good data as it was.")
    bh = _hashes(base, bparts, exclude, differing)
    lh = _hashes(conn, lparts, exclude, differing)
    deleted = sorted((k for k in bh if k not in lh), key=_natural)
    changed = sorted((k for k in bh if k in lh and lh[k] != bh[k]), key=_natural)
    added = [k for k in lh if k not in bh]
    if not deleted and not changed:
        return Outcome(True, f"All {scope} of {rel.display} are unchanged"
                             + (f" ({_plural(len(added), 'row')} added)." if added else "."))
    evidence = []
    sample = (changed + deleted)[:5]
    cols_sql = sql.SQL(", ").join(sql.Identifier(c) for c in base_cols)
    q = sql.SQL("SELECT {cols} FROM {t} WHERE {k}::pg_catalog.text = ANY(%s::pg_catalog.text[]) ORDER BY {k}")
    before = base.execute(q.format(cols=cols_sql, t=brel.ident, k=sql.Identifier(key_col)), (sample,)).fetchall()
    after = {str(r[base_cols.index(key_col)]): r for r in conn.execute(
        q.format(cols=cols_sql, t=rel.ident, k=sql.Identifier(key_col)), (sample,)).fetchall()}
    ev_rows = []
    for r in before:
        k = str(r[base_cols.index(key_col)])
        ev_rows.append(("before", *r))
        ev_rows.append(("after", *after[k]) if k in after else ("after", "(deleted)", *[""] * (len(r) - 1)))
    evidence.append(rows_evidence(f"Rows of {rel.display} that should not have changed",
                                  ("", *base_cols), ev_rows, limit=10))
    parts = []
    if deleted:
        parts.append(f"{_plural(len(deleted), 'row')} deleted (key {', '.join(deleted[:5])}"
                     f"{', …' if len(deleted) > 5 else ''})")
    if changed:
        parts.append(f"{_plural(len(changed), 'row')} changed (key {', '.join(changed[:5])}"
                     f"{', …' if len(changed) > 5 else ''})")
    return Outcome(False, f"Of {scope} of {rel.display} that no fault touched, " + " and ".join(parts) + ". "
                          "A fix must leave good data as it was: a too-broad UPDATE or DELETE is a second "
                          "incident.", tuple(evidence))


def _natural(text: str):
    return (0, int(text), "") if text.lstrip("-").isdigit() else (1, 0, text)


@check
@on_contrasts_end_state
def nothing_lost(ctx: CheckContext, *, table: Table, allowed_loss: int | str | list[str] | None = None,
                 schema: Schema = "public") -> Outcome:
    """No more rows are gone than the faults allow to be removed.

    What it asserts:
        The table's row count is at least the untouched incident's count minus the
        allowed loss. By default the allowance is the number of rows planted by faults
        whose id says orphan or duplicate (the 15 orphaned order lines, the duplicate
        customer accounts); a number sets it, a list of fault ids sums those faults'
        rows. Losing more scores 0.
    Arguments:
        table: the table to count.
        allowed_loss: rows that may be deleted — a number, a list of fault ids, or omitted
            for the default.
    Feedback on failure:
        How many rows are gone and how many a fix may remove: anything beyond that is
        destroyed data (TRUNCATE, a DELETE without the right WHERE), which no
        integrity fix justifies.
    Example:
        - check: nothing_lost
          with: {table: order_items}
    """
    conn = ctx.grader()
    nsp, name = split_qualified(table, schema)
    if ctx.baseline is not None and ctx.baseline() is not None:
        base = ctx.baseline()
        brel = find_relation(base, table, schema)
        if brel is None:
            raise IncidentMismatch(f"{display(nsp, name)} does not exist in the untouched incident")
        before = one_row(base.execute(sql_query(base, "integrity_count", table=brel.ident)))[0]
    elif name in (ctx.manifest or {}).get("counts", {}):
        before = int(ctx.manifest["counts"][name])
    else:
        raise BaselineMissing("nothing_lost needs an untouched clone or the manifest's row counts")
    if allowed_loss is None:
        allowed = removable_rows(ctx.manifest, name)
    elif isinstance(allowed_loss, (list, tuple, str)):
        allowed = removable_rows(ctx.manifest, name, [str(f) for f in as_list(allowed_loss)])
    else:
        allowed = int(allowed_loss)
    rel = _table_now(ctx, conn, table, schema, f"{display(nsp, name)} no longer exists: all {before} rows it held "
                                               f"were destroyed (at most {allowed} may be removed).")
    if isinstance(rel, Outcome):
        return rel
    have = one_row(conn.execute(sql_query(conn, "integrity_count", table=rel.ident)))[0]
    lost = before - have
    ev = (rows_evidence("Row counts", ("table", "incident", "now", "may be removed"),
                        [(rel.display, before, have, allowed)]),)
    if lost <= 0:
        added = f" ({_plural(-lost, 'row')} added)" if lost < 0 else ""
        return Outcome(True, f"{rel.display} has {have} rows, {before} in the incident: none removed{added}.", ev)
    if lost <= allowed:
        detail = f"{_plural(lost, 'row')} removed" + (f", {allowed} allowed" if allowed else "")
        return Outcome(True, f"{rel.display} has {have} of {before} rows ({detail}).", ev)
    excess = lost - allowed
    return Outcome(False, f"{rel.display} has {have} rows, {before} in the incident: {_plural(lost, 'row')} "
                          f"{'is' if lost == 1 else 'are'} gone but only {allowed} (rows the faults planted) may "
                          f"be removed. {_plural(excess, 'row')} of good data {'was' if excess == 1 else 'were'} "
                          "destroyed — an integrity fix deletes exactly the bad rows, never more.", ev)


def _texts(cols: list[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.SQL("t.{}::pg_catalog.text").format(sql.Identifier(c)) for c in cols)


def _row(cols: list[str]) -> sql.Composed:
    return sql.SQL("ROW({})").format(sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in cols))


def _rows_by_key(conn, rel: Relation, key: str, cols: list[str], keys) -> dict[str, tuple[list, str]]:
    """{key: (values as text, md5 of the row)} of the rows of ``rel`` with these keys."""
    cur = conn.execute(sql_query(conn, "integrity_rows_by_key", table=rel.ident, key=sql.Identifier(key),
                                 texts=_texts(cols), row=_row(cols)), {"keys": sorted(keys)})
    return {k: (list(v), h) for k, v, h in cur.fetchall()}


def _parse_reference(text: str, schema: str) -> tuple[str, str]:
    """``table.column`` (or ``schema.table.column``) of a referencing column."""
    parts = parse_name(str(text))
    if len(parts) < 2:
        raise ExerciseBug(f"referenced_by entries are table.column, not {text!r}")
    return (display(parts[-3], parts[-2]) if len(parts) > 2 else display(schema, parts[0])), parts[-1]


@check
def duplicates_merged(ctx: CheckContext, *, table: Table, columns: Columns,
                      referenced_by: str | list[str] | None = None, keep: str | None = None, key: RowKey = "id", child_key: str = "id",
                      schema: Schema = "public") -> Outcome:
    """Each group of duplicate rows was merged into one, and what referenced them follows.

    What it asserts:
        For every group of rows of ``table`` that shared the values of ``columns`` in the
        untouched incident (read from the table itself, not through an index): exactly one
        row of the group is left, still with those values; the others are gone; and every
        row of each ``referenced_by`` table that referenced any row of the group now
        references the one that is left. With ``keep``, the one left must be the first of
        the group by that column (then by key) — the original, not the copy. Renaming the
        copies, deleting every row of the group, or deleting copies whose children still
        point at them all fail.
    Arguments:
        table: the table with the duplicates, e.g. customers.
        columns: the column or columns that should be unique, e.g. email.
        referenced_by: referencing columns as ``table.column`` (e.g. ``orders.customer_id``)
            whose rows must be re-pointed to the row that is kept.
        keep: a column whose smallest value marks the row to keep (e.g. created_at);
            omitted: any row of the group may be kept.
        child_key: the column identifying a row of the referencing tables (default id).
    Feedback on failure:
        Partial credit per group. For each group not merged, says what is wrong: several
        rows left (with the values a rename gave them), none left, the copy kept instead
        of the original, or which referencing rows still point at a removed row (or were
        deleted with it). Merging keeps one history per entity; renaming leaves one
        person with two accounts, and deleting loses the person and orphans their orders.
    Example:
        - check: duplicates_merged
          with: {table: customers, columns: [email], referenced_by: [orders.customer_id], keep: created_at}
    """
    conn = ctx.grader()
    base = _baseline(ctx)
    brel = find_relation(base, table, schema)
    if brel is None:
        raise IncidentMismatch(f"{display(*split_qualified(table, schema))} does not exist in the untouched incident")
    cols = _incident_columns(base, brel, columns)
    if not cols:
        raise ExerciseBug("duplicates_merged needs columns")
    key_col = ident_name(key)
    keep_col = ident_name(keep) if keep else None
    (key_col, *_) = _incident_columns(base, brel, [key_col] + ([keep_col] if keep_col else []))
    values = sql.SQL(", ").join(sql.SQL("t.{} AS {}").format(sql.Identifier(c), sql.Identifier(c)) for c in cols)
    q = sql_query(base, "integrity_duplicate_groups", table=brel.ident, key=sql.Identifier(key_col),
                  keep=sql.SQL("t.{}").format(sql.Identifier(keep_col)) if keep_col else sql.SQL("NULL::pg_catalog.int4"),
                  values=values,
                  not_null=sql.SQL(" AND ").join(sql.SQL("t.{} IS NOT NULL").format(sql.Identifier(c)) for c in cols),
                  columns=sql.SQL(", ").join(sql.Identifier(c) for c in cols),
                  texts=sql.SQL(", ").join(sql.SQL("{}::pg_catalog.text").format(sql.Identifier(c)) for c in cols))
    with _heap_reads(base):
        groups = [(list(keys), list(vals)) for keys, vals in base.execute(q).fetchall()]
    if not groups:
        raise IncidentMismatch(f"the untouched incident has no duplicate ({', '.join(cols)}) in {brel.display}")

    rel = _table_now(ctx, conn, table, schema,
                     f"{brel.display} no longer exists: every row it held is gone, the duplicates with the rest.")
    if isinstance(rel, Outcome):
        return rel
    _ = require_columns(conn, rel, [key_col, *cols])
    members = {k for keys, _ in groups for k in keys}
    with _heap_reads(conn):
        now = _rows_by_key(conn, rel, key_col, cols, members)

    # Rows that referenced a member in the incident, and what they reference now.
    children = []  # (label, {child key: member it referenced}, {child key: current reference or None})
    for entry in as_list(referenced_by):
        ctable, ccol = _parse_reference(entry, schema)
        bchild = find_relation(base, ctable, None)
        if bchild is None:
            raise IncidentMismatch(f"{ctable} does not exist in the untouched incident")
        (ckey, ccol) = _incident_columns(base, bchild, [child_key, ccol])
        with _heap_reads(base):
            before = {k: v[0] for k, (v, _) in _rows_by_key_where_ref(base, bchild, ckey, ccol, members).items()}
        label = f"{bchild.display}.{ccol}"
        child = _table_now(ctx, conn, ctable, None, f"{bchild.display} no longer exists, so the rows that "
                                                    "referenced the duplicates are gone with it.")
        if isinstance(child, Outcome):
            return child
        _ = require_columns(conn, child, [ckey, ccol])
        with _heap_reads(conn):
            after = {k: v[0] for k, (v, _) in _rows_by_key(conn, child, ckey, [ccol], before).items()}
        children.append((label, before, after))

    ok = 0
    report = []
    problems = []
    for keys, vals in groups:
        shown = ", ".join(cell(v) for v in vals)
        left = [k for k in keys if k in now]
        same = [k for k in left if now[k][0] == vals]
        issue = ""
        if not left:
            issue = f"every row of the group ({', '.join(keys)}) was deleted"
        elif len(left) > 1:
            renamed = [f"{k} now has ({', '.join(cell(v) for v in now[k][0])})" for k in left if k not in same]
            issue = (f"{len(left)} rows are still there ({', '.join(left)})"
                     + (f"; {'; '.join(renamed)}" if renamed else ""))
        elif not same:
            issue = f"the one row left, {left[0]}, no longer has these values"
        elif keep_col and left[0] != keys[0]:
            issue = f"{left[0]} was kept, but the first by {keep_col} is {keys[0]} (the original)"
        if not issue:
            survivor = left[0]
            stray = []
            for label, before, after in children:
                for ck, old in sorted(before.items(), key=lambda kv: _natural(kv[0])):
                    if old not in keys:
                        continue  # referenced another group's row
                    if ck not in after:
                        stray.append(f"{label} row {ck} (of {old}) was deleted")
                    elif after[ck] != survivor:
                        stray.append(f"{label} row {ck} references {cell(after[ck])}")
            if stray:
                issue = (f"{survivor} was kept, but {len(stray)} referencing row(s) do not point at it: "
                         + "; ".join(stray[:3]) + ("; …" if len(stray) > 3 else ""))
        if issue:
            problems.append(f"({shown}): {issue}")
        else:
            ok += 1
        report.append((shown, " ".join(keys), " ".join(left) or "(none)", issue or "merged"))
    ev = (rows_evidence(f"Duplicate ({', '.join(cols)}) groups of {brel.display}",
                        ("values", "rows in the incident", "rows now", "result"), report, limit=10),)
    refs = f" and every {', '.join(label for label, _, _ in children)} follows it" if children else ""
    if ok == len(groups):
        return Outcome(True, f"All {_plural(len(groups), 'duplicate group')} of {brel.display} were merged: one "
                             f"row each is left{refs}.", ev)
    return Outcome(False, f"{len(groups) - ok} of {_plural(len(groups), 'duplicate group')} of {brel.display} "
                          f"{'is' if len(groups) - ok == 1 else 'are'} not merged: " + " | ".join(problems[:3])
                          + ". Merging means one row per entity is kept (the original), every row that "
                          "referenced a copy is re-pointed to it, and only then are the copies deleted. "
                          "Renaming a copy leaves one person with two accounts; deleting them all loses the "
                          "person and orphans what referenced them.", ev, score=ok / len(groups))


def _rows_by_key_where_ref(conn, rel: Relation, key: str, ref: str, refs) -> dict[str, tuple[list, str]]:
    """{child key: ([reference as text], md5)} of the rows of ``rel`` whose ``ref`` is in ``refs``."""
    q = sql.SQL("SELECT t.{key}::pg_catalog.text, ARRAY[t.{ref}::pg_catalog.text], '' FROM {table} AS t "
                "WHERE t.{ref}::pg_catalog.text = ANY(%(refs)s::pg_catalog.text[])").format(
        key=sql.Identifier(key), ref=sql.Identifier(ref), table=rel.ident)
    return {k: (list(v), h) for k, v, h in conn.execute(q, {"refs": sorted(refs)}).fetchall()}


@check
def rows_quarantined(ctx: CheckContext, *, table: Table, faults: FaultIds | None = None, key: RowKey = "id",
                     schema: Schema = "public") -> Outcome:
    """The fault's rows were moved out of the table into another one, unchanged.

    What it asserts:
        Every row of ``table`` that the listed faults planted (by default the faults a
        fix may delete rows of: their id says orphan or duplicate) is gone from
        ``table`` and kept, with the same key and the same content in every original
        column, in some other table of the database (any schema; extra columns such as
        a reason or a timestamp are fine). Deleting bad rows without a copy destroys the
        evidence and makes the fix impossible to undo.
    Arguments:
        table: the table the rows were removed from, e.g. order_items.
        faults: fault ids whose rows must be quarantined; omitted: the default allowance
            of ``nothing_lost``.
    Feedback on failure:
        Partial credit per row. Says how many rows are still in the table, how many were
        deleted without a copy, and where the others were found. A quarantine table
        (``CREATE TABLE … AS SELECT`` the rows, then ``DELETE`` them, in one
        transaction) keeps the evidence for whoever investigates the cause.
    Example:
        - check: rows_quarantined
          with: {table: order_items, faults: [orphan_order_items]}
    """
    conn = ctx.grader()
    base = _baseline(ctx)
    nsp, name = split_qualified(table, schema)
    wanted = [str(f) for f in as_list(faults)] if faults is not None else None
    planted: set[str] = set()
    for fault in (ctx.manifest or {}).get("faults", []):
        fid = str(fault.get("id", ""))
        if (fid in wanted) if wanted is not None else any(w in fid for w in REMOVABLE_FAULT_WORDS):
            planted |= fault_rows(fault).get(name, set())
    if not planted:
        raise IncidentMismatch(f"no fault planted rows in {display(nsp, name)}"
                          + (f" (faults {', '.join(wanted)})" if wanted else ""))
    brel = find_relation(base, table, schema)
    if brel is None:
        raise IncidentMismatch(f"{display(nsp, name)} does not exist in the untouched incident")
    cols = [c for c, _ in columns_of(base, brel.oid)]
    key_col = ident_name(key)
    if key_col not in cols:
        raise IncidentMismatch(f"{brel.display} has no column {key_col} to identify rows by")
    original = {k: h for k, (_, h) in _rows_by_key(base, brel, key_col, cols, planted).items()}
    rel = find_relation(conn, table, schema)
    still = set()
    if rel is not None:
        replaced = _table_replaced(ctx, rel)
        if replaced is not None:
            return replaced
        _ = require_columns(conn, rel, [key_col])
        still = set(_rows_by_key(conn, rel, key_col, [key_col], original))
    removed = {k: h for k, h in original.items() if k not in still}
    kept: dict[str, str] = {}
    if removed:
        candidates = conn.execute(query(conn, "integrity_quarantine_candidates"),
                                  {"table_oid": rel.oid if rel is not None else 0, "columns": cols}).fetchall()
        for cnsp, cname in candidates:
            crel = find_relation(conn, display(cnsp, cname), None)
            if crel is None:
                continue
            for k, (_, h) in _rows_by_key(conn, crel, key_col, cols, removed).items():
                if removed.get(k) == h and k not in kept:
                    kept[k] = crel.display
    total = len(original)
    lost = sorted((k for k in removed if k not in kept), key=_natural)
    where = sorted(set(kept.values()))
    ev = (rows_evidence("Planted rows", ("state", "rows", "keys"),
                        [(state, len(keys), ", ".join(sorted(keys, key=_natural)[:8]) + (" …" if len(keys) > 8 else ""))
                         for state, keys in (("still in " + (rel.display if rel else brel.display), still),
                                             ("kept in " + ", ".join(where) if where else "kept elsewhere", set(kept)),
                                             ("deleted without a copy", set(lost)))
                         if keys]),)
    if len(kept) == total:
        return Outcome(True, f"All {_plural(total, 'planted row')} left {brel.display} and are kept, unchanged, in "
                             f"{', '.join(where)}.", ev)
    parts = []
    if still:
        parts.append(f"{_plural(len(still), 'row')} {'is' if len(still) == 1 else 'are'} still in {brel.display}")
    if lost:
        parts.append(f"{_plural(len(lost), 'row')} {'was' if len(lost) == 1 else 'were'} deleted without a copy "
                     f"(key {', '.join(lost[:5])}{', …' if len(lost) > 5 else ''})")
    if kept:
        parts.append(f"{len(kept)} {'is' if len(kept) == 1 else 'are'} kept in {', '.join(where)}")
    return Outcome(False, f"Of the {_plural(total, 'row')} of {brel.display} the faults planted, " + "; ".join(parts)
                          + ". Move bad rows to a quarantine table (CREATE TABLE … AS SELECT them, then DELETE "
                          "them, in one transaction) instead of destroying them: whoever investigates the cause "
                          "needs them, and the fix can be undone.", ev, score=len(kept) / total)


@check
@on_contrasts_end_state
def fault_rows_kept(ctx: CheckContext, *, table: Table, faults: FaultIds, key: RowKey = "id",
                    schema: Schema = "public") -> Outcome:
    """The rows the faults planted are still in the table: repaired, not deleted.

    What it asserts:
        Every row of ``table`` that one of the listed faults planted (the manifest's
        ``row_ids``) still exists there with the same ``key`` — its other columns may have
        been corrected. A wrong total, a missing category or a date typed wrong is repaired
        in its row; deleting the row makes every integrity check pass and loses a sale.
    Arguments:
        table: the table, e.g. orders.
        faults: the fault ids whose rows must stay, e.g. [order_total_mismatch, future_orders].
    Feedback on failure:
        Partial credit per row. How many of the rows are gone, with their keys and the fault
        that planted them: these rows are real records with one wrong value.
    Example:
        - check: fault_rows_kept
          with: {table: orders, faults: [order_total_mismatch, negative_total_orders, future_orders]}
    """
    conn = ctx.grader()
    nsp, name = split_qualified(table, schema)
    wanted = [str(f) for f in as_list(faults)]
    planted: dict[str, str] = {}
    for fault in (ctx.manifest or {}).get("faults", []):
        if str(fault.get("id", "")) in wanted:
            for k in fault_rows(fault).get(name, set()):
                planted.setdefault(k, str(fault["id"]))
    if not planted:
        raise IncidentMismatch(f"faults {', '.join(wanted)} planted no rows in {display(nsp, name)}")
    try:
        rel = _relation(conn, table, schema, ctx=ctx)
    except LearnerFault as exc:
        raise LearnerFault(Outcome(False, exc.outcome().message
                                   + f" The {_plural(len(planted), 'row')} to repair went with it.")) from None
    (key_col,) = require_columns(conn, rel, [key])
    still = set(_rows_by_key(conn, rel, key_col, [key_col], planted))
    gone = sorted((k for k in planted if k not in still), key=_natural)
    total = len(planted)
    if not gone:
        return Outcome(True, f"All {_plural(total, 'row')} of {rel.display} the faults planted are still there.")
    by_fault: dict[str, list[str]] = {}
    for k in gone:
        by_fault.setdefault(planted[k], []).append(k)
    ev = (rows_evidence(f"Planted rows gone from {rel.display}", ("fault", "rows gone", "keys"),
                        [(f, len(ks), ", ".join(ks[:8]) + (" …" if len(ks) > 8 else "")) for f, ks in by_fault.items()]),)
    return Outcome(False, f"{_plural(len(gone), 'row')} of the {total} {rel.display} rows with a wrong value "
                          f"{'is' if len(gone) == 1 else 'are'} gone ({', '.join(by_fault)}). These are real "
                          "records with one wrong value: correct the value in place (keep the old one in an "
                          "evidence table) instead of deleting the record.", ev, score=(total - len(gone)) / total)


#: The rule checks ``integrity_checks_pass`` may run: they look at the learner's database alone.
RULE_CHECKS = ("no_orphans", "no_duplicates", "no_negative_values", "no_nulls", "no_future_values",
               "not_before_parent", "totals_match_items", "amcheck_passes")


@check
@on_contrasts_end_state
def integrity_checks_pass(ctx: CheckContext, *, checks: list[dict[str, Any]]) -> Outcome:
    """Every listed integrity rule holds at once: the "all data integrity checks pass" criterion.

    What it asserts:
        Each entry of ``checks`` — a rule check of this family (``no_orphans``,
        ``no_duplicates``, ``no_negative_values``, ``no_nulls``, ``no_future_values``,
        ``not_before_parent``, ``totals_match_items``, ``amcheck_passes``) with its
        arguments — passes on the learner's database. All or nothing: a success criterion
        is met only when no check fails. Pair it with ``fault_rows_kept`` and
        ``nothing_lost`` in ``requires: {all: […]}``, since deleting the bad rows also makes
        every rule hold.
    Arguments:
        checks: a list of ``{check: name, with: {arguments}}``, in the order they are reported.
    Feedback on failure:
        Which rules still fail, each with its own message (how many rows, a few of them),
        and how many of the rules hold.
    Example:
        - check: integrity_checks_pass
          with:
            checks:
              - {check: no_orphans, with: {child: order_items, column: order_id, parent: orders}}
              - {check: no_nulls, with: {table: products, column: stock_quantity}}
              - {check: totals_match_items, with: {allow_added_adjustment: true}}
    """
    problems = _rule_problems(checks)
    if problems:  # an exercise bug: `grade.py validate` reports the same
        raise ExerciseBug("integrity_checks_pass: " + "; ".join(f"{'.'.join(map(str, where))}: {msg}"
                                                                for where, msg in problems))
    rules = [(entry["check"], entry.get("with", {}), globals()[entry["check"]]) for entry in checks]
    rows, failed = [], []
    for name, args, func in rules:
        out = func(ctx, **args)
        what = f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})"
        rows.append((what, "holds" if out.passed else "fails", out.message))
        if not out.passed:
            failed.append(out.message)
    ev = (rows_evidence("Integrity checks", ("check", "result", "details"), rows, limit=50),)
    if not failed:
        return Outcome(True, f"All {len(rules)} integrity checks pass.", ev)
    return Outcome(False, f"{len(rules) - len(failed)} of {len(rules)} integrity checks pass; still failing: "
                          + " · ".join(failed), ev)


def _rule_problems(checks) -> list[tuple[list, str]]:
    """What is wrong with ``integrity_checks_pass``'s list of checks, as (key path, message)."""
    if not isinstance(checks, list) or not checks:
        return [(["checks"], "needs a non-empty list of {check: name, with: {arguments}}")]
    out: list[tuple[list, str]] = []
    for i, entry in enumerate(checks):
        where = ["checks", i]
        if not isinstance(entry, dict) or set(entry) - {"check", "with"} or "check" not in entry:
            out.append((where, "must be {check: name, with: {arguments}}"))
            continue
        name, args = entry["check"], entry.get("with", {})
        if name not in RULE_CHECKS:
            out.append((where + ["check"], f"{name!r} is not a rule check ({', '.join(RULE_CHECKS)})"))
            continue
        if not isinstance(args, dict):
            out.append((where + ["with"], "must be a mapping of arguments"))
            continue
        try:
            inspect.signature(globals()[name]).bind(None, **args)
        except TypeError as exc:
            out.append((where + ["with"], f"{name}: {exc}"))
            continue
        out += [(where + ["with", *path], f"{name}: {message}")
                for path, message in argument_problems(globals()[name], args)]
    return out


# Read by pgdrill.spec with getattr (checks/base.py: a check whose arguments nest further).
setattr(integrity_checks_pass, "argument_problems", lambda args: _rule_problems(args.get("checks")))
