"""Probe checks: try a statement as the learner and see what the database does with it.

A probe runs inside a transaction that is always rolled back, behind a savepoint and with
its own statement and lock timeouts and search_path, so it leaves no rows, schema changes or
settings behind, and no search_path the learner stored on their role can aim it at a decoy.
(Sequences are not transactional: an INSERT into a serial column still advances its
sequence, which leaves a gap in the ids and nothing else.)
"""

from __future__ import annotations

import re

import psycopg
from psycopg import errors, sql

from checks.base import CheckContext, Outcome, check
from checks.sql import as_list
from pgdrill.report import Evidence

DEFAULT_TIMEOUT = "5s"
# The application's view of the database: public (pg_catalog is always searched first).
PROBE_SEARCH_PATH = "public"
_TRANSACTION_CONTROL = re.compile(
    r"^\s*(begin|start\s+transaction|commit|end|rollback|abort|savepoint|release|prepare\s+transaction)\b",
    re.IGNORECASE)


def _sqlstate(code_or_name: str) -> str:
    """A five-character SQLSTATE from a code (23503) or condition name (foreign_key_violation)."""
    text = str(code_or_name).strip()
    if re.fullmatch(r"[0-9A-Z]{5}", text):
        return text
    try:
        return errors.lookup(text.upper()).sqlstate
    except KeyError:
        raise ValueError(f"unknown SQLSTATE or condition name {code_or_name!r}") from None


def _condition(code: str) -> str:
    try:
        cls = errors.lookup(code)
    except KeyError:
        return code
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
    return f"{code} {name}"


def run_probe(ctx: CheckContext, statement: str, *, as_role: str = "learner", timeout: str = DEFAULT_TIMEOUT):
    """Run ``statement`` once as the learner and roll it back.

    Returns ``(error or None, rowcount)``. The statement runs in its own transaction
    (BEGIN … ROLLBACK, always) behind a savepoint, with local statement and lock timeouts.
    """
    if as_role != "learner":
        raise ValueError(f"probes run as the learner only, not as {as_role!r}")
    if _TRANSACTION_CONTROL.match(statement or ""):
        raise ValueError("a probe statement must not control the transaction (BEGIN, COMMIT, ROLLBACK, …)")
    conn = ctx.learner()
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()
    error, rowcount = None, -1
    with conn.transaction(force_rollback=True):
        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(str(timeout))))
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(str(timeout))))
        # The application's path, not one the learner stored on their role (ALTER ROLE learner
        # SET search_path = decoy, public would aim the probe at a decoy table).
        conn.execute("SELECT pg_catalog.set_config('search_path', %s, true)", (PROBE_SEARCH_PATH,))
        try:
            with conn.transaction():  # a savepoint: the failure stays inside it
                # binary=True makes psycopg use the extended protocol, which takes exactly one
                # statement: "INSERT …; COMMIT" cannot smuggle a COMMIT past the rollback.
                cur = conn.execute(statement, binary=True)
                rowcount = cur.rowcount
        except psycopg.Error as exc:
            error = exc
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:  # pragma: no cover - belt and braces
        conn.rollback()
    return error, rowcount


def _error_text(exc: psycopg.Error) -> str:
    diag = exc.diag
    parts = [f"ERROR {exc.sqlstate}: {diag.message_primary or exc}"]
    if diag.message_detail:
        parts.append(f"DETAIL: {diag.message_detail}")
    if diag.constraint_name:
        parts.append(f"constraint: {diag.constraint_name}")
    return "\n".join(parts)


@check
def statement_fails(ctx: CheckContext, *, sql, sqlstate, as_role="learner", timeout=DEFAULT_TIMEOUT) -> Outcome:
    """The database rejects this statement with this SQLSTATE.

    What it asserts:
        Run as the learner in a transaction that is always rolled back, ``sql`` fails with
        ``sqlstate`` (or one of a list): e.g. 23503 (foreign key), 23514 (check), 23505
        (unique), 23502 (not null). Nothing is left behind either way.
    Arguments:
        sql: one statement that a constraint should stop.
        sqlstate: the expected SQLSTATE code or condition name, or a list of them.
        as_role: who runs it; only learner is supported.
        timeout: statement and lock timeout for the probe (default 5s).
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
    want = [_sqlstate(s) for s in as_list(sqlstate)]
    if not want:
        raise ValueError("statement_fails needs sqlstate")
    error, _ = run_probe(ctx, sql, as_role=as_role, timeout=timeout)
    want_text = " or ".join(_condition(w) for w in want)
    stmt = Evidence("sql", "Probe (rolled back)", sql)
    if error is None:
        return Outcome(False, f"Want the statement rejected with {want_text}; it succeeded, so nothing prevents "
                              "this any more.", (stmt,))
    found = Evidence("text", "Error", _error_text(error))
    if error.sqlstate in want:
        return Outcome(True, f"Rejected as expected ({_condition(error.sqlstate)}: "
                             f"{error.diag.message_primary}).", (stmt, found))
    if isinstance(error, errors.QueryCanceled):
        return Outcome(False, f"Want {want_text}; the statement did not finish within {timeout} (is something "
                              "holding a lock?).", (stmt, found))
    return Outcome(False, f"Want {want_text}; the statement failed with {_condition(error.sqlstate or '?????')} "
                          f"instead: {error.diag.message_primary or error}.", (stmt, found))


@check
def statement_succeeds(ctx: CheckContext, *, sql, as_role="learner", min_rows=None,
                       timeout=DEFAULT_TIMEOUT) -> Outcome:
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
        timeout: statement and lock timeout for the probe (default 5s).
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
        return Outcome(False, f"The statement should work but failed with {_condition(error.sqlstate or '?????')}: "
                              f"{error.diag.message_primary or error}. Valid work is now rejected.",
                       (stmt, Evidence("text", "Error", _error_text(error))))
    if min_rows is not None and rowcount < int(min_rows):
        return Outcome(False, f"The statement ran but touched {max(rowcount, 0)} rows, want at least {min_rows}.",
                       (stmt,))
    return Outcome(True, "The statement works" + (f" ({rowcount} rows)" if rowcount >= 0 else "") + "; rolled back.",
                   (stmt,))
