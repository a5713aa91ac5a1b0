"""Files: what the learner hands in besides SQL — the incident report and the backup script.

Files are read from the submission directory only, as ``pgdrill/submission.py`` reads them:
a path that leaves it (``../``, an absolute path), a symbolic link anywhere on the way (even
one pointing inside), a second hard link, a pipe, a device or a file over 5 MiB is refused
with the reason, and text files are read up to 1 MiB.

The backup script is a program the learner wrote, and the grader runs it:

- in a fresh temporary directory (its working directory, ``$HOME`` and ``$TMPDIR``), with
  stdin closed and a time limit after which its whole process group is killed;
- with a scrubbed environment: ``PATH`` starts with the server's own binaries (so
  ``pg_dump`` matches the server version), and only ``PGHOST``, ``PGPORT``, ``PGUSER``,
  ``PGDATABASE`` and ``BACKUP_DIR`` describe what to back up and where to. ``PGUSER`` is
  ``pgdrill_grader``, which reads everything and can change nothing (``PGOPTIONS`` gives
  its sessions the default ``search_path``, so ``pg_dump -t orders`` finds the table);
- confined by ``fixtures/confine.py``: when the grader is root, as an unprivileged OS user
  of its own (``nobody`` by default; not the server's user, so it cannot read the cluster's
  files or signal the postmaster) that reaches the server through a socket directory of its
  own and may only log in as ``pgdrill_grader`` (a restore script: as ``learner``, and only in
  the scratch database made for it); without network (a network namespace of its own);
  with limits on processes and file sizes; and every process it started — even one that
  left its session — is killed when it ends. It gets a copy of the script, never the
  submission folder. Without root the script runs as the grader's own OS user (with the
  time limit and the clean-up), so grade only scripts you would run yourself there.

Nothing the script leaves in ``$BACKUP_DIR`` is followed: a symbolic link or a second hard
link there fails the check (the restore runs as the grader and must not read, say,
``/etc/shadow`` through it), and a compressed dump may not expand beyond 4 GiB.

The dump is restored into a scratch database created for the purpose and always dropped,
as role ``learner`` (its owner), never as a superuser: a dump is SQL the learner controls.
Plain-format dumps go through ``psql`` in ``\\restrict`` mode with a key the dump cannot
know, so psql meta-commands in it (``\\!`` would run a shell command) are refused.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from checks.base import CheckContext, Outcome, check
from checks.results import (ReferenceQueryError, ShadowedBuiltins, as_number, reference_connection, reference_value,
                            values_equal)
from checks.sql import as_list, display, load_sql, rows_evidence, split_qualified
from fixtures.sandbox import GRADER, LEARNER, TEMPLATE_EXTENSIONS
from pgdrill import submission
from pgdrill.report import Evidence

MAX_TEXT_BYTES = 1024 * 1024
CONFINE = Path(__file__).resolve().parents[1] / "fixtures" / "confine.py"
SCRIPT_MAX_FILE_BYTES = 2 * 1024 ** 3      # per file a learner's script writes
SCRIPT_MAX_PROCESSES = 256                 # processes of the sandbox user at once
MAX_EXPANDED_BYTES = 4 * 1024 ** 3         # a gzipped dump, decompressed for the restore
SCRIPT_TIMEOUT_S = 120
RESTORE_TIMEOUT_S = 300
CHECKSUM_TIMEOUT_S = 120
OUTPUT_TAIL = 2000
_scratch_counter = itertools.count(1)


# ------------------------------------------------------------------------------------------
# Reading submission files


def resolve_submission_file(ctx: CheckContext, path: str) -> Path | Outcome:
    """The file ``path`` inside the submission directory, or an Outcome saying why not.

    It must be a regular file of at most ``submission.MAX_FILE_BYTES`` reached without any
    link from the submission's root (``pgdrill.submission``): a link to the course's own files,
    a pipe or a device is refused with the reason.
    """
    folder = Path(ctx.submission_dir)
    root = Path(ctx.submission_root) if ctx.submission_root is not None else folder
    if Path(path).is_absolute():
        return Outcome(False, f"{path} is outside the submission folder; the grader only reads files inside it.")
    try:
        submission.read_file(root, folder / path, submission.MAX_FILE_BYTES)
    except submission.Missing:
        return Outcome(False, f"The file {path} was not found in your submission. Create it (at exactly that path) "
                              "and submit again.")
    except (submission.Refused, OSError) as exc:
        why = exc if isinstance(exc, submission.Refused) else exc.strerror
        return Outcome(False, f"The grader did not read {path}: {why}.")
    return folder / path


def read_text(path: Path) -> str:
    """At most ``MAX_TEXT_BYTES`` of a file ``resolve_submission_file`` accepted (still no link, no pipe)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    with open(fd, "rb") as fh:
        data = fh.read(MAX_TEXT_BYTES)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace")


# ------------------------------------------------------------------------------------------
# Markdown


_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NUMBERING = re.compile(r"^(?:\(?(?:\d+(?:\.\d+)*|[ivxlc]+|[a-z])[.)]|\d+(?:\.\d+)+)\s+", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")


def normalise_heading(text: str) -> str:
    """Lower case, without emphasis marks, leading numbering ("1.", "2.3", "IV)") or trailing colon."""
    text = re.sub(r"[*_`]+", "", text).strip()
    text = _NUMBERING.sub("", text)
    text = text.strip().rstrip(":").strip()
    return " ".join(text.lower().split())


def markdown_sections(text: str) -> list[tuple[int, str, str]]:
    """(level, heading, body) for every heading; a body runs to the next heading of the same
    or a higher level, so subsections count as their parent's content too."""
    lines = text.splitlines()
    headings: list[tuple[int, int, str]] = []  # (line index, level, title)
    fence = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if m:
            marker = m.group(1)[0]
            if fence is None:
                fence = marker
            elif fence == marker:
                fence = None
            continue
        if fence is not None:
            continue
        m = _ATX.match(line)
        if m:
            headings.append((i, len(m.group(1)), m.group(2) or ""))
            continue
        m = _SETEXT.match(line)
        if m and i > 0 and lines[i - 1].strip() and not _ATX.match(lines[i - 1]) \
                and (not headings or headings[-1][0] != i - 1):
            level = 1 if m.group(1).startswith("=") else 2
            headings.append((i - 1, level, lines[i - 1].strip()))
    out = []
    for k, (start, level, title) in enumerate(headings):
        end = len(lines)
        for later_start, later_level, _ in headings[k + 1:]:
            if later_level <= level:
                end = later_start
                break
        body_start = start + 2 if start + 1 < len(lines) and _SETEXT.match(lines[start + 1]) else start + 1
        out.append((level, title, "\n".join(lines[body_start:end])))
    return out


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _heading_matches(heading: str, wanted: str) -> bool:
    h, w = normalise_heading(heading), normalise_heading(wanted)
    if not w:
        return False
    return h == w or re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", h) is not None


@check
def report_has_sections(ctx: CheckContext, *, path: str, sections: list, min_words: int = 20) -> Outcome:
    """The Markdown report has the required sections, each with real content.

    What it asserts:
        The Markdown file `path` in the submission has, for every entry of `sections`, a
        heading of level 1–3 (`#` to `###`) whose text contains that name — compared without
        case, emphasis, leading numbering like `1.` or `2.3` and a trailing colon — followed by
        at least `min_words` words before the next heading of the same or a higher level
        (subsections count). An entry may be a list of alternative names.
    Arguments:
        path: the report's path in the submission, e.g. `incident-report.md`.
        sections: the required section names; an entry can be a list of alternatives.
        min_words: the fewest words a section needs to count as written.
    Feedback on failure:
        Partial credit per section. Names each missing section and each section that is too
        short (with its word count), and lists the headings that were found.
    Example:
        - check: report_has_sections
          with:
            path: incident-report.md
            sections: [Summary, Root cause, [Fixes applied, Remediation], Prevention]
            min_words: 30
    """
    found = resolve_submission_file(ctx, path)
    if isinstance(found, Outcome):
        return found
    parsed = [(lvl, title, body) for lvl, title, body in markdown_sections(read_text(found)) if lvl <= 3]
    wanted = [[str(a) for a in s] if isinstance(s, (list, tuple)) else [str(s)] for s in sections]
    if not wanted:
        raise ValueError("report_has_sections needs at least one section name")
    rows, problems, good = [], [], 0
    for names in wanted:
        label = " / ".join(names)
        match = next(((title, body) for _, title, body in parsed if any(_heading_matches(title, n) for n in names)), None)
        if match is None:
            problems.append(f"no section “{label}”")
            rows.append((label, "missing", "0"))
            continue
        words = word_count(match[1])
        if words < min_words:
            problems.append(f"section “{match[0].strip()}” has {words} word(s), at least {min_words} expected")
            rows.append((label, match[0].strip(), str(words)))
            continue
        good += 1
        rows.append((label, match[0].strip(), str(words)))
    evidence = [rows_evidence("Required sections", ("required", "heading found", "words"), rows, limit=50)]
    if good == len(wanted):
        return Outcome(True, f"{path} has all {len(wanted)} required sections.", tuple(evidence))
    headings = [f"{'#' * lvl} {title}" for lvl, title, _ in parsed]
    evidence.append(Evidence("text", f"Headings in {path}", "\n".join(headings) or "(no headings at all)"))
    return Outcome(
        False,
        f"{path} has {good} of {len(wanted)} required sections: {'; '.join(problems)}. Use Markdown headings "
        f"(`## Root cause`) so readers can find each part, and write at least {min_words} words under each.",
        tuple(evidence), score=good / len(wanted))


# ------------------------------------------------------------------------------------------
# Numbers quoted in the report


_NUMBER = re.compile(
    r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*(?:bytes|kB|KB|MB|GB|TB)\b)?(?!\w)")


def _phrase_pattern(phrase: str) -> re.Pattern:
    words = [re.escape(w) for w in re.split(r"[\s_-]+", phrase.strip()) if w]
    return re.compile(r"(?<!\w)" + r"[\s_-]+".join(w + r"(?:e?s)?" for w in words) + r"(?!\w)", re.IGNORECASE)


def numbers_near(text: str, phrase: str, window: int) -> list[str]:
    """Numbers within ``window`` words of any occurrence of ``phrase``: first those on the
    same line, then (if none) those in the same paragraph."""
    pattern = _phrase_pattern(phrase)
    found: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        for m in pattern.finditer(paragraph):
            line_start = paragraph.rfind("\n", 0, m.start()) + 1
            line_end = paragraph.find("\n", m.end())
            line_end = len(paragraph) if line_end < 0 else line_end
            for lo, hi in ((line_start, line_end), (0, len(paragraph))):
                before = paragraph[lo:m.start()]
                after = paragraph[m.end():hi]
                near_before = _last_words(before, window)
                near_after = _first_words(after, window)
                nums = [n.group(0) for n in _NUMBER.finditer(near_before)] + \
                       [n.group(0) for n in _NUMBER.finditer(near_after)]
                if nums:
                    found.extend(nums)
                    break
    return found


def _last_words(text: str, n: int) -> str:
    spans = [m.start() for m in re.finditer(r"\S+", text)]
    return text[spans[-n]:] if len(spans) > n else text


def _first_words(text: str, n: int) -> str:
    spans = [m.end() for m in re.finditer(r"\S+", text)]
    return text[:spans[n - 1]] if len(spans) > n else text


def _number_value(token: str):
    return token.replace("−", "-").replace(",", "")


@check
def report_mentions_numbers(ctx: CheckContext, *, path: str, facts: dict, window: int = 12,
                            against: str = "baseline", relative_tolerance: float = 0.0) -> Outcome:
    """The report quotes the right numbers for the incident's findings.

    What it asserts:
        For each entry `phrase: value` of `facts`, the Markdown file `path` mentions the phrase
        (case-insensitive; spaces, `_` and `-` alike; a plural `s` allowed) with the correct
        number within `window` words of it — on the same line if any number is there, else in
        the same paragraph. A value is a number or a SQL query returning one value; queries run
        by the grader on the untouched incident (`against: baseline`, the numbers as they were
        when the learner diagnosed them) or on the learner's database (`against: graded`).
        Sizes written like `142 MB` count as bytes. `phrase` may list alternatives split by `|`.
    Arguments:
        path: the report's path in the submission.
        facts: mapping of phrase to expected value (a number, or SQL returning one value).
        window: how many words before or after the phrase a number may stand.
        against: `baseline` (untouched incident) or `graded` (the learner's database) for
            SQL values.
        relative_tolerance: allowed difference as a fraction of the expected value.
    Feedback on failure:
        Partial credit per fact. Says which phrases are not mentioned, and for the others which
        numbers stand near them and which number was expected.
    Example:
        - check: report_mentions_numbers
          with:
            path: incident-report.md
            facts:
              "orphaned order items|orphaned records": "SELECT count(*) FROM order_items oi WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id)"
              "negative stock": "SELECT count(*) FROM products WHERE stock_quantity < 0"
    """
    found = resolve_submission_file(ctx, path)
    if isinstance(found, Outcome):
        return found
    if not facts:
        raise ValueError("report_mentions_numbers needs at least one fact")
    text = read_text(found)
    conn = None
    rows, problems, good = [], [], 0
    for phrase, value in facts.items():
        if isinstance(value, str) and as_number(value) is None:
            conn = conn or reference_connection(ctx, against)
            try:
                expected = reference_value(conn, value)
            except ShadowedBuiltins as exc:
                return exc.outcome()
            except ReferenceQueryError as exc:
                if against == "graded" and exc.learner_caused:
                    return exc.outcome()
                raise ReferenceQueryError(f"fact {phrase!r}: {exc}", exc.sqlstate, exc.error) from exc
        else:
            expected = value
        alternatives = [p.strip() for p in str(phrase).split("|") if p.strip()]
        near = [n for alt in alternatives for n in numbers_near(text, alt, window)]
        mentioned = any(_phrase_pattern(alt).search(text) for alt in alternatives)
        label = alternatives[0] if alternatives else str(phrase)
        if any(values_equal(expected, _number_value(n), relative_tolerance=relative_tolerance,
                            absolute_tolerance=0.0) for n in near):
            good += 1
            rows.append((label, str(expected), ", ".join(near[:5]), "yes"))
        elif not mentioned:
            problems.append(f"“{label}” is not mentioned")
            rows.append((label, str(expected), "—", "no"))
        elif not near:
            problems.append(f"“{label}” is mentioned without a number near it")
            rows.append((label, str(expected), "—", "no"))
        else:
            problems.append(f"near “{label}” the report says {', '.join(near[:3])}, expected {expected}")
            rows.append((label, str(expected), ", ".join(near[:5]), "no"))
    total = len(facts)
    evidence = (rows_evidence("Numbers in the report", ("finding", "expected", "numbers near it", "correct"),
                              rows, limit=50),)
    if good == total:
        return Outcome(True, f"{path} quotes the right number for all {total} finding(s).", evidence)
    return Outcome(False, f"{path} quotes {good} of {total} finding(s) correctly: {'; '.join(problems)}. "
                          "An incident report is read by people who were not there: quote the numbers you found, "
                          "next to what they count.", evidence, score=good / total)


# ------------------------------------------------------------------------------------------
# Backup and restore


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-OUTPUT_TAIL:].decode("utf-8", errors="replace").strip()


def _run_sandboxed(argv: list[str], *, cwd: Path, env: dict, timeout: float, out: Path, err: Path,
                   stdin=subprocess.DEVNULL) -> tuple[int | None, float]:
    """Run a process in its own session; kill the whole session on timeout and afterwards
    (so nothing it left in the background survives). Returns (exit status or None, seconds)."""
    started = time.monotonic()
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin, stdout=fo, stderr=fe, start_new_session=True)
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = None
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
    return status, time.monotonic() - started


def _sandbox_dirs(tmp: Path, names, user) -> None:
    """``tmp/<name>`` for each name, owned by the sandbox OS user when there is one; ``tmp``
    itself stays the grader's (others may pass through it, not list or change it)."""
    tmp.chmod(0o711)
    for name in names:
        (tmp / name).mkdir()
        if user is not None:
            os.chown(tmp / name, user.pw_uid, user.pw_gid)


def _run_learner_program(ctx: CheckContext, script: Path, tmp: Path, *, cwd: Path, env: dict, timeout: float,
                         out: Path, err: Path) -> tuple[int | None, float, dict]:
    """Run the learner's shell script through ``fixtures/confine.py`` (see the module notes).

    Returns (exit status, or None when it ran out of time; seconds; the launcher's report).
    """
    user = ctx.server.sandbox if ctx.server is not None else None
    copy_dir = tmp / "program"
    copy_dir.mkdir(mode=0o755, exist_ok=True)
    copy_dir.chmod(0o755)
    copy = copy_dir / script.name
    shutil.copyfile(script, copy)
    copy.chmod(0o644)
    report_file = tmp / "confine.json"
    argv = [sys.executable, str(CONFINE), "--status", str(report_file), "--timeout", str(timeout),
            "--max-file-bytes", str(SCRIPT_MAX_FILE_BYTES), "--max-processes", str(SCRIPT_MAX_PROCESSES)]
    if user is not None:
        argv += ["--user", user.pw_name]
    if env.get("PGHOST", "").startswith("/"):  # the server is a socket file: no network needed
        argv.append("--no-network")
    argv += ["--", shutil.which("bash") or "/bin/sh", str(copy)]
    status, seconds = _run_sandboxed(argv, cwd=cwd, env=env, timeout=timeout + 30, out=out, err=err)
    try:
        report = json.loads(report_file.read_text())
    except (OSError, ValueError):
        report = {}
    if status is None or report.get("timed_out") or not report:
        return None, seconds, report
    code = report.get("status")
    if code is None:
        code = 128 + int(report.get("signal") or 0)
    return code, seconds, report


def _links_in(backup_dir: Path) -> list[str]:
    """Entries of ``backup_dir`` the grader will not follow: symbolic links, files with a
    second hard link, anything that is neither a file nor a directory."""
    bad = []
    for root, dirs, files in os.walk(backup_dir):
        for name in dirs + files:
            path = Path(root) / name
            st = path.lstat()
            rel = str(path.relative_to(backup_dir))
            if path.is_symlink():
                bad.append(f"{rel} (a symbolic link to {os.readlink(path)})")
            elif not (path.is_dir() or path.is_file()):
                bad.append(f"{rel} (not a regular file)")
            elif path.is_file() and st.st_nlink > 1:
                bad.append(f"{rel} (a hard link to another file)")
    return bad


def _links_refused(backup_dir: Path, evidence) -> Outcome | None:
    """The failure for a $BACKUP_DIR holding links, which the grader never follows."""
    links = _links_in(backup_dir)
    if not links:
        return None
    return Outcome(False, f"$BACKUP_DIR holds {', '.join(links[:3])}: a dump is a regular file of its own, "
                          "and the grader does not follow links out of $BACKUP_DIR.", tuple(evidence))


class _TooLarge(Exception):
    pass


def _copy_limited(src, dst, limit: int = MAX_EXPANDED_BYTES) -> None:
    copied = 0
    while chunk := src.read(1024 * 1024):
        copied += len(chunk)
        if copied > limit:
            raise _TooLarge(f"it expands to more than {limit // 1024 ** 3} GiB")
        dst.write(chunk)


def _find_dump(backup_dir: Path) -> tuple[Path | None, list[Path]]:
    """The newest dump in ``backup_dir`` (a file, or a directory-format dump) and all candidates."""
    candidates: list[Path] = []
    for root, dirs, files in os.walk(backup_dir):
        here = Path(root)
        if "toc.dat" in files:  # a directory-format dump is one candidate, not many files
            candidates.append(here)
            dirs[:] = []
            continue
        # Symbolic links are skipped: a "dump" pointing at /etc/shadow must not be read.
        candidates += [here / f for f in files
                       if not (here / f).is_symlink() and (here / f).is_file() and (here / f).stat().st_size > 0]
    if not candidates:
        return None, []
    candidates.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return candidates[0], candidates


def dump_format(path: Path) -> str:
    """directory, custom, tar, gzip-custom, gzip-plain, plain, zstd or unknown."""
    if path.is_dir():
        return "directory"
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head.startswith(b"PGDMP"):
        return "custom"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if head.startswith(b"\x1f\x8b"):
        with gzip.open(path, "rb") as gz:
            inner = gz.read(512)
        return "gzip-custom" if inner.startswith(b"PGDMP") else "gzip-plain"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown"
    return "plain"


def _psql_can_restrict(psql: Path) -> bool:
    """psql has \\restrict from 18.0 and 17.6, 16.10, 15.14, 14.19, 13.22."""
    out = subprocess.run([str(psql), "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not m:
        return False
    major, minor = int(m.group(1)), int(m.group(2) or 0)
    return major >= 18 or minor >= {17: 6, 16: 10, 15: 14, 14: 19, 13: 22}.get(major, 10 ** 6)


def _client_env(ctx: CheckContext, tmp: Path, bindir: Path, **extra) -> dict:
    params = ctx.server.connect_params(ctx.dbname, GRADER)
    env = {
        "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp / "home"),
        "TMPDIR": str(tmp / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PGHOST": str(params.get("host", "")),
        "PGPORT": str(params.get("port", 5432)),
        "PGCONNECT_TIMEOUT": "10",
        "PGAPPNAME": "pgdrill-backup",
    }
    env.update(extra)
    return env


def _checksums(conn, tables: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, object] | None]:
    """(row count, checksum) per table, None for a table that is missing (or not a table)."""
    out = {}
    for schema, name in tables:
        with conn.transaction(force_rollback=True):
            conn.execute("SELECT pg_catalog.set_config('statement_timeout', %s, true)",
                         (f"{CHECKSUM_TIMEOUT_S * 1000}ms",))
            rel = conn.execute(load_sql("catalog_relation"), {"schema": schema, "name": name}).fetchone()
            if rel is None or rel[3] not in ("r", "p"):
                out[(schema, name)] = None
                continue
            query = sql.SQL(load_sql("files_table_checksum")).format(table=sql.Identifier(schema, name))
            count, checksum = conn.execute(query).fetchone()
            out[(schema, name)] = (int(count), checksum)
    return out


@check
def backup_restores(ctx: CheckContext, *, script: str = "backup.sh", tables: list | None = None,
                    timeout: int = SCRIPT_TIMEOUT_S) -> Outcome:
    """The learner's backup script produces a dump that restores to the same data.

    What it asserts:
        The shell script `script` from the submission, run with `PGHOST`, `PGPORT`, `PGUSER`,
        `PGDATABASE` describing the learner's database and `BACKUP_DIR` an empty directory,
        exits with status 0 within `timeout` seconds and leaves a dump in `$BACKUP_DIR`
        (pg_dump's custom, directory or tar format, or plain SQL, optionally gzipped). That
        dump, restored into a scratch database (pg_restore, or psql for plain SQL), holds each
        table with the same row count and the same content (an order-independent checksum
        over all rows) as the learner's database. The script runs confined (family notes):
        in a temp directory with a scrubbed environment, without network, as an unprivileged
        OS user that may only log in as `pgdrill_grader`, and everything it started is
        killed when it ends.
    Arguments:
        script: the script's path in the submission.
        tables: the tables to compare (`orders` or `schema.table`); default every table in
            schema public.
        timeout: seconds the script may run before it is killed.
    Feedback on failure:
        Says whether the script failed (exit status and the end of its output), timed out,
        wrote nothing, or wrote something that is not a dump; otherwise partial credit per
        table, listing tables missing from the restore or with different row counts or
        content, and the restore's errors.
    Example:
        - check: backup_restores
          with: {script: backup.sh, tables: [customers, orders, order_items, products]}
    """
    found = resolve_submission_file(ctx, script)
    if isinstance(found, Outcome):
        return found
    if ctx.server is None or ctx.server.bindir is None:
        raise RuntimeError("backup_restores needs the server's binaries (ctx.server.bindir)")
    bindir = Path(ctx.server.bindir)
    tmp = Path(tempfile.mkdtemp(prefix="pgdrill-backup-"))
    scratch = None
    try:
        backup_dir, work = tmp / "backup", tmp / "work"
        _sandbox_dirs(tmp, ("backup", "work", "home", "tmp"), ctx.server.sandbox)
        # pgdrill_grader's own search_path (pg_catalog, pg_temp) would hide the tables from
        # `pg_dump -t orders`: give the script's sessions the server's default path.
        env = _client_env(ctx, tmp, bindir, PGUSER=GRADER, PGDATABASE=ctx.dbname, BACKUP_DIR=str(backup_dir),
                          PGOPTIONS="-c search_path=\"$user\",public")
        if ctx.server.sandbox is not None:
            env["PGHOST"] = str(ctx.server.sandbox_socket_dir)
        status, seconds, _ = _run_learner_program(ctx, found, tmp, cwd=work, env=env, timeout=timeout,
                                                  out=tmp / "script.out", err=tmp / "script.err")
        output = "\n".join(t for t in (_tail(tmp / "script.out"), _tail(tmp / "script.err")) if t)
        out_ev = [Evidence("text", f"Output of {script} (last lines)", output)] if output else []
        if status is None:
            return Outcome(False, f"{script} did not finish within {timeout} s and was stopped. A backup that hangs "
                                  "is no backup: does it wait for input (a password prompt?) or run forever?",
                           tuple(out_ev))
        if status != 0:
            return Outcome(False, f"{script} exited with status {status}, so the backup failed. Run it yourself with "
                                  "the same environment variables and read its error output.", tuple(out_ev))
        refused = _links_refused(backup_dir, out_ev)
        if refused is not None:
            return refused
        dump, candidates = _find_dump(backup_dir)
        if dump is None:
            stray = sorted(p.name for p in work.iterdir())[:5]
            where = (f" (it did write {', '.join(stray)} into its working directory)" if stray else "")
            return Outcome(False, f"{script} exited successfully but wrote nothing to $BACKUP_DIR{where}. Write the "
                                  "dump to \"$BACKUP_DIR\", e.g. pg_dump -Fc -f \"$BACKUP_DIR/techshop.dump\".",
                           tuple(out_ev))
        fmt = dump_format(dump)
        shown = dump.relative_to(backup_dir)
        if fmt in ("unknown", "zstd"):
            return Outcome(False, f"$BACKUP_DIR/{shown} is not a dump the grader can restore (format: {fmt}); use "
                                  "pg_dump's custom (-Fc), directory (-Fd) or tar (-Ft) format, or plain SQL.",
                           tuple(out_ev))

        with ctx.server.connect(purpose="janitor") as admin:
            scratch = f"pgdrill_restore_{os.getpid()}_{next(_scratch_counter)}"
            admin.execute(sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(scratch), sql.Identifier(LEARNER)))
            admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(scratch)))
            admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(scratch),
                                                                            sql.Identifier(GRADER)))
        with ctx.server.connect(scratch, purpose="janitor") as admin:
            # The incident's template extensions, so a dump's CREATE EXTENSION finds them in place.
            for ext in TEMPLATE_EXTENSIONS:
                try:
                    admin.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA public").format(sql.Identifier(ext)))
                except psycopg.Error:
                    pass
        try:
            restore_status, restore_log = _restore(ctx, tmp, bindir, dump, fmt, scratch)
        except _TooLarge as exc:
            return Outcome(False, f"$BACKUP_DIR/{shown} is not restored: {exc}.", tuple(out_ev))
        if restore_status is None:
            return Outcome(False, f"Restoring $BACKUP_DIR/{shown} took longer than {RESTORE_TIMEOUT_S} s and was "
                                  "stopped.", tuple(out_ev))

        wanted = ([split_qualified(str(t)) for t in tables] if tables
                  else [tuple(r) for r in ctx.grader().execute(load_sql("files_tables")).fetchall()])
        if not wanted:
            raise RuntimeError("the learner's database has no tables to compare")
        original = _checksums(ctx.grader(), wanted)
        with ctx.server.connect(scratch, GRADER, purpose="grader-restore") as conn:
            restored = _checksums(conn, wanted)
    finally:
        if scratch is not None:
            ctx.server.drop_database(scratch)
        shutil.rmtree(tmp, ignore_errors=True)

    good, problems, rows = _compare_tables(wanted, original, restored)
    evidence = [rows_evidence("Tables: your database vs. the restored dump",
                              ("table", "rows", "rows restored", "content"), rows, limit=50),
                Evidence("text", "Dump", f"$BACKUP_DIR/{shown} ({fmt} format); the script took {seconds:.1f} s"
                         + (f"; the newest of {len(candidates)} files it wrote" if len(candidates) > 1 else ""))]
    if good == len(wanted):
        return Outcome(True, f"{script} made a {fmt}-format dump that restores all {len(wanted)} table(s) intact.",
                       tuple(evidence))
    if restore_log:
        evidence.append(Evidence("text", "Restore errors (last lines)", restore_log))
    return Outcome(False, f"The dump from {script} restores {good} of {len(wanted)} table(s) intact: "
                          f"{'; '.join(problems[:5])}{' …' if len(problems) > 5 else ''}. A backup is only as good "
                          "as its restore: test it the same way.",
                   tuple(evidence + out_ev), score=good / len(wanted))


# Restore messages caused by the scratch database rather than by the dump: objects of the
# incident's superuser (extensions, the incident_tools schema) that role learner may not
# alter, pg_dump's own \restrict lines refused inside our restricted psql.
_HARMLESS = re.compile(
    r"must be owner of extension|must be able to SET ROLE|permission denied for function bt_|"
    r"no privileges were granted for|backslash commands are restricted|\\unrestrict: wrong key|"
    r"errors ignored on restore|must be owner of schema incident_tools|schema \"incident_tools\" already exists")
_MESSAGE_START = re.compile(r"^(?:pg_restore|psql):")


def restore_errors(text: str) -> str:
    """The restore's messages without those the scratch database itself causes."""
    entries: list[list[str]] = []
    for line in text.splitlines():
        if _MESSAGE_START.match(line) or not entries:
            entries.append([line])
        else:
            entries[-1].append(line)
    kept = ["\n".join(e).strip() for e in entries if not _HARMLESS.search("\n".join(e))]
    return "\n".join(k for k in kept if k)[-OUTPUT_TAIL:]


def _restore(ctx: CheckContext, tmp: Path, bindir: Path, dump: Path, fmt: str, scratch: str) -> tuple[int | None, str]:
    """Restore ``dump`` into ``scratch`` as role learner; (exit status or None, error tail)."""
    conninfo = ctx.server.conninfo(scratch, LEARNER)
    env = _client_env(ctx, tmp, bindir, PGUSER=LEARNER, PGDATABASE=scratch)
    out, err = tmp / "restore.out", tmp / "restore.err"
    if fmt in ("custom", "directory", "tar", "gzip-custom"):
        source = dump
        if fmt == "gzip-custom":
            source = tmp / "restore.dump"
            with gzip.open(dump, "rb") as src, open(source, "wb") as dst:
                _copy_limited(src, dst)
        argv = [str(bindir / "pg_restore"), "--no-owner", "--no-privileges", "--no-password",
                "-d", conninfo, str(source)]
    else:
        psql = bindir / "psql"
        if not _psql_can_restrict(psql):
            raise RuntimeError(f"{psql} has no \\restrict, so a plain-format dump cannot be restored safely")
        script = tmp / "restore.sql"
        key = secrets.token_hex(16)
        opener = gzip.open if fmt == "gzip-plain" else open
        with opener(dump, "rb") as src, open(script, "wb") as dst:
            dst.write(f"\\restrict {key}\n".encode())
            _copy_limited(src, dst)
        argv = [str(psql), "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=0", "-d", conninfo, "-f", str(script)]
    status, _ = _run_sandboxed(argv, cwd=tmp / "work", env=env, timeout=RESTORE_TIMEOUT_S, out=out, err=err)
    with open(err, "rb") as fh:
        messages = fh.read(MAX_TEXT_BYTES).decode("utf-8", errors="replace")
    return status, restore_errors(messages)


# ------------------------------------------------------------------------------------------
# A schedule for maintenance jobs (crontab)


_CRON_FIELDS = (  # name, lowest, highest, names
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_CRON_MACROS = ("@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_CRON_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\s*=")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
DEFAULT_CRON_COMMAND = r"\bvacuumdb\b|\b(?:vacuum|analyze)\b"


def _cron_value(text: str, low: int, high: int, names) -> int:
    if names and text.lower() in names:
        return names.index(text.lower()) + (1 if low == 1 else 0)
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a number" + (f" or a name ({', '.join(names)})" if names else ""))
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}–{high}")
    return value


def cron_field_problem(text: str, field: tuple) -> str | None:
    """Why ``text`` is not a valid crontab field (lists, ranges, steps, names), or None."""
    name, low, high, names = field
    for item in text.split(","):
        if not item:
            return f"{name} field {text!r} has an empty list item"
        base, _, step = item.partition("/")
        try:
            if step and (not step.isdigit() or int(step) < 1):
                return f"{name} field {text!r}: step {step!r} must be a positive number"
            if base == "*":
                continue
            first, dash, last = base.partition("-")
            a = _cron_value(first, low, high, names)
            if dash:
                b = _cron_value(last, low, high, names)
                if a > b:
                    return f"{name} field {text!r}: range {base} runs backwards"
            elif step:
                pass  # "5/10": from 5 every 10, as Vixie cron reads it
        except ValueError as exc:
            return f"{name} field {text!r}: {exc}"
    return None


def parse_crontab(text: str) -> tuple[list[tuple[int, str, str]], list[str]]:
    """(jobs as (line number, schedule, command), problems) of a crontab file."""
    jobs, problems = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or _CRON_ENV.match(line):
            continue
        parts = line.split(None, 1)
        if parts[0].startswith("@"):
            if parts[0].lower() not in _CRON_MACROS:
                problems.append(f"line {number}: unknown schedule {parts[0]} (known: {', '.join(_CRON_MACROS)})")
                continue
            schedule, command = parts[0], (parts[1].strip() if len(parts) > 1 else "")
        else:
            fields = line.split(None, 5)
            if len(fields) < 6:
                problems.append(f"line {number}: {len(fields)} field(s); a job needs five schedule fields "
                                "(minute hour day-of-month month day-of-week) and a command")
                continue
            bad = [p for p in (cron_field_problem(f, spec) for f, spec in zip(fields[:5], _CRON_FIELDS)) if p]
            if bad:
                problems.extend(f"line {number}: {p}" for p in bad)
                continue
            schedule, command = " ".join(fields[:5]), fields[5].strip()
        if not command:
            problems.append(f"line {number}: the schedule has no command")
            continue
        if _UNESCAPED_PERCENT.search(command):
            problems.append(f"line {number}: the command has an unescaped %, which cron turns into a newline "
                            "(everything after it becomes the command's input); write \\% instead")
            continue
        jobs.append((number, schedule, command))
    return jobs, problems


@check
def cron_schedule_valid(ctx: CheckContext, *, path, command_pattern=DEFAULT_CRON_COMMAND, min_jobs=1) -> Outcome:
    """The crontab file schedules the maintenance job correctly.

    What it asserts:
        Every line of the crontab file `path` in the submission is blank, a comment, an
        environment assignment (`PGDATABASE=techshop`) or a job: five schedule fields
        (minute 0–59, hour 0–23, day of month 1–31, month 1–12 or jan–dec, day of week 0–7 or
        sun–sat; each `*`, a number, a range `a-b`, a list `a,b` and an optional step `/n`) or
        an `@daily`-style macro, followed by a command without an unescaped `%`. At least
        `min_jobs` jobs have a command matching the regular expression `command_pattern`
        (case-insensitive; by default one that runs vacuumdb, VACUUM or ANALYZE). Nothing is
        run: pg_cron is not available on the grading servers, so the schedule is graded as a
        file, the way a reviewer would read it before installing it.
    Arguments:
        path: the crontab file's path in the submission, e.g. `maintenance.cron`.
        command_pattern: regular expression a job's command must match.
        min_jobs: how many jobs must match it (default 1).
    Feedback on failure:
        Each invalid line with what is wrong with it (a field out of range, too few fields, a
        `%` cron would cut the command at), or that no job runs the maintenance command; the
        jobs found are listed.
    Example:
        - check: cron_schedule_valid
          with: {path: maintenance.cron, command_pattern: "vacuumdb"}
    """
    found = resolve_submission_file(ctx, path)
    if isinstance(found, Outcome):
        return found
    jobs, problems = parse_crontab(read_text(found))
    pattern = re.compile(str(command_pattern), re.IGNORECASE)
    matching = [j for j in jobs if pattern.search(j[2])]
    evidence = (rows_evidence(f"Jobs in {path}", ("line", "schedule", "command"),
                              [(str(n), s, c) for n, s, c in jobs], limit=20),) if jobs else ()
    if problems:
        return Outcome(False, f"{path} is not a valid crontab: {'; '.join(problems[:5])}"
                              f"{' …' if len(problems) > 5 else ''}. cron skips a line it cannot read, so that job "
                              "would silently never run.", evidence)
    if len(matching) < int(min_jobs):
        have = f"{len(jobs)} job(s), {len(matching)} of them" if jobs else "no jobs, so none"
        return Outcome(False, f"{path} has {have} running the maintenance command (a command matching "
                              f"/{command_pattern}/); at least {min_jobs} expected, e.g. "
                              "30 3 * * * vacuumdb --analyze --dbname=techshop", evidence)
    return Outcome(True, f"{path} schedules {len(matching)} maintenance job(s): "
                         + "; ".join(f"{s} {c}" for _, s, c in matching[:3]) + ".", evidence)


# ------------------------------------------------------------------------------------------
# A restore procedure, tested


def _create_scratch_database(ctx: CheckContext) -> str:
    """An empty database owned by role learner, with the incident's template extensions."""
    scratch = f"pgdrill_restore_{os.getpid()}_{next(_scratch_counter)}"
    with ctx.server.connect(purpose="janitor") as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0 ENCODING 'UTF8'").format(
            sql.Identifier(scratch), sql.Identifier(LEARNER)))
        admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(scratch)))
        admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(scratch),
                                                                        sql.Identifier(GRADER)))
        if ctx.server.sandbox is not None:
            # pg_hba.conf lets the sandbox OS user in as learner only where learner is a member of
            # a role named like the database ("samerole"): this scratch database, nowhere else.
            admin.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(scratch)))
            admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(scratch), sql.Identifier(LEARNER)))
    with ctx.server.connect(scratch, purpose="janitor") as admin:
        for ext in TEMPLATE_EXTENSIONS:
            try:
                admin.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA public").format(sql.Identifier(ext)))
            except psycopg.Error:
                pass
    return scratch


def _drop_scratch_database(ctx: CheckContext, scratch: str) -> None:
    ctx.server.drop_database(scratch)
    with ctx.server.connect(purpose="janitor") as admin:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(scratch)))


def _compare_tables(wanted, original: dict, restored: dict) -> tuple[int, list[str], list[tuple]]:
    """(tables intact, problems, evidence rows) of a restore against the original database."""
    rows, problems, good = [], [], 0
    for key in wanted:
        name = display(*key)
        orig, back = original.get(key), restored.get(key)
        if orig is None:
            problems.append(f"{name} does not exist in your database")
            rows.append((name, "—", "—" if back is None else str(back[0]), "no"))
        elif back is None:
            problems.append(f"{name} is missing from the restored database")
            rows.append((name, str(orig[0]), "missing", "no"))
        elif orig[0] != back[0]:
            problems.append(f"{name} has {orig[0]} rows, the restored copy {back[0]}")
            rows.append((name, str(orig[0]), str(back[0]), "no"))
        elif orig[1] != back[1]:
            problems.append(f"{name} has the same row count but different content in the restored copy")
            rows.append((name, str(orig[0]), str(back[0]), "differs"))
        else:
            good += 1
            rows.append((name, str(orig[0]), str(back[0]), "same"))
    return good, problems, rows


@check
def restore_script_restores(ctx: CheckContext, *, backup: str = "backup.sh", restore: str = "restore.sh",
                            tables: list | None = None, formats: list | None = None,
                            timeout: int = SCRIPT_TIMEOUT_S) -> Outcome:
    """The learner's own restore script brings their backup back into an empty database.

    What it asserts:
        The backup script `backup` runs as in `backup_restores` and leaves a dump in
        `$BACKUP_DIR` — in one of `formats` when given (`custom`, `directory`, `tar`, `plain`,
        `gzip-plain`, `gzip-custom`). Then the restore script `restore` runs with the same
        `$BACKUP_DIR` and with `PGHOST`, `PGPORT`, `PGUSER` (role `learner`) and `PGDATABASE`
        naming an empty scratch database that `learner` owns (with the incident's extensions
        already installed, as on the production server). It must exit with status 0 within
        `timeout` seconds, and afterwards the scratch database must hold each table with the
        same row count and content (an order-independent checksum) as the learner's database.
        This is the scenario's "test restore procedure": the restore is the learner's, not the
        grader's. Both scripts run sandboxed as described in the family notes.
    Arguments:
        backup: the backup script's path in the submission.
        restore: the restore script's path in the submission.
        tables: the tables to compare (`orders` or `schema.table`); default every table in
            schema public.
        formats: the dump formats accepted (default: any the grader can read).
        timeout: seconds each script may run before it is killed.
    Feedback on failure:
        Which step failed: the backup (exit status, output), the dump's format (and why the
        custom format is the one to keep), the restore script (exit status, timeout and the end
        of its output — a restore that exits with an error cannot be told from a failed one by
        whoever runs it at 3 a.m.), or per table what is missing or different after the
        restore. Partial credit per table when both scripts ran.
    Example:
        - check: restore_script_restores
          with: {backup: backup.sh, restore: restore.sh, formats: [custom]}
    """
    scripts = {}
    for role, path in (("backup", backup), ("restore", restore)):
        found = resolve_submission_file(ctx, path)
        if isinstance(found, Outcome):
            return found
        scripts[role] = found
    if ctx.server is None or ctx.server.bindir is None:
        raise RuntimeError("restore_script_restores needs the server's binaries (ctx.server.bindir)")
    bindir = Path(ctx.server.bindir)
    tmp = Path(tempfile.mkdtemp(prefix="pgdrill-restore-"))
    scratch = None
    sandbox_host = {"PGHOST": str(ctx.server.sandbox_socket_dir)} if ctx.server.sandbox is not None else {}
    try:
        backup_dir = tmp / "backup"
        _sandbox_dirs(tmp, ("backup", "work", "work-restore", "home", "tmp"), ctx.server.sandbox)
        env = _client_env(ctx, tmp, bindir, PGUSER=GRADER, PGDATABASE=ctx.dbname, BACKUP_DIR=str(backup_dir),
                          PGOPTIONS="-c search_path=\"$user\",public", **sandbox_host)
        status, _, _ = _run_learner_program(ctx, scripts["backup"], tmp, cwd=tmp / "work", env=env, timeout=timeout,
                                            out=tmp / "backup.out", err=tmp / "backup.err")
        output = "\n".join(t for t in (_tail(tmp / "backup.out"), _tail(tmp / "backup.err")) if t)
        out_ev = [Evidence("text", f"Output of {backup} (last lines)", output)] if output else []
        if status is None or status != 0:
            why = f"did not finish within {timeout} s" if status is None else f"exited with status {status}"
            return Outcome(False, f"The backup step failed: {backup} {why}, so there is nothing to restore. "
                                  "Fix the backup first (see the backup check).", tuple(out_ev))
        refused = _links_refused(backup_dir, out_ev)
        if refused is not None:
            return refused
        dump, _ = _find_dump(backup_dir)
        if dump is None:
            return Outcome(False, "The backup step wrote nothing to $BACKUP_DIR, so there is nothing to restore.",
                           tuple(out_ev))
        fmt = dump_format(dump)
        shown = dump.relative_to(backup_dir)
        accepted = [str(f) for f in as_list(formats)]
        if accepted and fmt not in accepted:
            return Outcome(False, f"$BACKUP_DIR/{shown} is a {fmt}-format dump; the restore procedure expects "
                                  f"{' or '.join(accepted)}. pg_dump's custom format (-Fc) is compressed, and "
                                  "pg_restore can list it, restore single tables from it and restore it in "
                                  "parallel (-j); a plain SQL file can only be replayed whole.", tuple(out_ev))

        # The original's checksums are taken before the restore script runs: it connects as role
        # learner, which could change the learner's own database to match a broken restore.
        wanted = ([split_qualified(str(t)) for t in tables] if tables
                  else [tuple(r) for r in ctx.grader().execute(load_sql("files_tables")).fetchall()])
        if not wanted:
            raise RuntimeError("the learner's database has no tables to compare")
        original = _checksums(ctx.grader(), wanted)

        scratch = _create_scratch_database(ctx)
        renv = _client_env(ctx, tmp, bindir, PGUSER=LEARNER, PGDATABASE=scratch, BACKUP_DIR=str(backup_dir),
                           **sandbox_host)
        rstatus, rseconds, _ = _run_learner_program(ctx, scripts["restore"], tmp, cwd=tmp / "work-restore",
                                                    env=renv, timeout=timeout, out=tmp / "restore.out",
                                                    err=tmp / "restore.err")
        routput = "\n".join(t for t in (_tail(tmp / "restore.out"), _tail(tmp / "restore.err")) if t)
        rout_ev = [Evidence("text", f"Output of {restore} (last lines)", routput)] if routput else []
        with ctx.server.connect(scratch, GRADER, purpose="grader-restore") as conn:
            restored = _checksums(conn, wanted)
    finally:
        if scratch is not None:
            _drop_scratch_database(ctx, scratch)
        shutil.rmtree(tmp, ignore_errors=True)

    good, problems, rows = _compare_tables(wanted, original, restored)
    evidence = [rows_evidence("Tables: your database vs. the database your restore script filled",
                              ("table", "rows", "rows restored", "content"), rows, limit=50),
                Evidence("text", "Dump", f"$BACKUP_DIR/{shown} ({fmt} format)")] + rout_ev
    if rstatus is None:
        return Outcome(False, f"{restore} did not finish within {timeout} s and was stopped. Does it wait for input "
                              "(a password prompt, a confirmation)? A restore runbook must run unattended.",
                       tuple(evidence))
    if rstatus != 0:
        return Outcome(False, f"{restore} exited with status {rstatus} ({good} of {len(wanted)} table(s) came back "
                              "intact). Whoever runs the restore at 3 a.m. cannot tell an exit status that means "
                              "\"failed\" from one that means \"mostly worked\": make the script exit 0 only when "
                              "the restore succeeded (restore into the existing database $PGDATABASE; options "
                              "such as --no-owner and --no-privileges avoid errors about roles the target "
                              "server does not have).", tuple(evidence))
    if good == len(wanted):
        return Outcome(True, f"{restore} restored the {fmt}-format dump from {backup} into an empty database in "
                             f"{rseconds:.1f} s, and all {len(wanted)} table(s) came back intact.", tuple(evidence))
    return Outcome(False, f"After {restore}, {good} of {len(wanted)} table(s) are intact: "
                          f"{'; '.join(problems[:5])}{' …' if len(problems) > 5 else ''}. Restore into the existing "
                          "database named by $PGDATABASE (the script gets no right to create databases).",
                   tuple(evidence), score=good / len(wanted))
