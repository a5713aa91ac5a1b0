"""Catalog checks: what the schema holds — indexes, constraints, views, extensions, settings.

They read only the system catalogs (``pg_catalog.``-qualified, as role pgdrill_grader), so a
learner's ``public.pg_index`` view or ``public.pg_class`` table cannot answer for them — except
``view_rows_match``, which reads what a learner's view returns (as the grader, in a rolled-back
transaction set up like the results family's reference queries).
"""

from __future__ import annotations

import re
from typing import Literal

import psycopg
from psycopg import sql as psql

from pgdrill.checks import vacuum_thresholds
from pgdrill.checks.arguments import Columns, NumericTolerance, RowsMode, Schema, Table, Tables
from pgdrill.checks.base import CheckContext, ExerciseBug, Outcome, check
from pgdrill.checks.kit import ReferenceQueryError, error_text, grader_transaction, require_relation, sql_text
from pgdrill.checks.sql import (
    TABLE_KINDS, answer, as_list, column_names, display, find_relation, ident_name, missing_column,
    missing_relation_message, one_row, project_columns, query, rows_evidence, split_qualified,
)
from pgdrill.compare import compare_rows
from pgdrill.report import Evidence

# ------------------------------------------------------------------------------------------
# helpers


def _fmt_cols(cols) -> str:
    return "(" + ", ".join(str(c) for c in cols) + ")"


def _norm_expr(text: str | None) -> str:
    """A loose canonical form of an index expression for comparison.

    PostgreSQL prints ``lower(email)`` back as ``lower((email)::text)``; casts, parentheses,
    quotes, white space and case are dropped on both sides before comparing.
    """
    if not text:
        return ""
    s = text.lower()
    s = re.sub(r"::\s*[a-z_][a-z0-9_ .]*(\[\])?(\(\d+(,\s*\d+)?\))?", "", s)
    return re.sub(r"[\s()\"]", "", s)


def _index_rows(conn, oid: int) -> list[dict]:
    cur = conn.execute(query(conn, "catalog_indexes"), {"table_oid": oid})
    names = column_names(cur)
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _index_evidence(rel, indexes: list[dict]) -> Evidence:
    if not indexes:
        return Evidence(kind="text", title=f"Indexes of {rel.display}", body="(none)")
    rows = []
    for ix in indexes:
        state = "valid" if ix["is_valid"] and ix["is_ready"] and ix["is_live"] else "INVALID"
        rows.append((ix["index_name"], state, ix["definition"]))
    return rows_evidence(f"Indexes of {rel.display}", ("index", "state", "definition"), rows, limit=30)


# ------------------------------------------------------------------------------------------
# indexes


@check
def index_exists(ctx: CheckContext, *, table: Table, columns: Columns | None = None, method: str | None = None,
                 unique: bool | None = None, opclass: str | list[str | None] | None = None,
                 expression: str | None = None, schema: Schema = "public", prefix_ok: bool = False) -> Outcome:
    """A usable index exists on exactly these key columns, in this order.

    What it asserts:
        The table has an index that is VALID and READY (usable by the planner), not
        partial, whose key columns are exactly ``columns`` in that order (INCLUDE columns
        are ignored) — or, with ``prefix_ok``, whose leading key columns are. When given,
        the access method, uniqueness, operator class and key expression must match too.
        An INVALID index (left by a failed CREATE INDEX CONCURRENTLY) or a partial index
        does not count, and the message says so when that is what was found.
    Arguments:
        table: the table, ``name`` or ``schema.name``.
        columns: key column names in order; may be omitted when ``expression`` is given.
        method: access method the index must use (btree, gin, gist, brin, hash).
        unique: true for a UNIQUE index, false for a non-unique one; omitted: either.
        opclass: operator class for every key column (``gin_trgm_ops``), or a list with
            one entry per key column (null for any).
        expression: a key expression such as ``lower(email)``; compared loosely (casts,
            parentheses, spaces and case ignored). With ``columns`` it is an extra key
            after them.
        prefix_ok: accept an index whose leading key columns are the asked ones.
    Feedback on failure:
        Says which index was wanted (columns, method, opclass) and what the table has:
        no index at all, an index on other or more columns, the wrong method or operator
        class, or a matching index that is INVALID or partial and so cannot serve the
        query. The table's index definitions are attached.
    Example:
        - check: index_exists
          with: {table: products, columns: [name], method: gin, opclass: gin_trgm_ops}
    """
    conn = ctx.grader()
    rel = require_relation(conn, table, schema)
    want_cols = [ident_name(c) for c in as_list(columns)]
    want_keys: list[tuple[str, str]] = [("col", c) for c in want_cols]
    if expression:
        want_keys.append(("expr", _norm_expr(str(expression))))
    if not want_keys:
        raise ExerciseBug("index_exists needs columns or expression")
    want_opc = as_list(opclass)
    if isinstance(opclass, str):
        want_opc = [opclass] * len(want_keys)
    want_text = _fmt_cols(want_cols + ([expression] if expression else []))
    extras = []
    if method:
        extras.append(f"using {method}")
    if opclass:
        extras.append(f"with operator class {opclass if isinstance(opclass, str) else ', '.join(map(str, opclass))}")
    if unique is True:
        extras.append("UNIQUE")
    want_desc = f"an index on {rel.display} {want_text}" + (" " + " ".join(extras) if extras else "")

    indexes = _index_rows(conn, rel.oid)
    evidence = (_index_evidence(rel, indexes),)

    def key_matches(ix, pos, kind, value) -> bool:
        if kind == "col":
            return ix["key_columns"][pos] == value
        return ix["key_columns"][pos] is None and _norm_expr(ix["key_defs"][pos]) == value

    def keys_state(ix) -> str:
        n, have = len(want_keys), len(ix["key_columns"])
        if have < n or not all(key_matches(ix, p, k, v) for p, (k, v) in enumerate(want_keys)):
            return "other"
        return "exact" if have == n else "prefix"

    near: list[str] = []  # why each index with the right keys still does not count
    for ix in indexes:
        state = keys_state(ix)
        if state == "other":
            continue
        name = ix["index_name"]
        keys = _fmt_cols(ix["key_defs"])
        problems = []
        if state == "prefix" and not prefix_ok:
            problems.append(f"{name} is on {keys}: the asked columns are only its leading part, "
                            f"exactly {want_text} was asked")
        if method and ix["method"] != str(method).lower():
            problems.append(f"{name} is a {ix['method']} index, {method} was asked")
        if want_opc:
            for pos, want in enumerate(want_opc[: len(want_keys)]):
                if want and ix["opclasses"][pos] != str(want):
                    problems.append(f"{name} uses operator class {ix['opclasses'][pos]} on "
                                    f"{ix['key_defs'][pos]}, {want} was asked")
        if unique is not None and bool(ix["is_unique"]) != bool(unique):
            problems.append(f"{name} is {'UNIQUE' if ix['is_unique'] else 'not unique'}, "
                            f"{'a UNIQUE' if unique else 'a non-unique'} index was asked")
        if ix["predicate"]:
            problems.append(f"{name} is partial (WHERE {ix['predicate']}), so it only covers some rows")
        if not (ix["is_valid"] and ix["is_ready"] and ix["is_live"]):
            problems.append(f"{name} is INVALID — a failed CREATE INDEX CONCURRENTLY leaves such an "
                            f"index behind; the planner never uses it. Drop it and build it again "
                            f"(or REINDEX INDEX CONCURRENTLY {name})")
        if not problems:
            return Outcome(True, f"{name} serves: {ix['definition']}.", evidence)
        near.extend(problems)

    if near:
        return Outcome(False, f"Want {want_desc}; none counts: " + "; ".join(near) + ".", evidence)
    if indexes:
        have = ", ".join(f"{ix['index_name']} {_fmt_cols(ix['key_defs'])}" for ix in indexes)
        msg = (f"Want {want_desc}; have only {have}. Without a matching index the query reads "
               f"the whole table.")
    else:
        msg = f"Want {want_desc}; the table has no indexes at all, so every lookup reads the whole table."
    return Outcome(False, msg, evidence)


@check
def no_invalid_indexes(ctx: CheckContext, *, schema: Schema = "public") -> Outcome:
    """No index in the schema is left INVALID or not ready.

    What it asserts:
        Every index in ``schema`` is valid, ready and live (pg_index.indisvalid,
        indisready, indislive).
    Arguments:
        schema: the schema to inspect (default public).
    Feedback on failure:
        Lists the broken indexes. An INVALID index, usually left by a failed or cancelled
        CREATE INDEX CONCURRENTLY, is never used for queries yet is still maintained on
        every write: drop it, or rebuild it with REINDEX INDEX CONCURRENTLY.
    Example:
        - check: no_invalid_indexes
          with: {schema: public}
    """
    conn = ctx.grader()
    nsp = ident_name(schema)
    cur = conn.execute(query(conn, "catalog_invalid_indexes"), {"schema": nsp})
    rows = cur.fetchall()
    if not rows:
        return Outcome(True, f"Every index in schema {nsp} is valid.")
    names = ", ".join(f"{r[1]} on {r[0]}" for r in rows)
    ev = rows_evidence("Invalid indexes", ("table", "index", "valid", "ready", "live", "definition"), rows, limit=20)
    return Outcome(False, f"{len(rows)} invalid index{'es' if len(rows) != 1 else ''} in {nsp}: {names}. "
                          "An invalid index is never used by the planner but still slows every write; "
                          "DROP INDEX CONCURRENTLY it or REINDEX INDEX CONCURRENTLY it.", (ev,))


@check
def no_unindexed_foreign_keys(ctx: CheckContext, *, schema: Schema = "public") -> Outcome:
    """Every foreign key in the schema has an index that supports it.

    What it asserts:
        For each foreign key of a table in ``schema``, some valid, non-partial index of the
        referencing table has the key's columns (in any order) as its leading columns — the
        diagnosis "foreign keys without an index", run again after the learner's changes. Put
        it after a fix that drops indexes: dropping *both* indexes of a duplicate pair, or an
        index that looked unused, can leave a key with none.
    Arguments:
        schema: the schema to inspect (default public).
    Feedback on failure:
        Lists each foreign key without an index (table, constraint, columns, referenced
        table): every lookup by that key and every DELETE on the referenced table then reads
        the whole referencing table. Of two identical indexes, drop one and keep the other.
    Example:
        - check: no_unindexed_foreign_keys
          with: {schema: public}
    """
    conn = ctx.grader()
    nsp = ident_name(schema)
    rows = conn.execute(query(conn, "catalog_unindexed_foreign_keys"), {"schema": nsp}).fetchall()
    if not rows:
        return Outcome(True, f"Every foreign key in schema {nsp} has an index that supports it.")
    names = ", ".join(f"{r[1]} on {r[0]} ({r[2]})" for r in rows[:10]) + (" …" if len(rows) > 10 else "")
    ev = rows_evidence("Foreign keys without an index", ("table", "constraint", "columns", "references"), rows,
                       limit=30)
    return Outcome(False, f"{len(rows)} foreign key(s) in {nsp} have no index now: {names}. Without one, every lookup "
                          "by the key and every DELETE on the referenced table reads the whole referencing table. "
                          "Of two identical indexes, drop one and keep the other.", (ev,))


@check
def index_absent(ctx: CheckContext, *, name: str, table: Table | None = None, schema: Schema = "public") -> Outcome:
    """An index of this name does not exist (it was dropped).

    What it asserts:
        No index called ``name`` exists in ``schema`` (and, when ``table`` is given, none
        by that name on that table).
    Arguments:
        name: the index name, ``name`` or ``schema.name``.
        table: optional table the index belonged to.
        schema: schema of the index when ``name`` is not qualified (default public).
    Feedback on failure:
        Names the index that still exists, with its definition: an unused or duplicate
        index costs space and slows every INSERT, UPDATE and DELETE.
    Example:
        - check: index_absent
          with: {name: idx_orders_status_dup, table: orders}
    """
    conn = ctx.grader()
    nsp, iname = split_qualified(name, schema)
    row = conn.execute(query(conn, "catalog_index_by_name"), {"schema": nsp, "name": iname}).fetchone()
    if row is None:
        return Outcome(True, f"No index {display(nsp, iname)} exists.")
    if table is not None:
        tnsp, tname = split_qualified(table, schema)
        if tnsp != nsp or tname != row[1]:
            return Outcome(True, f"{display(nsp, iname)} exists, but on {row[1]}, not on {display(tnsp, tname)}.")
    return Outcome(False, f"The index {display(nsp, iname)} still exists on {row[1]}: {row[4]}. "
                          "Every index is updated on each write to its table, so one that no query "
                          "needs only costs.", (Evidence("sql", "Definition", row[4]),))


@check
def no_duplicate_indexes(ctx: CheckContext, *, table: Table | None = None, schema: Schema = "public") -> Outcome:
    """No two valid indexes of a table have the same definition.

    What it asserts:
        Among valid indexes (of ``table``, or of every table in ``schema``) no two share
        access method, key and INCLUDE columns, operator classes, collations, sort
        options, expressions and predicate. A UNIQUE index (or primary key) and a plain
        index on the same key count as duplicates: the plain one is redundant.
    Arguments:
        table: one table to inspect; omitted: every table of the schema.
        schema: the schema (default public).
    Feedback on failure:
        Lists each group of identical indexes and which ones can go (the non-unique ones
        when a unique index covers the same key). A duplicate index doubles the write cost
        and the space and buys nothing.
    Example:
        - check: no_duplicate_indexes
          with: {table: orders}
    """
    conn = ctx.grader()
    nsp = ident_name(schema)
    oid = None
    where = f"schema {nsp}"
    if table is not None:
        rel = require_relation(conn, table, schema)
        oid, nsp, where = rel.oid, rel.schema, rel.display
    rows = conn.execute(query(conn, "catalog_duplicate_indexes"), {"schema": nsp, "table_oid": oid}).fetchall()
    if not rows:
        return Outcome(True, f"No duplicate indexes in {where}.")
    parts, ev_rows = [], []
    for tname, names, uniques, defs in rows:
        keep = names[0]
        drop = [n for n, u in zip(names[1:], uniques[1:]) if not u] or names[1:]
        parts.append(f"on {tname}: {', '.join(names)} are identical (drop {', '.join(drop)}, keep {keep})")
        ev_rows += [(tname, n, "unique" if u else "", d) for n, u, d in zip(names, uniques, defs)]
    ev = rows_evidence("Duplicate indexes", ("table", "index", "unique", "definition"), ev_rows, limit=30)
    return Outcome(False, "Duplicate indexes " + "; ".join(parts) + ". Each copy is written on every "
                   "change to the table and takes space, and the planner only ever needs one.", (ev,))


# ------------------------------------------------------------------------------------------
# constraints

_KINDS = {"primary_key": "p", "foreign_key": "f", "unique": "u", "check": "c", "not_null": "n",
          "exclusion": "x"}
_KIND_WORDS = {"p": "PRIMARY KEY", "f": "FOREIGN KEY", "u": "UNIQUE", "c": "CHECK", "n": "NOT NULL",
               "x": "EXCLUDE"}


@check
def constraint_exists(ctx: CheckContext, *, table: Table,
                      kind: Literal["primary_key", "foreign_key", "unique", "check", "not_null", "exclusion"],
                      columns: Columns | None = None, references: Table | None = None,
                      ref_columns: Columns | None = None, validated: bool = True, schema: Schema = "public") -> Outcome:
    """A constraint of this kind exists on these columns (and is validated).

    What it asserts:
        ``table`` has a constraint of ``kind`` on ``columns``: for primary_key, unique and
        foreign_key the key columns in that order; for check the set of columns its
        expression uses (any check constraint when ``columns`` is omitted); for not_null
        every listed column is NOT NULL. A foreign key must reference ``references``
        (and ``ref_columns`` when given). With ``validated`` (the default) a constraint
        added NOT VALID does not count until VALIDATE CONSTRAINT has run, and one made NOT
        ENFORCED (PostgreSQL 18) never counts. What enforces the same rule counts too: for
        unique, a valid non-partial UNIQUE index on the columns, or an exclusion constraint
        whose operators are all the built-in = on those columns (in any order); for check on one column (or
        any check), a validated CHECK of the column's domain type (or of a domain that type is
        built on). A trigger does not count as a CHECK (it can be switched off per session and
        never looks at the rows already there); judge what it does with ``column_rule_enforced``.
        Nor does a domain's NOT NULL count for not_null: PostgreSQL lets NULLs of a NOT NULL
        domain through (a scalar subquery or outer join that finds nothing), a column NOT NULL
        has no such hole.
    Arguments:
        table: the table, ``name`` or ``schema.name``.
        kind: primary_key, foreign_key, unique, check or not_null.
        columns: the constrained columns (a name or a list).
        references: for foreign_key, the referenced table.
        ref_columns: for foreign_key, the referenced columns (default: not compared).
        validated: require the constraint to be validated (default true).
    Feedback on failure:
        Says which constraint was wanted and what the table has. For a NOT VALID
        constraint it explains that new rows are checked but existing rows were never
        verified, and that ALTER TABLE … VALIDATE CONSTRAINT checks them without blocking
        writes. The table's constraints are attached.
    Example:
        - check: constraint_exists
          with: {table: order_items, kind: foreign_key, columns: [order_id], references: orders}
    """
    conn = ctx.grader()
    code = _KINDS.get(str(kind).lower())
    if code is None:
        raise ExerciseBug(f"constraint_exists: unknown kind {kind!r}; use one of {', '.join(_KINDS)}")
    rel = require_relation(conn, table, schema)
    cols = [ident_name(c) for c in as_list(columns)]
    if code == "n":
        return _not_null(conn, rel, cols, validated)
    if code in ("p", "u", "f") and not cols:
        raise ExerciseBug(f"constraint_exists: kind {kind} needs columns")

    cur = conn.execute(query(conn, "catalog_constraints"), {"table_oid": rel.oid})
    cons = [dict(zip(column_names(cur), r)) for r in cur.fetchall()]
    evidence = (rows_evidence(f"Constraints of {rel.display}", ("name", "definition", "validated"),
                              [(c["name"], c["definition"], "yes" if c["validated"] else "NOT VALID") for c in cons],
                              limit=30),)
    ref_rel = None
    if code == "f":
        if references is None:
            raise ExerciseBug("constraint_exists: kind foreign_key needs references")
        rnsp, rname = split_qualified(references, rel.schema)
        ref_rel = (rnsp, rname)
    want_ref_cols = [ident_name(c) for c in as_list(ref_columns)]
    word = _KIND_WORDS[code]
    want = f"a {word} constraint on {rel.display} {_fmt_cols(cols)}" if cols else f"a {word} constraint on {rel.display}"
    if ref_rel:
        want += f" referencing {display(*ref_rel)}" + (f" {_fmt_cols(want_ref_cols)}" if want_ref_cols else "")

    def same_cols(c) -> bool:
        if not cols:
            return True
        if code == "c":
            return sorted(c["columns"]) == sorted(cols)
        return list(c["columns"]) == cols

    near: list[str] = []
    unproven: list[Outcome] = []  # constraints that exist but do not (yet) bind the rows
    for c in cons:
        if c["kind"] != code or not same_cols(c):
            continue
        if code == "f":
            if (c["ref_schema"], c["ref_table"]) != ref_rel:
                near.append(f"{c['name']} references {display(c['ref_schema'], c['ref_table'])} instead")
                continue
            if want_ref_cols and list(c["ref_columns"]) != want_ref_cols:
                near.append(f"{c['name']} references columns {_fmt_cols(c['ref_columns'])} instead")
                continue
        if c.get("enforced") is False:  # PostgreSQL 18: a constraint that checks nothing
            unproven.append(Outcome(False, (
                f"{c['name']} ({c['definition']}) exists but is NOT ENFORCED: PostgreSQL checks no row "
                f"against it, old or new, so it prevents nothing. Enforce it again (for a foreign key: "
                f"ALTER TABLE {rel.display} ALTER CONSTRAINT {c['name']} ENFORCED, which also checks the "
                f"existing rows)."), evidence))
            continue
        if validated and not c["validated"]:
            unproven.append(Outcome(False, (
                f"{c['name']} ({c['definition']}) exists but is NOT VALID: PostgreSQL checks new and "
                f"updated rows against it, but the rows already in the table were never verified and "
                f"may still break it. Fix those rows, then run ALTER TABLE {rel.display} VALIDATE "
                f"CONSTRAINT {c['name']} (it does not block reads or writes while it checks)."), evidence))
            continue
        return Outcome(True, f"{c['name']}: {c['definition']}.", evidence)

    if code == "c" and len(cols) <= 1:  # a domain's CHECK binds every value of a column of that type
        domain_ok = _domain_check(conn, rel, cols, validated, near)
        if domain_ok is not None:
            return Outcome(True, domain_ok, evidence)
    if unproven:
        return unproven[0]
    if code == "u":
        for name, ex_cols, definition in conn.execute(query(conn, "catalog_exclusion_uniques"),
                                                      {"table_oid": rel.oid}).fetchall():
            if sorted(ex_cols) == sorted(cols):
                return Outcome(True, f"{name} ({definition}) refuses two rows with equal {_fmt_cols(cols)}: "
                                     "uniqueness, as an exclusion constraint.", evidence)
        for ix in _index_rows(conn, rel.oid):
            if (ix["is_unique"] and list(ix["key_columns"]) == cols and not ix["predicate"]
                    and ix["is_valid"] and ix["is_ready"] and ix["is_live"]):
                return Outcome(True, f"The unique index {ix['index_name']} enforces uniqueness of "
                                     f"{_fmt_cols(cols)} (it is an index, not a constraint).", evidence)
    if near:
        return Outcome(False, f"Want {want}; " + "; ".join(near) + ".", evidence)
    return Outcome(False, f"Want {want}; there is none, so nothing stops bad rows from coming back.", evidence)


def _domain_check(conn, rel, cols, validated, near: list[str]) -> str | None:
    """Why a CHECK of a domain counts as the CHECK on this column, or None (reasons go to ``near``).

    A column of a domain type can only hold values that pass the domain's CHECKs (and those of
    the domains below it): that enforces the rule as a table CHECK does. A trigger is no CHECK:
    it can be disabled (session_replication_role = replica skips it), never looks at the rows
    already there and cannot be validated — ``column_rule_enforced`` judges what a trigger does.
    """
    rows = conn.execute(query(conn, "catalog_domain_checks"), {"table_oid": rel.oid}).fetchall()
    for column, column_type, domain, name, valid, definition in rows:
        if cols and column != cols[0]:
            continue
        of = f"domain {column_type}" + (f" (built on {domain})" if domain != column_type else "")
        if validated and not valid:
            near.append(f"{column} is of {of}, whose CHECK {name} is NOT VALID: values already stored were never "
                        f"verified (ALTER DOMAIN {domain} VALIDATE CONSTRAINT {name})")
            continue
        return (f"{column} is of {of}, whose CHECK {name} ({definition}) every value of the column must pass: a "
                f"CHECK on the column by way of its type.")
    return None


def _not_null(conn, rel, cols, validated) -> Outcome:
    if not cols:
        raise ExerciseBug("constraint_exists: kind not_null needs columns")
    rows = conn.execute(query(conn, "catalog_not_null"), {"table_oid": rel.oid, "columns": cols}).fetchall()
    ok, problems = 0, []
    for col, exists, not_null, valid, conname in rows:
        if not exists:
            problems.append(f"column {col} does not exist")
        elif not not_null:
            problems.append(f"{col} allows NULL")
        elif validated and not valid:
            problems.append(f"{col} has NOT NULL constraint {conname} marked NOT VALID: existing rows were "
                            f"never checked; run ALTER TABLE {rel.display} VALIDATE CONSTRAINT {conname}")
        else:
            ok += 1
    if not problems:
        return Outcome(True, f"{_fmt_cols(cols)} of {rel.display} are NOT NULL.")
    return Outcome(False, f"Want NOT NULL on {rel.display} {_fmt_cols(cols)}: " + "; ".join(problems) + ".",
                   score=ok / len(cols) if len(cols) > 1 else None)


# ------------------------------------------------------------------------------------------
# views, settings, extensions


@check
def view_exists(ctx: CheckContext, *, name: str, columns: Columns | None = None, ordered: bool = False,
                schema: Schema = "public") -> Outcome:
    """A view (or materialized view) of this name exists, with these columns.

    What it asserts:
        ``name`` is a view or a materialized view (pg_class.relkind 'v' or 'm') — a
        table of that name does not count. When ``columns`` is given the view has exactly
        those columns, in any order unless ``ordered`` is true.
    Arguments:
        name: the view, ``name`` or ``schema.name``.
        columns: the column names the view must have.
        ordered: require the columns in the given order.
        schema: schema of the view when ``name`` is not qualified (default public).
    Feedback on failure:
        Says whether nothing of that name exists, a table stands in for the view (a table
        is a snapshot that goes stale; a view is recomputed when queried), or which
        columns are missing or unexpected.
    Example:
        - check: view_exists
          with: {name: db_health_summary, columns: [metric_type, item, value]}
    """
    conn = ctx.grader()
    rel = find_relation(conn, name, schema)
    nsp, vname = split_qualified(name, schema)
    if rel is None:
        return Outcome(False, f"There is no view {display(nsp, vname)}.")
    if rel.relkind not in ("v", "m"):
        return Outcome(False, f"{rel.display} is a {rel.kind_word}, not a view: a table holds a copy of the "
                              "data as it was, while a view is recomputed each time it is queried. "
                              "Use CREATE VIEW.")
    if columns is None:
        return Outcome(True, f"{rel.display} is a {rel.kind_word}.")
    have = [r[0] for r in conn.execute(query(conn, "catalog_columns"), {"oid": rel.oid}).fetchall()]
    want = [ident_name(c) for c in as_list(columns)]
    ev = (Evidence("text", f"Columns of {rel.display}", ", ".join(have)),)
    if ordered:
        if have == want:
            return Outcome(True, f"{rel.display} has columns {_fmt_cols(want)}.", ev)
        return Outcome(False, f"{rel.display} has columns {_fmt_cols(have)}, want {_fmt_cols(want)} in this order.", ev)
    missing = [c for c in want if c not in have]
    extra = [c for c in have if c not in want]
    if not missing and not extra:
        return Outcome(True, f"{rel.display} has columns {_fmt_cols(want)}.", ev)
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if extra:
        parts.append(f"unexpected {', '.join(extra)}")
    return Outcome(False, f"{rel.display} has columns {_fmt_cols(have)}, want {_fmt_cols(want)}: "
                          + "; ".join(parts) + ".", ev)


@check
def autovacuum_enabled(ctx: CheckContext, *, tables: Tables, schema: Schema = "public") -> Outcome:
    """Autovacuum runs on these tables: switched on, and not tuned into never running.

    What it asserts:
        The server settings autovacuum and track_counts are on, no listed table has the
        storage parameter ``autovacuum_enabled`` set to false, and the settings that remain
        would still have autovacuum act at least as early as PostgreSQL's stock settings do:
        vacuum after at most 20 % of the rows + 50 are dead, analyze after at most 10 % + 50
        changed — every parameter taken together, from the table or else from the server (see
        ``autovacuum_runs``, which takes other bounds). ``autovacuum_enabled = on`` with a
        scale factor of 100 or a threshold of two billion is autovacuum off in all but name,
        and fails.
    Arguments:
        Only the shared ``tables`` and ``schema``.
    Feedback on failure:
        Names the tables where autovacuum never runs and why (autovacuum_enabled = false —
        fix with ALTER TABLE … RESET (autovacuum_enabled) — or off server-wide), or after how
        many rows it would act and which parameters make it that late. Without autovacuum dead
        tuples pile up, tables bloat and statistics go stale. Partial credit per table.
    Example:
        - check: autovacuum_enabled
          with: {tables: [products, orders, order_items]}
    """
    return vacuum_thresholds.judge(ctx.grader(), tables, schema, vacuum_after=0.2, analyze_after=0.1)


@check
def extension_installed(ctx: CheckContext, *, name: str, schema: str | None = None) -> Outcome:
    """An extension is installed in this database.

    What it asserts:
        ``name`` appears in pg_extension (in ``schema`` when given).
    Arguments:
        name: the extension, e.g. pg_trgm.
        schema: the schema it must be installed in; omitted: any.
    Feedback on failure:
        Says the extension is missing and whether the server offers it (then CREATE
        EXTENSION name installs it), or that it sits in another schema.
    Example:
        - check: extension_installed
          with: {name: pg_trgm}
    """
    conn = ctx.grader()
    ext = str(name)
    _, ext_schema, version, available = one_row(conn.execute(query(conn, "catalog_extension"), {"name": ext}))
    if ext_schema is None:
        if available:
            return Outcome(False, f"The extension {ext} is not installed; the server offers it, so "
                                  f"CREATE EXTENSION {ext} installs it.")
        return Outcome(False, f"The extension {ext} is not installed, and this server does not offer it.")
    if schema is not None and ident_name(schema) != ext_schema:
        return Outcome(False, f"The extension {ext} is installed in schema {ext_schema}, want {ident_name(schema)}.")
    return Outcome(True, f"{ext} {version} is installed in schema {ext_schema}.")


# ------------------------------------------------------------------------------------------
# what a view returns, storage parameters

VIEW_ROW_CAP = 10_000


def _fetch_capped(conn, statement, cursor_name: str):
    with conn.cursor(name=cursor_name) as cur:
        cur.execute(statement)
        rows = cur.fetchmany(VIEW_ROW_CAP + 1)
        columns = tuple(d.name for d in (cur.description or ()))
    return columns, rows[:VIEW_ROW_CAP], len(rows) > VIEW_ROW_CAP


@check
def view_rows_match(ctx: CheckContext, *, name: str, reference: str | list[str], columns: Columns | None = None,
                    mode: RowsMode = "bag", numeric_tolerance: NumericTolerance = 1e-6, schema: Schema = "public",
                    change: str | None = None) -> Outcome:
    """The view returns the same rows as the reference query, both read by the grader at once.

    What it asserts:
        ``SELECT * FROM name`` and ``reference``, run by the grader one after the other in one
        rolled-back transaction (with ``stats_fetch_consistency = snapshot``, so both see the
        same cumulative statistics), return the same rows — compared by position, or only the
        columns named in ``columns`` (by name) — as a bag (or a set) of rows, numbers within
        ``numeric_tolerance``. Unlike ``rows_match`` this needs no named learner query and
        grades what the view shows now, not what it showed while the learner's file ran: for a
        monitoring view over live statistics, the moment matters. ``reference`` may list more
        than one query when more than one answer is right (a share of dead rows computed from
        n_live_tup, or from pg_class.reltuples, or from an exact count): the view passes when
        it matches any of them, all read in the same transaction. With ``change``, the data
        under the view change first, in that same transaction (run as role learner, who owns
        the data; rolled back like everything else): a view must follow them, and a snapshot
        (a view over a table made with CREATE TABLE … AS, a materialized view) cannot.
    Arguments:
        name: the view (or table), ``name`` or ``schema.name``.
        reference: SQL returning the rows the view should return, or a list of such queries,
            each a right answer; failures are reported against the first.
        columns: optional list of column names to compare (by name) instead of all columns.
        schema: schema of the view when ``name`` is not qualified (default public).
        change: optional SQL (one or more statements) that changes the data the view reads —
            say, an order line for a product nobody bought — run before the view is read.
    Feedback on failure:
        Says that the view is missing, or that querying it fails and with which error (a view
        that errors on this database is broken for its users too), or how many expected rows
        are missing and how many unexpected rows it returns, with up to five of each (the
        expected ones, and the reference query, for instructors only); after a ``change``,
        that the view did not follow the data and so shows a copy, not the data as they are.
    Example:
        - check: view_rows_match
          with:
            name: db_health_summary
            columns: [metric_type, item]
            reference: "SELECT 'Dead Tuples' AS metric_type, relname::text AS item FROM pg_stat_user_tables"
    """
    conn = ctx.grader() if change is None else ctx.learner()
    rel = find_relation(conn, name, schema)
    nsp, vname = split_qualified(name, schema)
    if rel is None:
        return Outcome(False, f"There is no view {display(nsp, vname)}, so there is nothing to compare.")
    alternatives = [sql_text(str(r)) for r in (reference if isinstance(reference, (list, tuple)) else [reference])]
    ref_text = alternatives[0]
    others: list[tuple] = []
    with grader_transaction(conn):
        conn.execute("SELECT pg_catalog.set_config('stats_fetch_consistency', 'snapshot', true)")
        if change is not None:
            try:
                with conn.transaction():
                    conn.execute(str(change))
            except psycopg.Error as exc:
                raise ReferenceQueryError(f"the spec's change failed: {error_text(exc)}") from exc
        try:
            with conn.transaction():
                view_cols, view_rows, view_cut = _fetch_capped(
                    conn, psql.SQL("SELECT * FROM {}").format(rel.ident), "pgdrill_view")
        except psycopg.Error as exc:
            return Outcome(False, f"Querying {rel.display} fails on this database: {error_text(exc)}. A "
                                  "monitoring view that errors shows nothing at the moment it is needed.",
                           (Evidence("sql", "The grader ran", f"SELECT * FROM {rel.display}"),))
        try:
            ref_cols, ref_rows, ref_cut = _fetch_capped(conn, ref_text, "pgdrill_view_reference")
            for i, text in enumerate(alternatives[1:], start=1):
                others.append(_fetch_capped(conn, text, f"pgdrill_view_reference_{i}"))
        except psycopg.Error as exc:
            raise ReferenceQueryError(f"the reference query failed: {error_text(exc)}",
                                      getattr(exc, "sqlstate", "") or "", error_text(exc)) from exc
    if ref_cut or any(cut for _, _, cut in others):
        raise ReferenceQueryError(f"the reference query returned more than {VIEW_ROW_CAP} rows")
    if view_cut:
        return Outcome(False, f"{rel.display} returns more than {VIEW_ROW_CAP} rows; the reference returns "
                              f"{len(ref_rows)}. Look for a missing join condition.")
    expected, actual = list(ref_rows), list(view_rows)
    shown_cols = view_cols
    if columns:
        # The projection is checks/sql.py's (missing_column, project_columns), as in results.py's
        # rows_match; the messages and the kind of exercise bug are this check's own.
        wanted = [ident_name(c) for c in as_list(columns)]
        missing = missing_column(view_cols, wanted)
        if missing is not None:
            return Outcome(False, f"{rel.display} has no column {missing!r} (its columns: {', '.join(view_cols)}).")
        ref_missing = missing_column(ref_cols, wanted)
        if ref_missing is not None:
            raise ExerciseBug(f"view_rows_match: the reference query has no column {ref_missing!r}")
        actual = project_columns(view_cols, actual, wanted)
        expected = project_columns(ref_cols, expected, wanted)
        shown_cols = ref_cols = tuple(wanted)
    cmp = compare_rows(expected, actual, mode=mode, numeric_tolerance=numeric_tolerance, max_examples=5)
    compared = f" (comparing {', '.join(shown_cols)})" if columns else ""
    if cmp.equal:
        return Outcome(True, f"{rel.display} returns the expected {len(expected)} row(s){compared}.")
    for i, (alt_cols, alt_rows, _) in enumerate(others, start=1):
        alt = list(alt_rows)
        if columns:
            wanted = [ident_name(c) for c in as_list(columns)]
            alt_missing = missing_column(alt_cols, wanted)
            if alt_missing is not None:
                raise ExerciseBug(f"view_rows_match: right answer {i + 1} has no column {alt_missing!r}")
            alt = project_columns(alt_cols, alt, wanted)
        if compare_rows(alt, list(actual), mode=mode, numeric_tolerance=numeric_tolerance, max_examples=0).equal:
            return Outcome(True, f"{rel.display} returns the expected {len(alt)} row(s){compared}, as right answer "
                                 f"{i + 1} of {len(alternatives)} computes them.")
    evidence = [Evidence("sql", "Expected rows come from", ref_text, instructor_only=True)]
    if cmp.column_count_mismatch:
        # The comparison's examples: the first rows of each, sorted (a view's rows have no order).
        evidence += [answer(rows_evidence("Expected (first rows)", ref_cols, cmp.missing, total=len(expected))),
                     rows_evidence(f"{rel.display} (first rows)", shown_cols, cmp.extra, total=len(actual))]
        return Outcome(False, f"{rel.display} returns {len(view_cols)} column(s) ({', '.join(view_cols)}); the "
                              f"expected rows have {len(ref_cols)} ({', '.join(ref_cols)}).", tuple(evidence))
    parts = []
    if cmp.missing_count:
        parts.append(f"{cmp.missing_count} expected row(s) are missing")
        evidence.append(answer(rows_evidence(f"Missing from {rel.display}", ref_cols, cmp.missing,
                                             total=cmp.missing_count)))
    if cmp.extra_count:
        parts.append(f"{cmp.extra_count} row(s) should not be there")
        evidence.append(rows_evidence(f"Unexpected rows in {rel.display}", shown_cols, cmp.extra,
                                      total=cmp.extra_count))
    detail = " and ".join(parts) or (cmp.message or "the rows differ")
    followed = ("" if change is None else
                " The grader changed the data under the view first (in a transaction it rolled back): a view "
                "runs its query on the data as they are now, so a view that misses the change shows a copy "
                "taken earlier (a table made with CREATE TABLE … AS, a materialized view), right only until "
                "the data change.")
    return Outcome(False, f"{rel.display} returns {len(actual)} row(s){compared}, the expected result has "
                          f"{len(expected)}: {detail}.{followed}", tuple(evidence))


def _as_float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@check
def table_storage_parameter(ctx: CheckContext, *, tables: Tables, parameter: str, at_most: float | None = None,
                            at_least: float | None = None, equals: str | float | bool | None = None,
                            schema: Schema = "public") -> Outcome:
    """These tables have a storage parameter set to a fitting value (e.g. a fillfactor).

    What it asserts:
        For each table, the storage parameter ``parameter`` (``ALTER TABLE … SET (parameter =
        …)``, read from pg_class.reloptions) is at most ``at_most``, at least ``at_least`` and/or
        equal to ``equals``. A table without the parameter counts with the server's setting of
        the same name when there is one (``autovacuum_vacuum_scale_factor`` …), so a server-wide
        value that already fits is accepted; otherwise an unset parameter fails. One parameter
        alone says little about autovacuum (a small scale factor next to a huge threshold never
        vacuums): judge when autovacuum would run with ``autovacuum_runs`` instead.
    Arguments:
        parameter: the storage parameter, e.g. autovacuum_vacuum_scale_factor.
        at_most: the largest accepted value (numbers).
        at_least: the smallest accepted value (numbers).
        equals: the required value (compared as a number when both are numbers, else as
            text, case-insensitively).
    Feedback on failure:
        Per table, the value found (or that it is unset and which server default applies) and
        the value wanted, with the ALTER TABLE … SET statement that fixes it. Partial credit
        per table.
    Example:
        - check: table_storage_parameter
          with: {tables: [orders], parameter: fillfactor, at_most: 90}
    """
    if at_most is None and at_least is None and equals is None:
        raise ExerciseBug("table_storage_parameter needs at_most, at_least or equals")
    conn = ctx.grader()
    names = as_list(tables)
    if not names:
        raise ExerciseBug("table_storage_parameter needs tables")
    param = str(parameter).strip().lower()
    server = conn.execute("SELECT setting FROM pg_catalog.pg_settings WHERE name = %s", (param,)).fetchone()
    server_value = server[0] if server else None
    wanted = []
    if at_most is not None:
        wanted.append(f"≤ {at_most}")
    if at_least is not None:
        wanted.append(f"≥ {at_least}")
    if equals is not None:
        wanted.append(f"= {equals}")
    want = " and ".join(wanted)

    def fits(value) -> bool:
        num = _as_float(value)
        if at_most is not None and (num is None or num > float(at_most)):
            return False
        if at_least is not None and (num is None or num < float(at_least)):
            return False
        if equals is not None:
            if num is not None and _as_float(equals) is not None:
                return num == float(equals)
            return str(value).strip().lower() == str(equals).strip().lower()
        return True

    ok, problems, ev_rows = 0, [], []
    for t in names:
        rel = find_relation(conn, t, schema)
        if rel is None or rel.relkind not in TABLE_KINDS:
            problems.append(missing_relation_message(*split_qualified(t, schema)).rstrip("."))
            continue
        row = conn.execute(query(conn, "catalog_storage_parameter"), {"table_oid": rel.oid, "name": param}).fetchone()
        value = row[0] if row else None
        if value is None:
            effective, shown = server_value, (f"(not set: server default {server_value})" if server_value is not None
                                              else "(not set)")
        else:
            effective, shown = value, value
        ev_rows.append((rel.display, shown))
        if effective is not None and fits(effective):
            ok += 1
        elif value is None:
            problems.append(f"{rel.display} does not set {param}"
                            + (f", so the server default {server_value} applies" if server_value is not None else ""))
        else:
            problems.append(f"{rel.display} has {param} = {value}")
    ev = (rows_evidence(f"{param} per table", ("table", param), ev_rows, limit=50),)
    if not problems:
        return Outcome(True, f"{param} is {want} for {', '.join(map(str, names))}.", ev)
    example = f"ALTER TABLE {names[0]} SET ({param} = {equals if equals is not None else at_most if at_most is not None else at_least});"
    return Outcome(False, f"Want {param} {want}: " + "; ".join(problems) + f". Set it per table, e.g. {example}",
                   ev, score=ok / len(names))
