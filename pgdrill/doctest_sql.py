"""Run the SQL blocks of a Markdown document as a learner would, and check what the text promises.

Every fenced block whose info string is ``sql`` is run in document order as **one learner
file** through :func:`pgdrill.runner.run_sql_text`: role ``learner``, one session in
autocommit, statement by statement, so what one block creates or ``SET``s is there for the
next, as in a psql session. psql display commands are skipped as the runner skips them.

A block may be preceded by a directive, an HTML comment that renders as nothing. It must be
the last non-blank line before the opening fence::

    <!-- expect: rows=15; fault=orphan_order_items -->

Items are separated by ``;``; a value runs to the next ``;`` (surrounding spaces dropped).

``rows=N``         the block's result has N rows (returned, or changed by an UPDATE/DELETE/…)
``value=TEXT``     the first column of its first row, printed as psql prints it
                   (``t``/``f`` for booleans, ``NULL`` for a null)
``contains=TEXT``  its rows, printed one per line with `` | `` between columns, contain TEXT
                   (may be repeated)
``lacks=TEXT``     … do not contain TEXT (may be repeated)
``error=CODE``     exactly one statement of the block fails, with SQLSTATE CODE (the rest
                   succeed). Without it, every statement of every block must succeed
``fault=ID[+ID]``  the number given by ``rows=`` or ``value=`` is the manifest's count of
                   fault ID (summed over ``+``): the prose cannot drift from the incident
``server>=N``      the expectations apply only on PostgreSQL N or later (``server<N``:
                   before N); the block still runs and must still succeed

The block's *result* is its last statement that returned rows (a query, ``EXPLAIN``, ``…
RETURNING``); when none did, its last statement that changed rows.

``python -m pgdrill.doctest_sql docs/walkthrough.md`` runs a document on a throwaway server
and a fresh incident clone and prints what each block returned.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pgdrill.runner import CapturedResult, run_sql_text
from pgdrill.report import StatementOutcome
from pgdrill.sqlsplit import classify, split_sql

_DIRECTIVE = re.compile(r"^\s*<!--\s*expect\s*:(?P<body>.*?)-->\s*$", re.I)
_DIRECTIVE_START = re.compile(r"^\s*<!--\s*expect\b", re.I)
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*?)\s*$")
_SERVER_COND = re.compile(r"^server\s*(?P<op>>=|<)\s*(?P<major>\d+)$")
_REPEATABLE = ("contains", "lacks")
_KEYS = ("rows", "value", "contains", "lacks", "error", "fault")
# As the runner decides it: DML with RETURNING returns rows like a query.
_RETURNING = re.compile(r"\breturning\b", re.IGNORECASE)


class DirectiveError(ValueError):
    """A directive that cannot be understood, or that stands where no SQL block follows."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Expectation:
    line: int                      # the directive's line in the document
    rows: int | None = None
    value: str | None = None
    contains: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()
    error: str | None = None
    faults: tuple[str, ...] = ()
    server_op: str = ""            # ">=" or "<", with server_major
    server_major: int = 0

    def applies_to(self, major: int) -> bool:
        if not self.server_op:
            return True
        return major >= self.server_major if self.server_op == ">=" else major < self.server_major


@dataclass(frozen=True)
class Block:
    """One ```sql block: its text, where it is, and what it promises."""

    index: int
    line: int                      # document line of the block's first SQL line
    sql: str
    expect: Expectation | None = None

    @property
    def first_line(self) -> str:
        for text in self.sql.splitlines():
            if text.strip() and not text.strip().startswith("--"):
                return text.strip()
        return self.sql.strip().splitlines()[0] if self.sql.strip() else ""


def parse_directive(body: str, line: int) -> Expectation:
    values: dict[str, Any] = {"contains": [], "lacks": []}
    op, major = "", 0
    for item in (part.strip() for part in body.split(";")):
        if not item:
            continue
        cond = _SERVER_COND.match(item.replace(" ", ""))
        if cond:
            op, major = cond.group("op"), int(cond.group("major"))
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or key not in _KEYS:
            raise DirectiveError(line, f"unknown expectation {item!r}; known: {', '.join(_KEYS)}, server>=N, server<N")
        if not value:
            raise DirectiveError(line, f"{key}= needs a value")
        if key in _REPEATABLE:
            values[key].append(value)
            continue
        if key in values:
            raise DirectiveError(line, f"{key}= given twice")
        if key == "rows":
            if not value.isdigit():
                raise DirectiveError(line, f"rows= takes a whole number, not {value!r}")
            values[key] = int(value)
        elif key == "error":
            if not re.fullmatch(r"[0-9A-Z]{5}", value):
                raise DirectiveError(line, f"error= takes a five-character SQLSTATE, not {value!r}")
            values[key] = value
        elif key == "fault":
            values[key] = tuple(v.strip() for v in value.split("+"))
        else:
            values[key] = value
    faults = values.get("fault", ())
    if faults:
        number = values.get("rows", values.get("value"))
        if number is None or not str(number).lstrip("-").isdigit():
            raise DirectiveError(line, "fault= needs a number to compare: give rows=N or value=N")
    if values.get("error") and (values.get("rows") is not None or values.get("value") is not None):
        raise DirectiveError(line, "error= cannot be combined with rows= or value=")
    return Expectation(line=line, rows=values.get("rows"), value=values.get("value"),
                       contains=tuple(values["contains"]), lacks=tuple(values["lacks"]),
                       error=values.get("error"), faults=tuple(faults), server_op=op, server_major=major)


def parse_markdown(text: str) -> list[Block]:
    """The document's ```sql blocks with their directives, in order."""
    lines = text.splitlines()
    blocks: list[Block] = []
    pending: Expectation | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            marker, info = fence.group("fence"), fence.group("info")
            language = info.split()[0].lower() if info else ""
            j = i + 1
            while j < len(lines):
                close = _FENCE.match(lines[j])
                if close and close.group("fence")[0] == marker[0] and len(close.group("fence")) >= len(marker) \
                        and not close.group("info"):
                    break
                j += 1
            if j == len(lines):
                raise DirectiveError(i + 1, "code block is never closed")
            if language == "sql":
                blocks.append(Block(len(blocks), i + 2, "\n".join(lines[i + 1:j]) + "\n", pending))
            elif pending is not None:
                raise DirectiveError(pending.line, f"the directive is followed by a ```{language} block, not ```sql")
            pending = None
            i = j + 1
            continue
        if _DIRECTIVE_START.match(line):
            match = _DIRECTIVE.match(line)
            if not match:
                raise DirectiveError(i + 1, "a directive is one line: <!-- expect: key=value; … -->")
            if pending is not None:
                raise DirectiveError(pending.line, "the directive is not followed by a ```sql block")
            pending = parse_directive(match.group("body"), i + 1)
        elif line.strip() and pending is not None:
            raise DirectiveError(pending.line, "the directive must stand right before its ```sql block")
        i += 1
    if pending is not None:
        raise DirectiveError(pending.line, "the directive is not followed by a ```sql block")
    return blocks


# ------------------------------------------------------------------------------- running


@dataclass
class BlockRun:
    """What happened to one block."""

    block: Block
    statements: list[StatementOutcome] = field(default_factory=list)
    results: list[CapturedResult] = field(default_factory=list)   # one per SQL statement, in order
    queries: list[bool] = field(default_factory=list)              # … and whether it returns rows

    @property
    def sql_statements(self) -> list[StatementOutcome]:
        return [s for s in self.statements if not s.sql.startswith("\\")]  # meta-commands show as "\\x" …

    @property
    def result(self) -> tuple[StatementOutcome, CapturedResult, bool] | None:
        """The block's result and whether it is a set of rows (else a count of changed rows).

        Its last statement that returned rows (maybe none); if none did, its last statement that
        changed rows.
        """
        done = [(s, r, q or bool(r.columns)) for s, r, q in zip(self.sql_statements, self.results, self.queries)
                if s.status == "ok"]
        for outcome, captured, returns_rows in reversed(done):
            if returns_rows:
                return outcome, captured, True
        for outcome, captured, _ in reversed(done):
            if outcome.rowcount >= 0:
                return outcome, captured, False
        return None

    def rows_text(self) -> str:
        found = self.result
        if found is None or not found[2]:
            return ""
        return "\n".join(" | ".join(psql_text(v) for v in row) for row in found[1].rows)


def psql_text(value) -> str:
    """A value as psql prints it (close enough for expectations)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _marker(block: Block, k: int) -> str:
    return f"doctest_b{block.index}_s{k}"


def combine(blocks: list[Block]) -> tuple[str, dict[int, tuple[int, int]]]:
    """One learner file of every block, each SQL statement named so that its rows are captured.

    Returns the text and, for each of its lines, (block index, document line).
    """
    out: list[str] = []
    where: dict[int, tuple[int, int]] = {}
    for block in blocks:
        lines = block.sql.splitlines()
        statements = split_sql(block.sql)
        starts: dict[int, int] = {}
        previous_end = 0
        for k, stmt in enumerate(s for s in statements if s.kind == "sql"):
            if stmt.line == previous_end:
                raise DirectiveError(block.line + stmt.line - 1,
                                     "put each statement on its own line (one starts where another ends)")
            starts[stmt.line] = k
            previous_end = stmt.end_line
        for n, text in enumerate(lines, start=1):
            if n in starts:
                out.append(f"-- name: {_marker(block, starts[n])}")
                where[len(out)] = (block.index, block.line + n - 1)
            out.append(text)
            where[len(out)] = (block.index, block.line + n - 1)
    return "\n".join(out) + "\n", where


def run_blocks(server, dbname: str, blocks: list[Block], *, file_name: str = "walkthrough.md",
               statement_timeout: float = 30.0, file_timeout: float = 600.0) -> list[BlockRun]:
    """Run every block, in order, as one learner file on ``dbname``."""
    text, where = combine(blocks)
    result = run_sql_text(server, dbname, text, file_name=file_name, statement_timeout=statement_timeout,
                          file_timeout=file_timeout)
    runs = [BlockRun(b) for b in blocks]
    for outcome in result.statements:
        index, doc_line = where.get(outcome.line, (blocks[-1].index if blocks else 0, outcome.line))
        runs[index].statements.append(StatementOutcome(
            outcome.file, doc_line, outcome.sql, outcome.status, outcome.message, outcome.sqlstate,
            outcome.rowcount, outcome.duration_s))
    for run in runs:
        statements = [s for s in split_sql(run.block.sql) if s.kind == "sql"]
        names = [_marker(run.block, k) for k in range(len(statements))]
        run.results = [result.captured.get(name, CapturedResult(name, file_name, 0, (), (), ())) for name in names]
        # As the runner decides it: a query, or DML with RETURNING, returns rows (maybe none).
        run.queries = [classify(s) == "query" or bool(_RETURNING.search(s.sql)) for s in statements]
    return runs


# ------------------------------------------------------------------------------- checking


def fault_count(manifest: dict, fault_ids: tuple[str, ...]) -> int | None:
    by_id = {f["id"]: f for f in manifest.get("faults", [])}
    if any(f not in by_id for f in fault_ids):
        return None
    return sum(by_id[f]["count"] for f in fault_ids)


def problems(run: BlockRun, *, manifest: dict | None = None, server_major: int = 0) -> list[str]:
    """What the block promised and did not do; empty when it kept every promise."""
    block, expect = run.block, run.block.expect
    where = f"block at line {block.line} ({block.first_line[:60]!r})"
    out: list[str] = []
    refused = [s for s in run.statements if s.status == "refused"]
    for s in refused:
        out.append(f"{where}: line {s.line} was refused by the runner: {s.message}")
    failed = [s for s in run.statements if s.status in ("error", "timeout")]
    applies = expect is not None and expect.applies_to(server_major)
    if expect is not None and expect.error and applies:
        if len(failed) != 1 or failed[0].sqlstate != expect.error:
            have = ", ".join(f"line {s.line}: {s.sqlstate or s.status} {s.message}" for s in failed) or "no error"
            out.append(f"{where}: expected exactly one statement to fail with SQLSTATE {expect.error}; have {have}")
        return out
    for s in failed:
        out.append(f"{where}: line {s.line} failed: {s.sqlstate} {s.message}".rstrip())
    if failed or expect is None:
        return out
    if expect.faults and manifest is not None:
        want = expect.rows if expect.rows is not None else int(str(expect.value))
        count = fault_count(manifest, expect.faults)
        if count is None:
            out.append(f"{where}: fault={'+'.join(expect.faults)} is not in the manifest")
        elif count != want:
            out.append(f"{where}: the text says {want} but the manifest counts {count} for {'+'.join(expect.faults)}")
    if not applies:
        return out
    found = run.result
    if found is None:
        if expect.rows is not None or expect.value is not None or expect.contains or expect.lacks:
            out.append(f"{where}: it has no statement that returned or changed rows to check")
        return out
    outcome, captured, returns_rows = found
    if expect.rows is not None:
        counted = len(captured.rows) if returns_rows else outcome.rowcount
        if counted != expect.rows:
            out.append(f"{where}: want {expect.rows} rows, have {counted}")
    if expect.value is not None:
        have = psql_text(captured.rows[0][0]) if captured.rows else "(no row)"
        if have != expect.value:
            out.append(f"{where}: want value {expect.value!r}, have {have!r}")
    text = run.rows_text()
    for needle in expect.contains:
        if needle not in text:
            out.append(f"{where}: want the output to contain {needle!r}; have:\n{_indent(text)}")
    for needle in expect.lacks:
        if needle in text:
            out.append(f"{where}: want the output not to contain {needle!r}; have:\n{_indent(text)}")
    return out


def _indent(text: str, limit: int = 1500) -> str:
    text = text if len(text) <= limit else text[:limit] + "\n…"
    return "\n".join("    " + line for line in text.splitlines()) or "    (nothing)"


# ------------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pgdrill.doctest_sql",
        description="Run a Markdown document's ```sql blocks on a fresh TechShop incident clone "
                    "(a throwaway server) and check their <!-- expect: … --> directives.")
    parser.add_argument("document", type=Path)
    parser.add_argument("--scale", type=float, default=0.1, help="incident scale (default 0.1)")
    parser.add_argument("--seed", type=int, default=1, help="incident seed (default 1)")
    parser.add_argument("--server", choices=("embedded", "system"), default=None,
                        help="PostgreSQL to start (default $PGDRILL_SERVER or embedded)")
    parser.add_argument("--show", action="store_true", help="print every block's result rows")
    args = parser.parse_args(argv)

    from pgdrill.fixtures.server import start_server
    from pgdrill.fixtures.templates import FixtureKey, TemplateCache

    blocks = parse_markdown(args.document.read_text(encoding="utf-8"))
    failures = 0
    with start_server(args.server) as server:
        major = server.version_num // 10000
        with TemplateCache(server).clone(FixtureKey("techshop", args.scale, args.seed)) as clone:
            for run in run_blocks(server, clone.dbname, blocks, file_name=args.document.name):
                issues = problems(run, manifest=clone.manifest, server_major=major)
                failures += bool(issues)
                found = run.result
                size = "" if found is None else (
                    f"{len(found[1].rows)} rows" if found[2] else f"{found[0].rowcount} changed")
                print(f"{'FAIL' if issues else 'ok  '} line {run.block.line:4d}  {size:>12}  {run.block.first_line[:70]}")
                if args.show and found is not None and found[2]:
                    print(_indent(run.rows_text(), 3000))
                for issue in issues:
                    print("      " + issue.replace("\n", "\n      "))
    print(f"{len(blocks) - failures} blocks kept their promises, {failures} did not (PostgreSQL {major}, "
          f"scale {args.scale:g}, seed {args.seed})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
