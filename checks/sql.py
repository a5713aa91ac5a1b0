"""The checks' SQL: a cached loader for ``checks/sql/*.sql`` and small catalog helpers.

``load_sql(name)`` returns the text of ``checks/sql/<name>.sql``. Where the catalogs differ
between PostgreSQL versions a file may have variants named ``<name>.pg<major>.sql``; with a
``server_version_num`` the loader picks the variant with the highest major version not above
the server's, and falls back to ``<name>.sql``. So ``catalog_not_null.sql`` serves 15–17
and ``catalog_not_null.pg18.sql`` serves 18 and later.

Files whose queries are built around identifiers use ``{placeholders}`` filled with
``psycopg.sql.Identifier`` through ``sql_query`` — never string-built names.

The helpers below resolve the names a spec gives (``orders``, ``public.orders``,
``"Odd Name"``) to catalog rows by joining pg_class and pg_namespace on names, so nothing a
learner named is ever spliced into SQL text.
"""

from __future__ import annotations

import dataclasses

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from psycopg import sql

from pgdrill.checks.base import ExerciseBug
from pgdrill.report import Evidence

if TYPE_CHECKING:  # pragma: no cover - types only
    import psycopg

SQL_DIR = Path(__file__).resolve().parent / "sql"
_VARIANT = re.compile(r"^(?P<base>.+)\.pg(?P<major>\d+)\.sql$")

# How many offending rows a check shows as evidence, and how long a cell may be.
EVIDENCE_ROWS = 5
CELL_CHARS = 80


@functools.lru_cache(maxsize=None)
def _variants(name: str) -> tuple[tuple[int, Path], ...]:
    found = []
    for path in SQL_DIR.glob(f"{name}.pg*.sql"):
        m = _VARIANT.match(path.name)
        if m and m.group("base") == name:
            found.append((int(m.group("major")), path))
    return tuple(sorted(found))


@functools.lru_cache(maxsize=None)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def sql_path(name: str, server_version_num: int | None = None) -> Path:
    """The file ``load_sql`` would read for ``name`` on a server of that version."""
    if server_version_num is not None:
        major = server_version_num // 10000
        chosen = None
        for variant_major, path in _variants(name):
            if variant_major <= major:
                chosen = path
        if chosen is not None:
            return chosen
    path = SQL_DIR / f"{name}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no SQL file {name!r} in {SQL_DIR}")
    return path


def load_sql(name: str, server_version_num: int | None = None) -> str:
    """The text of ``checks/sql/<name>.sql`` (or its variant for that server version)."""
    return _read(sql_path(name, server_version_num))


# Every catalog read of the checks is bounded (``query`` and ``sql_query`` wrap the file's
# SELECT): what the grader reads there is learner-controlled (a CHECK holding a 300 MB literal,
# a hundred thousand indexes), and a client-side cursor receives the whole result before the
# grader sees a row. The server numbers and measures each row and stops the query at the first
# row past either limit, with an error carrying READ_CAP_MARK that the grader reports as the
# learner's doing.
READ_ROW_CAP = 100_000
READ_ROW_BYTES = 1024 * 1024
READ_CAP_MARK = "pgdrill-read-cap"


def bounded(text: str) -> str:
    """``text`` (one SELECT, no trailing semicolon) wrapped so its rows keep their names,
    types and order, and the server raises an error naming READ_CAP_MARK at the first row
    beyond READ_ROW_CAP rows or larger than READ_ROW_BYTES as text. The limits are read
    when called, so a test may lower them."""
    return ("SELECT (pgdrill_g.r).* FROM (SELECT pgdrill_q AS r, pg_catalog.row_number() OVER () AS n, "
            "pg_catalog.octet_length(pgdrill_q::pg_catalog.text) AS b FROM (\n" + text + "\n) AS pgdrill_q) "
            f"AS pgdrill_g WHERE CASE WHEN pgdrill_g.n <= {int(READ_ROW_CAP)} AND pgdrill_g.b <= {int(READ_ROW_BYTES)} "
            f"THEN true ELSE ('{READ_CAP_MARK} row ' || pgdrill_g.n || ', ' || pgdrill_g.b || ' bytes')"
            "::pg_catalog.int4 > 0 END")


def read_cap_exceeded(exc: BaseException) -> str | None:
    """The learner-facing reason when ``exc`` is a bounded read stopped at its cap, else None."""
    text = str(exc)
    if READ_CAP_MARK not in text:
        return None
    found = re.search(READ_CAP_MARK + r" row (\d+), (\d+) bytes", text)
    if found and int(found.group(1)) > READ_ROW_CAP:
        return (f"Your database holds more than {READ_ROW_CAP:,} rows of what this check reads (indexes, "
                "constraints, rows of a table): the grader reads no more, and cannot judge it.")
    return (f"Something in your database that this check reads is larger than {READ_ROW_BYTES // 1024:,} KiB "
            "as text (definitions or values): the grader reads no more, and cannot judge it.")


def query(conn, name: str) -> str:
    """``load_sql`` for the server behind ``conn``, bounded (see ``bounded``)."""
    return bounded(load_sql(name, conn.info.server_version))


def sql_query(conn, name: str, **identifiers) -> sql.Composed:
    """A query file with ``{placeholders}`` filled by psycopg.sql objects."""
    return sql.SQL(query(conn, name)).format(**identifiers)


# ------------------------------------------------------------------------------------------
# Names


def parse_name(text: str) -> list[str]:
    """Split ``a.b`` into parts the way PostgreSQL reads an identifier chain.

    Unquoted parts fold to lower case; ``"Quoted"`` parts keep their case and may contain
    dots (``""`` is a literal quote).
    """
    parts: list[str] = []
    cur: list[str] = []
    in_quotes = was_quoted = False
    i, n = 0, len(text)

    def finish() -> str:
        word = "".join(cur)
        return word if was_quoted else word.strip().lower()

    while i < n:
        ch = text[i]
        if in_quotes:
            if ch == '"':
                if i + 1 < n and text[i + 1] == '"':
                    cur.append('"')
                    i += 2
                    continue
                in_quotes = False
            else:
                cur.append(ch)
        elif ch == '"':
            in_quotes = was_quoted = True
        elif ch == ".":
            parts.append(finish())
            cur, was_quoted = [], False
        else:
            cur.append(ch)
        i += 1
    parts.append(finish())
    return parts


def ident_name(text: str) -> str:
    """One identifier as PostgreSQL would read it (folded unless quoted)."""
    parts = parse_name(str(text))
    return parts[-1] if parts else ""


def split_qualified(name: str, schema: str | None = "public") -> tuple[str, str]:
    """(schema, relation) for ``name``; a schema in the name wins over ``schema``."""
    parts = parse_name(str(name))
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return (ident_name(schema) if schema else "public"), (parts[0] if parts else "")


def display(schema: str, name: str) -> str:
    """``schema.name`` with quotes only where PostgreSQL needs them."""
    def q(part: str) -> str:
        return part if re.fullmatch(r"[a-z_][a-z0-9_$]*", part) else '"' + part.replace('"', '""') + '"'
    return f"{q(schema)}.{q(name)}"


@dataclass(frozen=True)
class Relation:
    oid: int
    schema: str
    name: str
    relkind: str

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def display(self) -> str:
        return display(self.schema, self.name)

    @property
    def kind_word(self) -> str:
        return RELKIND_WORDS.get(self.relkind, f"relation of kind {self.relkind!r}")


RELKIND_WORDS = {
    "r": "table", "p": "partitioned table", "v": "view", "m": "materialized view",
    "i": "index", "I": "partitioned index", "S": "sequence", "f": "foreign table",
    "c": "composite type", "t": "TOAST table",
}
TABLE_KINDS = ("r", "p")
READABLE_KINDS = ("r", "p", "v", "m", "f")


def find_relation(conn, name: str, schema: str | None = "public") -> Relation | None:
    """The relation called ``name`` (optionally ``schema.name``), of any kind, or None."""
    nsp, rel = split_qualified(name, schema)
    row = conn.execute(query(conn, "catalog_relation"), {"schema": nsp, "name": rel}).fetchone()
    return Relation(*row) if row else None


def columns_of(conn, oid: int) -> list[tuple[str, str]]:
    """(name, type) of the live columns of a relation, in attnum order."""
    return [tuple(r) for r in conn.execute(query(conn, "catalog_columns"), {"oid": oid}).fetchall()]


def missing_relation_message(schema: str, name: str, role: str = "table") -> str:
    return (f"The {role} {display(schema, name)} does not exist (was it dropped or renamed?), "
            f"so this cannot be checked.")


def resolve_tables(conn, tables, schema: str | None = "public"):
    """``(names, relations, problems)`` for a spec's table list: the tables found, and a sentence
    for each name that is not a table. An empty list is the exercise's bug (``ExerciseBug``)."""
    names = as_list(tables)
    if not names:
        raise ExerciseBug("this check needs tables")
    found, missing = [], []
    for t in names:
        rel = find_relation(conn, t, schema)
        if rel is None or rel.relkind not in TABLE_KINDS:
            missing.append(missing_relation_message(*split_qualified(t, schema)).rstrip("."))
        else:
            found.append(rel)
    return names, found, missing


# ------------------------------------------------------------------------------------------
# Evidence


def cell(value) -> str:
    if value is None:
        return "NULL"
    text = str(value)
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def rows_evidence(title: str, columns, rows, *, limit: int = EVIDENCE_ROWS, total: int | None = None) -> Evidence:
    rows = list(rows)
    shown = rows[:limit]
    more = (total if total is not None else len(rows)) - len(shown)
    if more > 0:
        title = f"{title} (first {len(shown)} of {len(shown) + more})"
    return Evidence(kind="rows", title=title, columns=tuple(str(c) for c in columns),
                    rows=tuple(tuple(cell(v) for v in r) for r in shown))


def answer(evidence: Evidence) -> Evidence:
    """``evidence`` marked as the answer (expected rows of the graded seed): for instructors only."""
    return dataclasses.replace(evidence, instructor_only=True)


def column_names(cur: psycopg.Cursor[Any]) -> list[str]:
    """The column names of an executed cursor's result (none for a statement without one)."""
    return [d.name for d in (cur.description or ())]


def one_row(cur: psycopg.Cursor[Any]) -> Any:
    """The row of a grader query that always returns one (an aggregate, a lookup of what is
    known to exist); none is the grader's own bug."""
    row = cur.fetchone()
    if row is None:
        raise RuntimeError("a grader query that always returns a row returned none")
    return row


def cursor_evidence(title: str, cur, *, total: int | None = None, limit: int = EVIDENCE_ROWS) -> Evidence:
    """Evidence from an executed cursor (its column names and up to ``limit`` rows)."""
    columns = column_names(cur)
    return rows_evidence(title, columns, cur.fetchmany(limit), limit=limit, total=total)


def as_list(value) -> list:
    """A YAML scalar or list as a list (``None`` → ``[]``)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def missing_column(columns: Sequence[object], wanted: Sequence[str]) -> str | None:
    """The first of the ``wanted`` names that is not among ``columns`` (matched
    case-insensitively), or None."""
    lower = [str(c).lower() for c in columns]
    return next((name for name in wanted if name.lower() not in lower), None)


def project_columns(columns: Sequence[object], rows: Iterable[Sequence[Any]],
                    wanted: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows reduced to the ``wanted`` columns (matched case-insensitively), in that order.
    Every wanted name must be among ``columns`` (ask ``missing_column`` first)."""
    lower = [str(c).lower() for c in columns]
    idx = [lower.index(name.lower()) for name in wanted]
    return [tuple(r[i] for i in idx) for r in rows]
