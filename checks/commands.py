"""Reading shell command lines the way a reviewer does: which PostgreSQL client runs, with
which options, against which database, reading which file — and which passwords are written
down where they should not be.

A kit module of the files family (no checks here), for crontab jobs, runbooks and scripts.
Nothing is run. The reading is a careful approximation of the shell: words and quotes
(``shlex``), the operators ``;``, ``&&``, ``||``, ``|``, ``&``, redirections (``<``, ``>``,
``>>``, ``2>&1``), assignments before a command (``PGDATABASE=x vacuumdb``) and ``export``,
``$VAR`` / ``${VAR}`` / ``${VAR:-default}`` from the environment known so far, command
substitutions (``$(date +%F)``) as opaque words, and wrappers (``sudo -u postgres``,
``nice``, ``su -c "…"``, ``bash -c '…'``) looked through.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from psycopg.conninfo import conninfo_to_dict

ALL_DATABASES = "*all databases*"
CLIENTS = ("psql", "pg_dump", "pg_restore", "vacuumdb", "reindexdb", "clusterdb", "createdb", "dropdb",
           "pg_dumpall")

# Options that take a value, per program (short letter or long name -> canonical long name).
_COMMON = {"d": "dbname", "h": "host", "p": "port", "U": "username"}
_WITH_VALUE = {
    "psql": {**_COMMON, "c": "command", "f": "file", "v": "set", "o": "output", "L": "log-file", "P": "pset",
             "F": "field-separator", "R": "record-separator", "T": "table-attr"},
    "pg_dump": {**_COMMON, "f": "file", "F": "format", "j": "jobs", "n": "schema", "N": "exclude-schema",
                "t": "table", "T": "exclude-table", "Z": "compress", "E": "encoding", "S": "superuser",
                "e": "extension"},
    "pg_restore": {**_COMMON, "f": "file", "F": "format", "j": "jobs", "n": "schema", "N": "exclude-schema",
                   "t": "table", "T": "trigger", "I": "index", "P": "function", "L": "use-list", "S": "superuser"},
    "vacuumdb": {**_COMMON, "t": "table", "n": "schema", "N": "exclude-schema", "j": "jobs", "P": "parallel"},
    "reindexdb": {**_COMMON, "t": "table", "n": "schema", "S": "schema", "i": "index", "j": "jobs"},
    "clusterdb": {**_COMMON, "t": "table"},
    "createdb": {**_COMMON, "O": "owner", "T": "template", "E": "encoding", "D": "tablespace", "l": "locale"},
    "dropdb": dict(_COMMON),
    "pg_dumpall": {**_COMMON, "f": "file", "l": "database"},
}
_LONG_WITH_VALUE = {"maintenance-db", "min-xid-age", "min-mxid-age", "buffer-usage-limit", "role", "section",
                    "snapshot", "filter", "lock-wait-timeout", "exclude-table-data", "extra-float-digits",
                    "rows-per-insert", "include-foreign-data", "exclude-extension", "tablespace", "lc-collate",
                    "lc-ctype", "icu-locale", "strategy", "variable", "compress", "format", "file", "dbname",
                    "host", "port", "username", "jobs", "table", "schema", "command", "set", "use-list",
                    "exclude-schema", "exclude-table", "output", "log-file", "owner", "template", "encoding"}
_FLAGS = {
    "psql": {"X": "no-psqlrc", "q": "quiet", "1": "single-transaction", "l": "list", "w": "no-password",
             "W": "password", "e": "echo-queries", "a": "echo-all", "b": "echo-errors", "A": "no-align",
             "t": "tuples-only", "x": "expanded", "s": "single-step", "n": "no-readline", "H": "html"},
    "pg_dump": {"a": "data-only", "s": "schema-only", "c": "clean", "C": "create", "O": "no-owner",
                "x": "no-privileges", "b": "large-objects", "B": "no-large-objects", "v": "verbose",
                "w": "no-password", "W": "password"},
    "pg_restore": {"C": "create", "c": "clean", "e": "exit-on-error", "1": "single-transaction", "O": "no-owner",
                   "x": "no-privileges", "l": "list", "a": "data-only", "s": "schema-only", "v": "verbose",
                   "w": "no-password", "W": "password"},
    "vacuumdb": {"a": "all", "z": "analyze", "Z": "analyze-only", "f": "full", "F": "freeze", "q": "quiet",
                 "v": "verbose", "e": "echo", "w": "no-password", "W": "password"},
    "reindexdb": {"a": "all", "s": "system", "q": "quiet", "v": "verbose", "w": "no-password"},
    "clusterdb": {"a": "all", "q": "quiet", "v": "verbose", "w": "no-password"},
}
_OPERATORS = {";", "&&", "||", "&", "|", "(", ")", ";;", "|&"}
_REDIRECTS = {"<", ">", ">>", ">|", ">&", "&>", "&>>", "<<", "<<<", "<&"}
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
SUBSTITUTION = "$(…)"


@dataclass
class SimpleCommand:
    """One simple command of a line: its words (after assignments), the environment it runs
    with, what feeds its input and where its output goes."""

    words: list[str]
    env: dict[str, str]
    stdin: str | None = None       # a file redirected in with <
    stdout: str | None = None      # a file redirected out with > or >>
    piped_in: "SimpleCommand | None" = None
    piped_out: bool = False


@dataclass
class Invocation:
    """A PostgreSQL client found in a command line, its options read."""

    program: str                     # psql, pg_restore, …
    options: dict[str, list[str]]    # canonical long name -> values ("" for a flag)
    positional: list[str]
    env: dict[str, str]
    command: SimpleCommand = field(repr=False)

    def has(self, *names: str) -> bool:
        return any(n in self.options for n in names)

    def value(self, name: str) -> str | None:
        values = self.options.get(name)
        return values[-1] if values else None

    def database(self) -> str | None:
        """The database it connects to: ``ALL_DATABASES`` for ``--all``, a name, or None when it
        cannot be told (an unknown variable, or nothing names one and no PGDATABASE/PGUSER is set)."""
        if self.program in ("vacuumdb", "reindexdb", "clusterdb") and self.has("all"):
            return ALL_DATABASES
        if self.program == "pg_dumpall":
            return ALL_DATABASES
        named = self.value("dbname")
        if named is None and self.program != "pg_restore" and self.positional:
            named = self.positional[0]
        if named is not None:
            return database_of(named)
        for var in ("PGDATABASE", "PGUSER"):
            value = self.env.get(var)
            if value:
                return None if "$" in value else value
        return None

    def names_database(self) -> bool:
        """Whether a database is named at all (an option, an argument or PGDATABASE/PGUSER)."""
        return (self.value("dbname") is not None or (self.program != "pg_restore" and bool(self.positional))
                or bool(self.env.get("PGDATABASE") or self.env.get("PGUSER"))
                or self.database() == ALL_DATABASES)


def database_of(text: str) -> str | None:
    """A database name, or the dbname of a connection string (URI or key=value); None when it
    holds an unresolved variable or names none."""
    if "$" in text or SUBSTITUTION in text:
        return None
    if "=" in text or text.startswith(("postgres://", "postgresql://")):
        try:
            name = conninfo_to_dict(text).get("dbname")
            return None if name is None else str(name)
        except Exception:  # noqa: BLE001 - not a connection string after all
            return None
    return text


def _replace_substitutions(text: str) -> str:
    """``$(…)`` and backquotes become one opaque word (their output is unknown)."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$(", i):
            depth, j = 0, i + 1
            while j < len(text):
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            out.append(SUBSTITUTION)
            i = j + 1
        elif text[i] == "`":
            j = text.find("`", i + 1)
            out.append(SUBSTITUTION)
            i = len(text) if j < 0 else j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def expand(word: str, env: dict[str, str]) -> str:
    """``$VAR``, ``${VAR}`` and ``${VAR:-default}`` from ``env``; unknown ones stay as written."""
    def one(m: re.Match) -> str:
        name = m.group(1) or m.group(3)
        if name in env:
            return env[name]
        if m.group(2) is not None:
            return m.group(2)
        return m.group(0)
    return _VAR.sub(one, word)


def tokens(line: str) -> list[str]:
    """Shell words and operators of one line (comments dropped)."""
    text = _replace_substitutions(line)
    text = re.sub(r"(?:(?<=\s)|^)\d+(?=>|<)", "", text)  # 2>&1, 1> log: the descriptor is no argument
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote: read it as plain words
        return text.split()


def simple_commands(line: str, env: dict[str, str] | None = None) -> list[SimpleCommand]:
    """The simple commands of a command line, each with the environment it runs in."""
    env = dict(env or {})
    out: list[SimpleCommand] = []
    current: list[str] = []
    local: dict[str, str] = {}
    stdin = stdout = None
    piped_from: SimpleCommand | None = None
    words = tokens(line)

    def finish(operator: str | None) -> None:
        nonlocal current, local, stdin, stdout, piped_from
        if current:
            if current[0] == "export":
                for word in current[1:]:
                    m = _ASSIGNMENT.match(word)
                    if m:
                        env[m.group(1)] = expand(m.group(2), env)
            cmd = SimpleCommand([expand(w, {**env, **local}) for w in current], {**env, **local}, stdin, stdout,
                                piped_in=piped_from, piped_out=operator in ("|", "|&"))
            out.append(cmd)
            piped_from = cmd if operator in ("|", "|&") else None
        elif local:  # a line of assignments only: they stay for the rest of the line
            env.update(local)
        current, local, stdin, stdout = [], {}, None, None

    i = 0
    while i < len(words):
        word = words[i]
        if word in _OPERATORS:
            finish(word)
        elif word in _REDIRECTS:
            target = words[i + 1] if i + 1 < len(words) else ""
            if word.startswith("<") and word != "<<":
                stdin = expand(target, env)
            elif word.startswith(">") or word.startswith("&>"):
                stdout = expand(target, env)
            i += 1
        elif not current and (m := _ASSIGNMENT.match(word)):
            local[m.group(1)] = expand(m.group(2), {**env, **local})
        else:
            current.append(word)
        i += 1
    finish(None)
    return out


def read_options(program: str, args: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """(options by canonical long name, positional arguments) of one client's arguments."""
    with_value = _WITH_VALUE.get(program, _COMMON)
    flags = _FLAGS.get(program, {})
    options: dict[str, list[str]] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positional += args[i + 1:]
            break
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            if not eq and name in _LONG_WITH_VALUE and i + 1 < len(args) and name not in ("password",):
                value = args[i + 1]
                i += 1
            options.setdefault(name, []).append(value)
        elif arg.startswith("-") and len(arg) > 1:
            letters = arg[1:]
            for k, letter in enumerate(letters):
                if letter in with_value:
                    value = letters[k + 1:]
                    if not value and i + 1 < len(args):
                        value = args[i + 1]
                        i += 1
                    options.setdefault(with_value[letter], []).append(value)
                    break
                options.setdefault(flags.get(letter, letter), []).append("")
        else:
            positional.append(arg)
        i += 1
    return options, positional


def _basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def invocations(line: str, env: dict[str, str] | None = None, programs=CLIENTS, _depth: int = 0) -> list[Invocation]:
    """Every run of a PostgreSQL client in a command line, wrappers (``sudo``, ``nice``,
    ``su -c "…"``, ``bash -c '…'``) looked through."""
    found: list[Invocation] = []
    for cmd in simple_commands(line, env):
        for k, word in enumerate(cmd.words):
            name = _basename(word)
            if name in programs:
                options, positional = read_options(name, cmd.words[k + 1:])
                found.append(Invocation(name, options, positional, cmd.env, cmd))
                break
            if _depth < 3 and any(c.isspace() for c in word) and any(p in word for p in programs):
                inner = invocations(word, cmd.env, programs, _depth + 1)
                if inner:
                    found.extend(inner)
                    break
    return found


# ------------------------------------------------------------------------------------------
# Dump formats as commands describe them


def dump_format_of(invocation: Invocation) -> str:
    """The format a pg_dump run writes: custom, directory, tar or plain (the default)."""
    value = (invocation.value("format") or "p").lower()
    return {"c": "custom", "custom": "custom", "d": "directory", "directory": "directory", "t": "tar",
            "tar": "tar", "p": "plain", "plain": "plain"}.get(value, value)


# ------------------------------------------------------------------------------------------
# Secrets written into a file


_SECRET_PATTERNS = (
    (re.compile(r"\bPGPASSWORD=(?P<q>[\"']?)(?P<secret>(?!\$)[^\s\"';&|]+)"), "PGPASSWORD set to a literal"),
    (re.compile(r"(?i)\bpassword\s*=\s*(?P<q>[\"']?)(?P<secret>(?!\$)[^\s\"';&|]+)"),
     "a password= literal in a connection string"),
    (re.compile(r"(?i)postgres(?:ql)?://[^/\s:@\"']+:(?P<secret>(?!\$)[^@\s/\"']+)@"),
     "a password in a connection URI"),
    (re.compile(r"(?i)(?:[^\s:\"'=]+:){4}(?P<secret>(?!\$)[^\s:\"']+)[^\n]*\.pgpass"),
     "a ~/.pgpass line with a literal password"),
    (re.compile(r"(?i)\.pgpass.*?(?:[^\s:\"'=]+:){4}(?P<secret>(?!\$)[^\s:\"']+)"),
     "a ~/.pgpass line with a literal password"),
)


def secrets_in(text: str) -> list[tuple[int, str, str]]:
    """(line number, what, the line with the secret masked) for every password written into a
    script as a literal. Values taken from a variable or a command (``$PW``, ``$(cat …)``)
    and comment lines do not count."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for pattern, what in _SECRET_PATTERNS:
            m = pattern.search(line)
            if m and m.group("secret").strip("\"'") and SUBSTITUTION not in m.group("secret"):
                masked = line[:m.start("secret")] + "••••" + line[m.end("secret"):]
                found.append((number, what, masked.strip()))
                break
    return found
