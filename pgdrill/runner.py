"""Run a learner's SQL file the way psql would, but under the grader's control.

- As role ``learner`` on the exercise's clone, autocommit (psql's default), statement by
  statement, so one bad statement is reported with its file and line and the rest still run.
- Statements that cannot run in a transaction block (CREATE INDEX CONCURRENTLY, VACUUM)
  just work, because nothing wraps them in one; an explicit BEGIN … COMMIT behaves as in psql.
- psql meta-commands learners leave in files (``\\timing``, ``\\x``, ``\\d``) are skipped;
  those that would reach outside the database (``\\!``, ``\\o``, ``\\copy``, ``\\i``,
  ``\\c``) are refused and reported, and so is a statement sent with ``\\g FILE``,
  ``\\gexec``, ``\\gset``, ``\\gdesc`` or ``\\watch``.
- ``COPY … FROM STDIN`` / ``TO STDOUT`` exchange rows with psql, which the grader does not
  emulate: the statement is refused, and since the server then waits for data that never
  comes, its session is replaced. Any session left not idle after an error is replaced too,
  so one statement never takes the rest of the file down with it.
- A report lists at most ``MAX_OUTCOMES`` statement outcomes per file, then one line that
  counts the rest by status: half a million meta-commands make a line, not 100 MB.
- Time limits are the grader's own: the session's ``statement_timeout`` is only the first
  line, since a learner can ``SET statement_timeout = 0``. A timer cancels the statement a
  little after its limit, and terminates the backend (as superuser) if cancelling does not
  help; the runner then reconnects and goes on with the next statement.
- Rows are streamed with a cap on their number, so a runaway ``SELECT`` (a cross join)
  costs neither memory nor time; only the rows of named statements are kept.
- Bytes are capped before they reach this process: the session talks to the server through
  :mod:`pgdrill.relay`, which passes no row over ``relay.ROW_BYTES`` (1 MiB) and no more than
  ``relay.TOTAL_BYTES`` (32 MiB) of a statement's rows. A named statement over a cap fails
  with a message that names the cap (its rows are what the checks grade: whole or nothing);
  an unnamed one runs to its end with the rows it could not pass counted. What is kept of a
  named result is measured again as Python values (``MAX_CAPTURE_BYTES``), since a numeric[]
  or a JSON document takes many times its text. The learner's statement itself is sent as
  written, once: no wrapper changes its text, plan, columns or effects.
- Statements preceded by ``-- name: something`` have their rows captured for the checks.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator, cast

import psycopg
from psycopg import generators, waiting

from pgdrill.fixtures.sandbox import LEARNER
from pgdrill import relay as wire
from pgdrill import submission
from pgdrill.report import StatementOutcome
from pgdrill.sqlsplit import Statement, classify, decide, split_sql

if TYPE_CHECKING:  # pragma: no cover
    from pgdrill.fixtures.server import Server

MAX_FILE_BYTES = submission.MAX_FILE_BYTES
DEFAULT_ROW_CAP = 10_000
# Bytes of captured rows kept per named statement, as the values take them (``held_size``).
MAX_CAPTURE_BYTES = 32 * 1024 * 1024
# Statement outcomes kept per file in a report; the rest are counted.
MAX_OUTCOMES = 500
_COPY = re.compile(r"^\s*copy\b", re.IGNORECASE)
_RETURNING = re.compile(r"\breturning\b", re.IGNORECASE)


@dataclass(frozen=True)
class CapturedResult:
    """The rows a named learner query returned (at most ``row_cap`` of them)."""

    name: str
    file: str
    line: int
    columns: tuple[str, ...]
    type_oids: tuple[int, ...]
    rows: tuple[tuple, ...]
    truncated: bool = False
    error: str = ""


@dataclass
class RunResult:
    statements: list[StatementOutcome] = field(default_factory=list)
    captured: dict[str, CapturedResult] = field(default_factory=dict)

    @property
    def errors(self) -> list[StatementOutcome]:
        return [s for s in self.statements if s.status in ("error", "timeout", "refused")]


@dataclass
class LearnerSession:
    """A learner connection plus the means to stop it from outside."""

    server: Server
    dbname: str
    user: str = LEARNER
    statement_timeout: float = 10.0
    conn: psycopg.Connection | None = None
    relay: wire.Relay | None = None

    def open(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed:
            ms = int(self.statement_timeout * 1000)
            if self.relay is None:  # every byte the server sends this session passes its caps
                self.relay = wire.Relay.for_server(self.server, self.dbname)
            self.conn = self.server.connect(
                self.dbname, self.user, purpose="learner", autocommit=True,
                options=f"-c statement_timeout={ms} -c lock_timeout={ms} -c idle_in_transaction_session_timeout=0",
                **self.relay.params(),
            )
        return self.conn

    def close(self) -> None:
        if self.conn is not None and not self.conn.closed:
            try:
                if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    self.conn.rollback()
            except psycopg.Error:
                pass
            self.conn.close()
        self.conn = None

    def end(self) -> None:
        self.close()
        if self.relay is not None:
            self.relay.close()
            self.relay = None


class _Deadline:
    """Cancel, then terminate, a statement that outlives its limit.

    ``statement_timeout`` would normally fire first; this timer is for learners who turned
    it off (or for work the server does not check the timeout in).
    """

    CANCEL_GRACE = 1.0
    TERMINATE_GRACE = 3.0

    def __init__(self, session: LearnerSession, limit: float) -> None:
        self.session = session
        self.limit = limit
        self.fired = ""
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> "_Deadline":
        conn = self.session.conn
        assert conn is not None, "the statement's session is open before its deadline starts"
        self._pid = conn.info.backend_pid
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        if self._done.wait(self.limit + self.CANCEL_GRACE):
            return
        self.fired = "cancelled"
        try:
            if self.session.conn is not None:
                self.session.conn.cancel_safe(timeout=2)
        except Exception:  # noqa: BLE001 - cancelling is best effort; termination follows
            pass
        if self._done.wait(self.TERMINATE_GRACE):
            return
        self.fired = "terminated"
        try:
            with self.session.server.connect("postgres", purpose="janitor") as admin:
                admin.execute("SELECT pg_catalog.pg_terminate_backend(%s)", (self._pid,))
        except psycopg.Error:
            pass


def _decode(data: bytes) -> tuple[str, str]:
    """Text of a learner file and a warning if it was not valid UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return data.decode("utf-8", errors="replace"), f"line {line}: bytes that are not UTF-8"


def run_sql_file(server, dbname: str, path: Path, *, display_name: str | None = None,
                 statement_timeout: float = 10.0, file_timeout: float = 120.0,
                 row_cap: int = DEFAULT_ROW_CAP, user: str = LEARNER) -> RunResult:
    """Run one learner file; never raises for anything the file contains.

    The file is read as :func:`pgdrill.submission.read_file` reads a submission: not through
    a link, only a regular file, at most ``MAX_FILE_BYTES``; otherwise one line says why.
    """
    name = display_name or path.name
    result = RunResult()
    try:
        data = submission.read_file(path.parent, path, MAX_FILE_BYTES)
    except submission.Missing:
        result.statements.append(StatementOutcome(name, 0, "", "error", f"missing file: {name} was not found"))
        return result
    except submission.Refused as exc:
        result.statements.append(StatementOutcome(name, 0, "", "refused", f"not read: {exc}"))
        return result
    except OSError as exc:
        result.statements.append(StatementOutcome(name, 0, "", "error", f"cannot read the file: {exc.strerror}"))
        return result
    return run_sql_bytes(server, dbname, data, display_name=name, statement_timeout=statement_timeout,
                         file_timeout=file_timeout, row_cap=row_cap, user=user, result=result)


def run_sql_bytes(server, dbname: str, data: bytes, *, display_name: str = "<sql>",
                  statement_timeout: float = 10.0, file_timeout: float = 120.0,
                  row_cap: int = DEFAULT_ROW_CAP, user: str = LEARNER, result: RunResult | None = None) -> RunResult:
    """Run a learner file's bytes (already read, within ``MAX_FILE_BYTES``)."""
    text, warning = _decode(data)
    return run_sql_text(server, dbname, text, file_name=display_name, statement_timeout=statement_timeout,
                        file_timeout=file_timeout, row_cap=row_cap, user=user, decode_warning=warning,
                        result=result)


def run_sql_text(server, dbname: str, text: str, *, file_name: str = "<sql>", statement_timeout: float = 10.0,
                 file_timeout: float = 120.0, row_cap: int = DEFAULT_ROW_CAP, user: str = LEARNER,
                 decode_warning: str = "", result: RunResult | None = None) -> RunResult:
    result = result if result is not None else RunResult()
    statements = split_sql(text)
    session = LearnerSession(server, dbname, user, statement_timeout)
    started = time.monotonic()
    kept = 0
    unlisted: dict[str, int] = {}
    try:
        for stmt in statements:
            outcome = _run_one(session, stmt, file_name, result, started, statement_timeout, file_timeout,
                               row_cap, decode_warning)
            if kept < MAX_OUTCOMES:
                result.statements.append(outcome)
                kept += 1
            else:
                unlisted[outcome.status] = unlisted.get(outcome.status, 0) + 1
        if unlisted:
            counts = ", ".join(f"{n} {status}" for status, n in sorted(unlisted.items()))
            worst = next((st for st in ("timeout", "error", "refused") if st in unlisted), "skipped")
            result.statements.append(StatementOutcome(
                file_name, statements[-1].line, "", worst,
                f"{sum(unlisted.values())} more statements are not listed ({counts}): a report lists the "
                f"first {MAX_OUTCOMES}"))
        if session.conn is not None and not session.conn.closed:
            status = session.conn.info.transaction_status
            if status != psycopg.pq.TransactionStatus.IDLE:
                result.statements.append(StatementOutcome(
                    file_name, statements[-1].end_line if statements else 0, "", "error",
                    "the file ended inside a transaction (BEGIN without COMMIT): its changes were rolled back"))
    finally:
        session.end()
    return result


def _run_one(session: LearnerSession, stmt: Statement, file_name: str, result: RunResult, started: float,
             statement_timeout: float, file_timeout: float, row_cap: int, decode_warning: str) -> StatementOutcome:
    if stmt.kind == "meta":
        shown = "\\" + stmt.meta + (" " + stmt.args if stmt.args else "")
        decision = decide(stmt)
        if decision.action == "skip":
            return StatementOutcome(file_name, stmt.line, shown, "skipped", decision.reason)
        return StatementOutcome(file_name, stmt.line, shown, "refused", f"not run: {decision.reason}")
    decision = decide(stmt)
    if decision.action == "refuse":  # \g FILE, \gexec …: the query would do more than run
        return StatementOutcome(file_name, stmt.line, stmt.sql, "refused", f"not run: {decision.reason}")
    if "\ufffd" in stmt.sql and decode_warning:
        return StatementOutcome(file_name, stmt.line, stmt.sql, "refused", f"not run: {decode_warning}")
    remaining = file_timeout - (time.monotonic() - started)
    if remaining <= 0:
        return StatementOutcome(file_name, stmt.line, stmt.sql, "timeout",
                                f"not run: the file exceeded its {file_timeout:g} s limit")
    try:
        conn = session.open()
    except psycopg.Error as exc:
        return StatementOutcome(file_name, stmt.line, stmt.sql, "error", f"could not connect: {exc}")
    limit = min(statement_timeout, remaining)
    t0 = time.monotonic()
    rows: list[tuple] = []
    truncated = False
    columns: tuple[str, ...] = ()
    oids: tuple[int, ...] = ()
    deadline = _Deadline(session, limit)
    # The relay caps the bytes that reach this process (a row, a named result: see
    # pgdrill/relay.py); what is kept of a named result is capped again here, as the values
    # psycopg made of those bytes (a numeric[] or a JSON document takes several times its
    # text in Python objects).
    assert session.relay is not None, "a statement runs on a connected session, which has its relay"
    wire_stats = session.relay.begin(named=bool(stmt.name))
    too_large = ""
    try:
        with deadline:
            cur = conn.cursor()
            streamed = classify(stmt) == "query" or bool(_RETURNING.search(stmt.sql))
            seen = size = 0
            if streamed:
                # A generator (typed as an Iterator by psycopg): closing it ends the query.
                gen = cast("Generator[tuple[Any, ...], None, None]", cur.stream(stmt.sql))
                try:
                    for row in gen:
                        if seen >= row_cap:
                            truncated = True
                            conn.cancel_safe(timeout=2)
                            break
                        seen += 1
                        if stmt.name:  # only named results are kept for the checks
                            size += held_size(row)
                            if size > MAX_CAPTURE_BYTES:
                                too_large, rows = _held_cap_message(), []
                                conn.cancel_safe(timeout=2)
                                break
                            rows.append(row)
                except psycopg.ProgrammingError as exc:
                    # WITH … UPDATE/DELETE without RETURNING starts like a query but returns no
                    # rows: the server ran it and answered with a command tag, not an error.
                    if seen or "didn't produce a result" not in str(exc):
                        raise
                finally:
                    try:
                        gen.close()
                    except psycopg.errors.QueryCanceled:
                        pass
            else:
                cur.execute(stmt.sql)
                if cur.description is not None:
                    # At most TOTAL_BYTES of rows came (the relay dropped the rest of an unnamed
                    # result and failed a named one); rows become values one by one.
                    if stmt.name:
                        while len(rows) < row_cap and (fetched := cur.fetchone()) is not None:
                            row = fetched
                            size += held_size(row)
                            if size > MAX_CAPTURE_BYTES:
                                too_large, rows = _held_cap_message(), []
                                break
                            rows.append(row)
                        truncated = not too_large and cur.fetchone() is not None
                    else:
                        seen = min(cur.rowcount, row_cap)
                        truncated = cur.rowcount > row_cap
            if cur.description is not None:
                columns = tuple(col.name for col in cur.description)
                oids = tuple(col.type_code for col in cur.description)
            elif streamed and not seen and stmt.name:
                columns, oids = _describe(conn, stmt.sql)
            if cur.description is not None or wire_stats.dropped:  # (all rows dropped: no description)
                rowcount = (seen if streamed or not stmt.name else len(rows)) + wire_stats.dropped
            else:
                rowcount = cur.rowcount
    except psycopg.Error as exc:
        elapsed = time.monotonic() - t0
        sqlstate = getattr(exc, "sqlstate", "") or ""
        if deadline.fired == "terminated" or conn.closed or conn.broken:
            session.close()
            if not deadline.fired:  # the statement ended its own session (pg_terminate_backend)
                lost = ((exc.diag.message_primary if hasattr(exc, "diag") else None) or str(exc)).strip()
                return StatementOutcome(file_name, stmt.line, stmt.sql, "error",
                                        f"the session was lost ({lost}); the next statement runs in a new one",
                                        sqlstate, -1, elapsed)
            return StatementOutcome(file_name, stmt.line, stmt.sql, "timeout",
                                    f"stopped by the grader after {limit:g} s (the session was terminated)",
                                    sqlstate, -1, elapsed)
        if conn.pgconn.transaction_status == psycopg.pq.TransactionStatus.ACTIVE:
            # The server still waits for this statement's exchange (COPY to or from the client):
            # nothing else can run on this session, so the next statement gets a new one.
            session.close()
            replaced = "; the session was replaced (an open transaction was rolled back)"
            if _COPY.match(stmt.sql):
                return StatementOutcome(file_name, stmt.line, stmt.sql, "refused",
                                        "not run: COPY … FROM STDIN / TO STDOUT exchanges rows with psql, which "
                                        "the grader does not emulate; use INSERT … VALUES or a SELECT" + replaced,
                                        sqlstate, -1, elapsed)
            message = (exc.diag.message_primary or str(exc)).strip() if hasattr(exc, "diag") else str(exc)
            return StatementOutcome(file_name, stmt.line, stmt.sql, "error", message + replaced, sqlstate, -1, elapsed)
        if deadline.fired or sqlstate == "57014":
            return StatementOutcome(file_name, stmt.line, stmt.sql, "timeout",
                                    f"cancelled: the statement ran longer than {limit:g} s", sqlstate, -1, elapsed)
        message = (exc.diag.message_primary or str(exc)).strip() if hasattr(exc, "diag") else str(exc)
        _capture(result, stmt, file_name, (), (), [], False, message)
        return StatementOutcome(file_name, stmt.line, stmt.sql, "error", message, sqlstate, -1, elapsed)
    elapsed = time.monotonic() - t0
    if too_large:
        _capture(result, stmt, file_name, (), (), [], False, too_large)
        return StatementOutcome(file_name, stmt.line, stmt.sql, "error", too_large, "54000", -1, elapsed)
    _capture(result, stmt, file_name, columns, oids, rows, truncated, "")
    notes = []
    if truncated:
        notes.append(f"{max(seen, len(rows))} rows (stopped at the {row_cap}-row cap)")
    if wire_stats.dropped:
        notes.append(f"{wire_stats.dropped} rows larger than {wire.mib(wire_stats.row_bytes)} (or past "
                     f"{wire.mib(wire_stats.total_bytes)} in all) were counted, not read")
    return StatementOutcome(file_name, stmt.line, stmt.sql, "ok", "; ".join(notes), "", rowcount, elapsed)


def _held_cap_message() -> str:
    return (f"its rows take more than {wire.mib(MAX_CAPTURE_BYTES)} of the grader's memory as values, the most "
            "it keeps of a named query: return fewer or smaller rows")


def _describe(conn: psycopg.Connection, text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Column names and type OIDs of a query that returned no rows.

    A streamed result with no rows leaves psycopg no description (the server's row
    description comes with the first row), yet "no rows, columns pid and query" is what the
    checks must compare. The statement is parsed again without running it (the protocol's
    Parse and Describe, on the unnamed statement), inside a savepoint when the learner has a
    transaction open, so a failure here never touches the learner's work. Nothing comes back
    (no columns known) when it cannot be described.
    """
    pgconn = conn.pgconn
    in_block = pgconn.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    if pgconn.transaction_status not in (psycopg.pq.TransactionStatus.IDLE, psycopg.pq.TransactionStatus.INTRANS):
        return (), ()
    ok = (psycopg.pq.ExecStatus.COMMAND_OK,)
    encoding = conn.info.encoding or "utf-8"

    def exchange(send, *args):
        # Sent, then awaited without blocking in libpq: libpq's blocking calls (exec_,
        # prepare) would hold the interpreter while the relay thread that must pass the
        # answer waits for it.
        send(*args)
        results = waiting.wait(generators.execute(pgconn), pgconn.socket)
        return results[-1] if results else None

    try:
        if in_block:
            saved = exchange(pgconn.send_query, b"SAVEPOINT pgdrill_describe")
            if saved is None or saved.status not in ok:
                return (), ()
        try:
            prepared = exchange(pgconn.send_prepare, b"", text.encode(encoding, errors="replace"))
            described = (exchange(pgconn.send_describe_prepared, b"")
                         if prepared is not None and prepared.status in ok else None)
        finally:
            if in_block:
                exchange(pgconn.send_query, b"ROLLBACK TO SAVEPOINT pgdrill_describe")
                exchange(pgconn.send_query, b"RELEASE SAVEPOINT pgdrill_describe")
    except psycopg.Error:
        return (), ()
    if described is None or described.status not in ok:
        return (), ()
    names = tuple((described.fname(i) or b"").decode(encoding, errors="replace")
                  for i in range(described.nfields))
    return names, tuple(described.ftype(i) for i in range(described.nfields))


def row_size(row) -> int:
    """Rough size of a row's values: enough to stop keeping rows long before memory is at risk."""
    size = 0
    for value in row:
        if isinstance(value, (str, bytes, bytearray, memoryview)):
            size += len(value)
        elif value is None or isinstance(value, (int, float, bool)):
            size += 8
        else:
            size += len(str(value))
    return size


def held_size(row) -> int:
    """What a learner's row takes in the grader's memory, roughly: text and bytes by their
    length, containers (arrays, JSON) with their elements, each value with an object's
    overhead — a numeric[] of one-digit values takes fifty times its text."""
    size, stack = 0, list(row)
    while stack:
        value = stack.pop()
        size += 56  # an object and the pointer to it
        if isinstance(value, (str, bytes, bytearray, memoryview)):
            size += len(value)
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, dict):
            size += 48 * len(value)
            stack.extend(value.keys())
            stack.extend(value.values())
        elif value is not None and not isinstance(value, (int, float, bool)):
            size += len(str(value))
    return size


def _capture(result: RunResult, stmt: Statement, file_name: str, columns, oids, rows, truncated, error) -> None:
    if stmt.name:
        result.captured[stmt.name] = CapturedResult(stmt.name, file_name, stmt.line, tuple(columns), tuple(oids),
                                                    tuple(tuple(r) for r in rows), truncated, error)
