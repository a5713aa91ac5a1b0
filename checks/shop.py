"""Shop checks: the application could keep working while the learner fixed its database.

Phase 4 works on a live shop. Two things the application relies on are checked here:

- ``shop_stayed_open``: the learner's file never stopped the shop's writes. The exercise runs
  with the ``open_shop`` activity (``pgdrill.fixtures.open_shop``), whose writer sessions make every
  statement that wants a lock blocking writes wait for them, so the record of those waits
  does not depend on timing: a plain ``CREATE INDEX`` is seen on a fast machine and a slow
  one alike, however short it was. Whether the lock was brief is judged from what the
  statement does with it, not from its words alone: ``SET NOT NULL`` reads no row when the
  catalog the watch saw as it waited held a validated ``CHECK (column IS NOT NULL)``, and a
  ``DO`` block is as brief as the statements in it.
- ``table_kept``: each table the application writes to is still the same table (the same
  object, not a copy under its name) with every column, default, constraint, index and
  trigger it had. Clones of one incident share their catalog's object ids, so the untouched
  clone tells which table is the original.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pgdrill.checks.arguments import Schema, Table
from pgdrill.checks.base import CheckContext, Outcome, check
from pgdrill.checks.kit import BaselineMissing, IncidentMismatch
from pgdrill.checks.sql import display, find_relation, query, rows_evidence, split_qualified

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
MODE_WORDS = {
    "ShareLock": "SHARE", "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE", "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
# ALTER TABLE forms that read or rewrite every row while holding their lock: (pattern, what
# it does, the way that does not block, words that make it brief).
_NOT_NULL_SCAN = re.compile(r"\bSET\s+NOT\s+NULL\b")  # no scan when a validated CHECK proves it
_VALIDATE_LATER = "add it NOT VALID (a brief lock), then VALIDATE CONSTRAINT, which checks the rows without blocking writes"
_ALTER_SCANS = (
    (re.compile(r"\bADD\s+(CONSTRAINT\s+\S+\s+)?(CHECK|FOREIGN\s+KEY)\b"), "checks every existing row",
     _VALIDATE_LATER, ("NOT VALID",)),
    (re.compile(r"\bADD\s+(CONSTRAINT\s+\S+\s+)?(PRIMARY\s+KEY|UNIQUE|EXCLUDE)\b"), "builds an index",
     "build the index CONCURRENTLY first, then ADD CONSTRAINT … USING INDEX", ("USING INDEX",)),
    (re.compile(r"\bALTER\s+(COLUMN\s+)?\S+\s+(SET\s+DATA\s+)?TYPE\b"), "rewrites every row",
     "add a new column and fill it in batches", ()),
    (_NOT_NULL_SCAN, "checks every existing row",
     "first add CHECK (column IS NOT NULL) NOT VALID and VALIDATE it", ()),
    (re.compile(r"\bSET\s+(TABLESPACE|LOGGED|UNLOGGED)\b"), "copies the whole table", "leave it as it is", ()),
)
# Statements whose lock is held for an instant: they change the catalog, not the rows.
_BRIEF = re.compile(r"^(ALTER\s+TABLE|ALTER\s+INDEX|(CREATE|DROP|ALTER)\s+(CONSTRAINT\s+)?TRIGGER|"
                    r"(CREATE|DROP|ALTER)\s+(RULE|POLICY)|COMMENT|GRANT|REVOKE|SECURITY\s+LABEL|DROP\s+TABLE)\b")


def _normalized(text: str) -> str:
    return " ".join(_COMMENTS.sub(" ", text or "").split()).upper()


_SET_NOT_NULL = re.compile(r'\bALTER\s+(?:COLUMN\s+)?("(?:[^"]|"")+"|[^\s"]+)\s+SET\s+NOT\s+NULL\b')


def _unproven_not_null(text: str, proven) -> list[str]:
    """The columns ``text`` (normalized) sets NOT NULL that the table's validated constraints
    did not prove NOT NULL when it waited: PostgreSQL reads every row for those only."""
    have = {p.upper() for p in proven}
    out = []
    for m in _SET_NOT_NULL.finditer(text):
        name = m.group(1)
        name = name[1:-1].replace('""', '"') if name.startswith('"') else name
        if name.upper() not in have:
            out.append(name)
    return out


def blocking_harm(query_text: str, mode: str, table: str, proven_not_null=()) -> str | None:
    """Why a statement that waited for the shop's writers on ``table`` with ``mode`` blocked
    the shop, or None when its lock is one of the brief catalog changes a live database allows.

    ``proven_not_null``: the columns of ``table`` that its validated constraints proved NOT
    NULL when the statement waited (``SET NOT NULL`` on them reads no row). A ``DO`` block is
    judged by the statements in it (``do_block_harm``)."""
    text = _normalized(query_text)
    lock = MODE_WORDS.get(mode, mode)
    a_lock = ("an " if lock[:1] in "AEIOU" else "a ") + lock
    concurrently = re.search(r"\bCONCURRENTLY\b", text) is not None
    if re.match(r"DO\b", text):
        return do_block_harm(query_text, mode, table, proven_not_null)
    if text.startswith("LOCK"):
        return (f"LOCK TABLE holds {a_lock} lock on {table} until its transaction ends; every write to "
                f"{table} (every order, every stock update) waits that long.")
    if re.match(r"CREATE\s+(UNIQUE\s+)?INDEX\b", text) and not concurrently:
        return (f"a plain CREATE INDEX holds {a_lock} lock on {table} while it reads the whole table: no "
                f"INSERT, UPDATE or DELETE on {table} until the index is built. CREATE INDEX CONCURRENTLY "
                "lets the shop keep writing.")
    if text.startswith("REINDEX") and not concurrently:
        return (f"a plain REINDEX holds {a_lock} lock on {table} while it rebuilds: writes to {table} wait, "
                "and so do queries that would use the index. REINDEX … CONCURRENTLY lets the shop keep working.")
    if re.match(r"DROP\s+INDEX\b", text) and not concurrently:
        return (f"a plain DROP INDEX takes an ACCESS EXCLUSIVE lock on {table}: it waits for every running "
                f"query on {table}, and every read and write of {table} queues behind it. DROP INDEX "
                "CONCURRENTLY waits without blocking anyone.")
    if re.match(r"VACUUM\b", text) and re.search(r"\bFULL\b", text):
        return (f"VACUUM FULL rewrites {table} under an ACCESS EXCLUSIVE lock: the shop can neither read nor "
                f"write {table} until the copy is done. Plain VACUUM runs alongside the shop.")
    if text.startswith("CLUSTER"):
        return (f"CLUSTER rewrites {table} under an ACCESS EXCLUSIVE lock: the shop can neither read nor "
                f"write {table} until the copy is done.")
    if text.startswith("TRUNCATE"):
        return f"TRUNCATE takes an ACCESS EXCLUSIVE lock on {table} (and empties it)."
    if text.startswith("ALTER TABLE"):
        for pattern, what, instead, brief_with in _ALTER_SCANS:
            if pattern is _NOT_NULL_SCAN:
                if _unproven_not_null(text, proven_not_null):
                    return (f"this ALTER TABLE {what} of {table} while it holds {a_lock} lock (no validated "
                            f"CHECK (… IS NOT NULL) proved the column has no NULL), so every write to {table} "
                            f"waits for it to finish. Instead: {instead}.")
                continue
            if pattern.search(text) and not any(word in text for word in brief_with):
                return (f"this ALTER TABLE {what} of {table} while it holds {a_lock} lock, so every write to "
                        f"{table} waits for it to finish. Instead: {instead}.")
        return None
    if _BRIEF.match(text):
        return None
    return (f"it took {a_lock} lock on {table}, which stops every write to {table} for as long as the "
            "statement (or its transaction) runs.")


# ------------------------------------------------------------------------------ DO blocks
# A DO block runs its statements in one transaction: it is as brief as the statements in
# it, and a lock one of them takes is held until the block ends. Its PL/pgSQL body is read
# statement by statement; what cannot be read (SQL built at run time, a function called with
# PERFORM or CALL, another language) is not given the benefit of the doubt.

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_DO_BODY = re.compile(r"^\s*DO\s+(?:LANGUAGE\s+(\w+)\s+)?(.*?)\s*(?:LANGUAGE\s+(\w+))?\s*;?\s*$", re.S | re.I)
_NEUTRAL = re.compile(r"^(|END(\s+(IF|LOOP|CASE))?(\s+\w+)?|NULL|RAISE\b.*|RETURN|ASSERT\b.*|EXIT\b.*|CONTINUE\b.*|"
                      r"GET\s+(STACKED\s+)?DIAGNOSTICS\b.*|[A-Z_][A-Z0-9_]*\s*:?=.*)$", re.S)
_CONTROL = re.compile(r"^(<<\w+>>\s*|BEGIN\b\s*|DECLARE\b\s*|ELSE\b\s*|LOOP\b\s*|"
                      r"(ELS(E)?IF|IF|WHEN|EXCEPTION\s+WHEN)\b.*?\bTHEN\b\s*|EXCEPTION\b\s*)", re.S)
_ROW_WORK = re.compile(r"^(INSERT|UPDATE|DELETE|MERGE|SELECT|WITH|COPY)\b")


def _literal(text: str) -> str | None:
    """The value of ``text`` when it is one string constant ('…' or $tag$…$tag$), else None."""
    text = text.strip()
    m = re.fullmatch(r"(?:E)?'((?:[^']|'')*)'", text, re.S)
    if m:
        return m.group(1).replace("''", "'")
    m = re.fullmatch(r"(\$[A-Za-z_0-9]*\$)(.*)\1", text, re.S)
    return m.group(2) if m else None


def _split_body(body: str) -> list[str]:
    """PL/pgSQL statements of ``body``, split at the semicolons outside strings, quoted names,
    dollar quotes and comments (comments dropped)."""
    out, cur, i = [], [], 0
    while i < len(body):
        ch = body[i]
        if body.startswith("--", i):
            end = body.find("\n", i)
            i = len(body) if end < 0 else end
            continue
        if body.startswith("/*", i):
            end = body.find("*/", i + 2)
            i = len(body) if end < 0 else end + 2
            cur.append(" ")
            continue
        m = _DOLLAR.match(body, i)
        if m:
            end = body.find(m.group(0), m.end())
            end = len(body) if end < 0 else end + len(m.group(0))
            cur.append(body[i:end])
            i = end
            continue
        if ch in "'\"":
            j = i + 1
            while j < len(body):
                if body[j] == ch and body.startswith(ch * 2, j):
                    j += 2
                    continue
                if body[j] == ch:
                    break
                j += 1
            cur.append(body[i:j + 1])
            i = j + 1
            continue
        if ch == ";":
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur).strip())
    return [s for s in out if s]


def do_statements(query_text: str) -> list[str] | None:
    """The SQL statements a ``DO`` block runs, in order (``EXECUTE 'constant'`` read as the
    constant's statement), with PL/pgSQL control flow and statements that lock nothing left
    out; None when the block cannot be read (another language, SQL built at run time,
    PERFORM or CALL of a function, a statement not understood)."""
    m = _DO_BODY.match(query_text or "")
    if not m:
        return None
    language = (m.group(1) or m.group(3) or "plpgsql").lower()
    body = _literal(m.group(2))
    if language != "plpgsql" or body is None:
        return None
    statements, declaring = [], False
    for piece in _split_body(body):
        text = " ".join(piece.split())
        upper = text.upper()
        while True:
            c = _CONTROL.match(upper)
            if not c:
                break
            word = c.group(0).strip().split()[0] if c.group(0).strip() else ""
            declaring = word == "DECLARE" or (declaring and word != "BEGIN")
            text, upper = text[c.end():].lstrip(), upper[c.end():].lstrip()
        if declaring:
            continue  # a declaration: name type [:= value]
        if _NEUTRAL.match(upper):
            continue
        if upper.startswith("EXECUTE"):
            inner = _literal(re.sub(r"(?i)^EXECUTE\s+", "", text))
            if inner is None:
                return None
            statements.append(inner)
            continue
        if re.match(r"^(PERFORM|CALL|OPEN|FETCH|FOR|WHILE|FOREACH|CASE|RETURN\s+\w)", upper):
            return None
        statements.append(text)
    return statements


@dataclass(frozen=True)
class _Holder:
    """How a message names the transaction that holds a lock: a DO block or BEGIN … COMMIT."""

    where: str      # "in the DO block"
    holder: str     # "the block"
    aside: str      # " (a DO block is one transaction)"
    separately: str  # what to do instead
    alone: str      # when VALIDATE CONSTRAINT lets the shop write


_DO_BLOCK = _Holder("in the DO block", "the block", " (a DO block is one transaction)",
                    "Run them as separate statements.", "runs on its own")
_TRANSACTION = _Holder("later in the same transaction", "the transaction", " (until its COMMIT)",
                       "Commit the catalog change first, then run it in a transaction of its own.",
                       "runs in a transaction of its own")


def _held_lock_harm(statements, mode: str, table: str, proven_not_null, how: _Holder,
                    held_by: str = "") -> str | None:
    """Why running ``statements`` one after another in one transaction blocked the shop, or
    None: each must be a brief catalog change (judged as if run alone), and once one of them
    holds the ``mode`` lock on ``table`` (``held_by``, when it was taken before the first),
    none after it may read or change rows or validate: the transaction keeps the lock until
    it ends."""
    lock = MODE_WORDS.get(mode, mode)
    for statement in statements:
        text = _normalized(statement)
        if _ROW_WORK.match(text):
            if held_by:
                return (f"{how.where}, `{_short(statement, 50)}` runs while {how.holder} still holds the "
                        f"{lock} lock `{_short(held_by, 50)}` took on {table}{how.aside}: every write to "
                        f"{table} waits for it. {how.separately}")
            continue
        harm = blocking_harm(statement, mode, table, proven_not_null)
        if harm is not None:
            return f"{how.where}, `{_short(statement, 60)}`: {harm}"
        if held_by and re.search(r"\bVALIDATE\s+CONSTRAINT\b", text):
            return (f"{how.where}, `{_short(statement, 50)}` checks every row while {how.holder} still holds "
                    f"the {lock} lock `{_short(held_by, 50)}` took on {table}{how.aside}: VALIDATE "
                    f"CONSTRAINT lets the shop write only when it {how.alone}.")
        held_by = held_by or statement
    return None


def do_block_harm(query_text: str, mode: str, table: str, proven_not_null=()) -> str | None:
    """Why a ``DO`` block that waited for the shop's writers on ``table`` blocked the shop, or
    None when every statement in it is a brief catalog change (judged as if run alone) and no
    statement after the first lock-taking one reads or changes rows or validates (the block's
    transaction holds the lock while they run)."""
    lock = MODE_WORDS.get(mode, mode)
    a_lock = ("an " if lock[:1] in "AEIOU" else "a ") + lock
    inner = do_statements(query_text)
    if inner is None:
        return (f"it took {a_lock} lock on {table}, which stops every write to {table} for as long as the "
                "statement (or its transaction) runs; the DO block's statements could not all be read "
                "(SQL built at run time, or a function it calls), so nothing shows the lock was brief.")
    if not any(not _ROW_WORK.match(_normalized(st)) for st in inner):
        return (f"it took {a_lock} lock on {table}, which stops every write to {table} for as long as the "
                "statement (or its transaction) runs; no statement of the DO block explains the lock as a "
                "brief catalog change.")
    return _held_lock_harm(inner, mode, table, proven_not_null, _DO_BLOCK)


# ------------------------------------------------------------------ explicit transactions
# A brief catalog change keeps its lock until its transaction ends. Run at the top level inside
# BEGIN … COMMIT, it is brief only if nothing after it in that transaction reads rows or
# validates: the shop waits behind the lock meanwhile, and the watch does not see it (the
# learner's session waits for nobody then). The statement log tells where transactions start
# and end.

_TX_START = re.compile(r"^(BEGIN|START\s+TRANSACTION)\b")
_TX_END = re.compile(r"^(COMMIT|END|ABORT|ROLLBACK(?!\s+(WORK\s+|TRANSACTION\s+)?TO\b)|PREPARE\s+TRANSACTION)\b")


def transaction_tails(statements) -> dict[int, list[str]]:
    """For each statement of the log that ran inside an explicit transaction block, the
    statements that ran after it in the same transaction (in order, up to its COMMIT or
    ROLLBACK), keyed by the statement's index in ``statements``. A statement that failed aborts
    the transaction: nothing after it does any work. Each file runs in a session of its own."""
    tails: dict[int, list[str]] = {}
    current: list[int] = []
    in_block, aborted, file = False, False, None
    for i, st in enumerate(statements):
        if st.file != file:
            in_block, aborted, current, file = False, False, [], st.file
        text = _normalized(st.sql)
        if not in_block:
            if _TX_START.match(text) and st.status == "ok":
                in_block, aborted, current = True, False, []
            continue
        if _TX_END.match(text):
            in_block, current = False, []
            continue
        if re.match(r"^ROLLBACK\b", text) and st.status == "ok":
            aborted = False  # ROLLBACK TO SAVEPOINT: the transaction goes on
        elif aborted or st.status != "ok":
            aborted = True
            continue
        for j in current:
            tails[j].append(st.sql)
        tails[i] = []
        current.append(i)
    return tails


def _statement_index(ctx: CheckContext, query_text: str, used: set[int]) -> int | None:
    wanted = _normalized(query_text)
    for i, st in enumerate(ctx.statements):
        have = _normalized(st.sql)
        if i not in used and have and (have == wanted or (len(wanted) >= 200 and have.startswith(wanted[:200]))):
            return i
    return None


def _line_of(ctx: CheckContext, query_text: str) -> str:
    wanted = _normalized(query_text)
    for st in ctx.statements:
        have = _normalized(st.sql)
        if have and (have == wanted or (len(wanted) >= 200 and have.startswith(wanted[:200]))):
            return f"{st.file}:{st.line}"
    return "?"


def _short(text: str, width: int = 70) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


@check
def shop_stayed_open(ctx: CheckContext) -> Outcome:
    """The learner's file never blocked the shop's writes, and left the shop's sessions alone.

    What it asserts:
        While the learner's files ran, the application kept a write transaction open on
        each of its tables (the ``open_shop`` activity, which the exercise must list in
        ``incident.activity``). No statement of the file asked for a lock that stops
        those writes, except the brief catalog changes a live database takes in its stride
        (``ALTER TABLE … ADD … NOT VALID``, a rename, a trigger); and no application
        session was ended or refused. A plain ``CREATE INDEX``, ``REINDEX`` or ``DROP
        INDEX``, ``VACUUM FULL``, ``CLUSTER``, ``TRUNCATE``, ``LOCK TABLE``, an ``ALTER
        TABLE`` that validates or rewrites every row, or any other statement that takes such
        a lock for its own work fails. ``SET NOT NULL`` is brief when, as it waited, a
        validated ``CHECK (column IS NOT NULL)`` of the table already proved the column
        (PostgreSQL then reads no row; the watch reads the catalog at that moment). A ``DO``
        block is judged by the statements in it (``EXECUTE 'constant'`` included): it passes
        when each is a brief catalog change and nothing after the first of them reads rows
        or validates while the block's transaction holds the lock; a block that builds its
        SQL at run time or calls a function (``PERFORM``, ``CALL``) cannot be read and
        fails if it blocked. The same holds at the top level: a brief change inside
        ``BEGIN … COMMIT`` keeps its lock until ``COMMIT`` (the statement log tells what ran
        after it), so a ``VALIDATE CONSTRAINT`` or an ``UPDATE`` later in that transaction
        fails. The ``CONCURRENTLY``
        forms wait for the shop's transactions instead of blocking them: they pass. The
        record is made by the application's sessions themselves (every such statement
        waits for them), so it does not depend on the machine's speed. (A statement that
        sets itself a ``lock_timeout`` of a few hundredths of a second may time out before
        the shop lets it through, as it could in a busy shop.)
    Arguments:
        (none)
    Feedback on failure:
        Each blocking statement with its file and line, the table and lock it took, and
        what that does to the open shop, with the non-blocking way to do it.
    Example:
        - check: shop_stayed_open
    """
    shop = ctx.activity.shop if ctx.activity is not None else None
    if shop is None:
        raise IncidentMismatch("shop_stayed_open needs the open_shop activity: add it to incident.activity")
    if shop.failed:
        # The watch broke (a bug of the grader, not the learner's doing nor the exercise's): an
        # internal error, by the error rule of checks/base.py.
        raise RuntimeError(f"the open shop's watch stopped ({shop.failed}); what blocked the shop is not known")
    statements: dict[tuple, dict[str, str]] = {}
    polite = set()
    tails = transaction_tails(ctx.statements)
    placed: dict[tuple, int | None] = {}
    for wait in shop.waits:
        key = (wait.pid, wait.query_start, wait.query)
        if not wait.blocks_writes:
            polite.add(key)
            continue
        harm = blocking_harm(wait.query, wait.mode, wait.table, wait.proven_not_null)
        if harm is None:
            # brief alone; but inside BEGIN … COMMIT the lock lasts until the transaction ends
            if key not in placed:
                placed[key] = _statement_index(ctx, wait.query, {i for i in placed.values() if i is not None})
            index = placed[key]
            if index is not None and tails.get(index):
                harm = _held_lock_harm(tails[index], wait.mode, wait.table, wait.proven_not_null,
                                       _TRANSACTION, held_by=wait.query)
        if harm is not None:
            statements.setdefault(key, {})[wait.table] = harm
    rows, lines = [], []
    for incident in shop.incidents:
        rows.append(("", "", "", incident))
        lines.append(incident[0].upper() + incident[1:] + ": ending or locking out the application is "
                     "closing the shop.")
    for (_, _, text), tables in statements.items():
        where = _line_of(ctx, text)
        for table, harm in tables.items():
            rows.append((where, _short(text), table, harm))
        lines.append(f"{where} `{_short(text)}`: {next(iter(tables.values()))}")
    if not rows:
        waited = (f" {len(polite)} statement{'s' if len(polite) != 1 else ''} waited for the shop's "
                  "transactions to finish instead of blocking them (CONCURRENTLY), as they should."
                  if polite else "")
        return Outcome(True, "The shop kept writing to every table while your file ran: no statement "
                             "blocked it." + waited)
    ev = (rows_evidence("What blocked the open shop", ("where", "statement", "table", "what it did"), rows,
                        limit=10),)
    more = f" And {len(lines) - 3} more (see the table)." if len(lines) > 3 else ""
    return Outcome(False, "The shop is open while your file runs, and your file stopped it: "
                          + " ".join(lines[:3]) + more, ev)


@check
def table_kept(ctx: CheckContext, *, table: Table, schema: Schema = "public") -> Outcome:
    """The application's table is still the same table, with everything it relies on.

    What it asserts:
        ``table`` is the incident's own table (the same object: clones of one incident
        share object ids, so the untouched clone tells which one the original is), not a
        copy created under its name while the original was renamed or dropped; and it still
        has every column (type, NOT NULL, default), constraint (the same definition, still
        validated and enforced), valid index and trigger the untouched incident's table
        has. Names do not matter and additions are fine (a NOT NULL added to a column
        included). Guards everything a task did not
        ask to change: a copy (``CREATE TABLE … AS``) has no primary key, no foreign key,
        no default and no index, and the application, its views and its grants still
        point at the old table.
    Arguments:
        table: the table, e.g. order_items.
    Feedback on failure:
        Says what became of the original (its new name, or that it was dropped) and lists
        what the table lost, compared with the untouched incident.
    Example:
        - check: table_kept
          with: {table: order_items}
    """
    if ctx.baseline is None or ctx.baseline() is None:
        raise BaselineMissing("table_kept compares with an untouched clone, and none is available")
    conn, base = ctx.grader(), ctx.baseline()
    nsp, name = split_qualified(table, schema)
    brel = find_relation(base, table, schema)
    if brel is None:
        raise IncidentMismatch(f"{display(nsp, name)} does not exist in the untouched incident")
    rel = find_relation(conn, table, schema)
    original = conn.execute("SELECT c.oid::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_class AS c "
                            "WHERE c.oid = %s::pg_catalog.oid", (brel.oid,)).fetchone()
    if rel is None or rel.oid != brel.oid:
        now = (f"the original table is now {original[0]}" if original else "the original table was dropped")
        here = (f"{brel.display} is a new {rel.kind_word} created under its name" if rel is not None
                else f"{brel.display} is gone")
        return Outcome(False, f"{here}: {now}. The application writes to that table, not to its name alone: "
                              "a copy made by CREATE TABLE … AS has no primary key, foreign keys, defaults or "
                              "indexes, and the rows written while it was being made are lost. Fix the rows in "
                              "place (move the bad ones out into a quarantine table, DELETE them from the "
                              "original).")
    have = Counter((k, d) for k, _, d in conn.execute(query(conn, "shop_table_shape"), {"oid": rel.oid}))
    had = base.execute(query(base, "shop_table_shape"), {"oid": brel.oid}).fetchall()
    lost = []
    for kind, item, definition in had:
        if have[(kind, definition)] > 0:
            have[(kind, definition)] -= 1
            continue
        lost.append((kind, item, definition))
    if not lost:
        return Outcome(True, f"{brel.display} is the incident's own table, with every column, default, "
                             "constraint, index and trigger it had.")
    words = "; ".join(f"column {item} ({definition})" if kind == "column" else definition
                      for kind, item, definition in lost[:4])
    ev = (rows_evidence(f"What {brel.display} had and no longer has", ("kind", "name", "definition"), lost,
                        limit=10),)
    return Outcome(False, f"{brel.display} lost what the application relies on: {words}"
                          f"{' …' if len(lost) > 4 else ''}. This task did not ask to change it: keys, "
                          "defaults and indexes are what keep its data right and its queries fast.", ev)
