"""Files: what the learner hands in besides SQL — the incident report and the backup script.

Files are read from the submission directory only, as ``pgdrill/submission.py`` reads them:
a path that leaves it (``../``, an absolute path), a symbolic link anywhere on the way (even
one pointing inside), a second hard link, a pipe, a device or a file over 5 MiB is refused
with the reason, and text files are read up to 1 MiB.

The backup script is a program the learner wrote, and the grader runs it:

- in a sandbox (``fixtures/confine.py`` with bubblewrap): a mount namespace of its own that
  shows ``/usr``, a few harmless files of ``/etc``, its own folders (working directory,
  ``$HOME``, ``$BACKUP_DIR``), the PostgreSQL client binaries and the one socket directory of
  its database — not the grader's checkout, not other submissions, not another cluster's
  socket; a ``/proc`` of its own PID namespace (never the grader's command line); private
  ``/tmp``, ``/var/tmp`` and ``/dev/shm`` that vanish with it; no network;
- as an unprivileged OS user of its own (``nobody`` by default; not the server's user, so it
  cannot read the cluster's files or signal the postmaster), with stdin closed, limits on
  processes, file sizes, memory and CPU time, and a time limit; every process it started —
  even one that left its session — is killed when it ends. It gets a copy of the script,
  never the submission folder;
- with a scrubbed environment: ``PATH`` starts with the server's own binaries (so
  ``pg_dump`` matches the server version), and only ``PGHOST``, ``PGPORT``, ``PGUSER``,
  ``PGPASSWORD``, ``PGDATABASE`` and ``BACKUP_DIR`` describe what to back up and where to.
  ``PGUSER`` is a role made for this one run (``pgdrill_prog_…``, a fresh random password)
  that may connect to the learner's database only, with at most 8 sessions, and reads
  everything there (``PGOPTIONS`` gives its sessions the default ``search_path``, so
  ``pg_dump -t orders`` finds the table). When the script ends, every session of that role
  is terminated and the role is dropped with whatever it made.

Where no such sandbox can start (the grader is not root, or bubblewrap is missing or cannot
create namespaces), these checks are not graded — they report why — unless the instructor
passes ``--allow-unsandboxed-programs``; the report then says that the programs ran without
the sandbox.

Nothing the script leaves in ``$BACKUP_DIR`` is followed: a symbolic link or a second hard
link there fails the check, so does a directory-format dump whose ``toc.dat`` names a path
with ``..``, and a compressed dump may not expand beyond 4 GiB.

The dump is restored into a scratch database created for the purpose and always dropped,
by ``pg_restore`` or ``psql`` running in the same sandbox as the script, as a role made for
the restore that owns the scratch database and may connect nowhere else — never as a
superuser, never as the grader's OS user: a dump is data the learner controls.
Plain-format dumps go through ``psql`` in ``\\restrict`` mode with a key the dump cannot
know, so psql meta-commands in it (``\\!`` would run a shell command) are refused.

Scripts are not only run on the happy path. A script with a password written into it is not
run at all (``checks/commands.py`` finds ``PGPASSWORD=…``, ``password=…`` and ``user:pw@`` in
connection strings, ``~/.pgpass`` lines). On request (``failures:``) a backup script that
worked runs again with a failure injected — a stand-in ``pg_dump`` first on its ``PATH``
(``checks/programs/pg_dump-fails.sh``, in the same sandbox) that writes the start of a dump and
exits 1, or ``PGHOST`` naming a socket directory with no server — and must exit non-zero
without leaving a file named like a finished backup; a restore script finds two older,
row-less dumps (made by the grader's own ``pg_dump --schema-only``, in the sandbox, as the
backup's role) next to the newest, and runs once more on a truncated copy, where it must fail.

Files a reviewer reads are judged by effect as far as reading allows: a crontab's jobs by
their real run times (``checks/cron.py``) and the database their command works on, a
runbook's restore commands by the dump format they are given (``checks/commands.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import gzip
import itertools
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

import psycopg
from psycopg import sql

from pgdrill.checks.arguments import Against, ScriptTimeout, SubmissionPath
from pgdrill.checks.base import CheckContext, ExerciseBug, LearnerFault, NotGradedHere, Outcome, check, on_contrasts_when_passed
from pgdrill.checks.commands import ALL_DATABASES, dump_format_of, invocations, read_options, secrets_in, simple_commands
from pgdrill.checks.cron import CronSchedule, describe_wait, in_window, parse_window
from pgdrill.checks.kit import ReferenceQueryError, as_number, reference_connection, reference_value, values_equal
from pgdrill.checks.sql import answer, as_list, display, load_sql, one_row, rows_evidence, split_qualified
from pgdrill.fixtures import learner_programs as programs
from pgdrill.fixtures import sandbox as roles
from pgdrill.fixtures.sandbox import GRADER, TEMPLATE_EXTENSIONS
from pgdrill import submission
from pgdrill.report import Evidence

if TYPE_CHECKING:  # pragma: no cover - types only
    from pgdrill.fixtures.server import Server

MAX_TEXT_BYTES = 1024 * 1024
MAX_TOC_BYTES = 64 * 1024 ** 2             # a directory-format dump's toc.dat, read to vet it
MAX_EXPANDED_BYTES = 4 * 1024 ** 3         # a gzipped dump, decompressed for the restore
SCRIPT_TIMEOUT_S = 120
RESTORE_TIMEOUT_S = 300
CHECKSUM_TIMEOUT_S = 120
_scratch_counter = itertools.count(1)


# ------------------------------------------------------------------------------------------
# Reading submission files


def resolve_submission_file(ctx: CheckContext, path: str) -> Path:
    """The file ``path`` inside the submission directory; raises ``LearnerFault`` saying why not.

    It must be a regular file of at most ``submission.MAX_FILE_BYTES`` reached without any
    link from the submission's root (``pgdrill.submission``): a link to the course's own files,
    a pipe or a device is refused with the reason.
    """
    folder = Path(ctx.submission_dir)
    root = Path(ctx.submission_root) if ctx.submission_root is not None else folder
    if Path(path).is_absolute():
        raise LearnerFault(Outcome(False, f"{path} is outside the submission folder; the grader only reads files "
                                          "inside it."))
    try:
        submission.read_file(root, folder / path, submission.MAX_FILE_BYTES)
    except submission.Missing:
        raise LearnerFault(Outcome(False, f"The file {path} was not found in your submission. Create it (at exactly "
                                          "that path) and submit again."))
    except (submission.Refused, OSError) as exc:
        why = exc if isinstance(exc, submission.Refused) else exc.strerror
        raise LearnerFault(Outcome(False, f"The grader did not read {path}: {why}."))
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


def markdown_spans(text: str) -> list[tuple[int, str, int, int]]:
    """(level, heading, first body line, end line) for every heading, as line indexes; a body
    runs to the next heading of the same or a higher level, so subsections are inside it."""
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
        out.append((level, title, body_start, end))
    return out


def markdown_sections(text: str) -> list[tuple[int, str, str]]:
    """(level, heading, body) for every heading; a body runs to the next heading of the same
    or a higher level, so subsections count as their parent's content too."""
    lines = text.splitlines()
    return [(level, title, "\n".join(lines[start:end])) for level, title, start, end in markdown_spans(text)]


def rendered_text(text: str) -> str:
    """Markdown without its HTML comments (``<!-- … -->``): what a reader of the report sees.
    A comment's lines are kept empty, so line numbers stay those of the file."""
    return re.sub(r"<!--.*?(?:-->|\Z)", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _heading_matches(heading: str, wanted: str) -> bool:
    h, w = normalise_heading(heading), normalise_heading(wanted)
    if not w:
        return False
    return h == w or re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", h) is not None


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+|\s*\|\s*")
_SHINGLE = 5          # words per shingle when comparing two sections
_COPIED_SHARE = 0.5   # a section whose shingles are at least this much another section's is a copy


def sentences(text: str) -> list[list[str]]:
    """The text cut into sentences (also at line breaks and table cells), each as its
    lower-case words; a sentence without words is left out."""
    out = []
    for part in _SENTENCE_END.split(text):
        words = [w.lower() for w in _WORD.findall(part)]
        if words:
            out.append(words)
    return out


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + _SHINGLE]) for i in range(max(0, len(words) - _SHINGLE + 1))}


def _own_text(lines: list[str], span: tuple[int, int], others: list[tuple[int, int]]) -> str:
    """The lines of ``span`` outside the spans of other required sections nested in it."""
    start, end = span
    inner = [(a, b) for a, b in others if start <= a and b <= end and (a, b) != span]
    return "\n".join(line for i, line in enumerate(lines[start:end], start)
                     if not any(a - 1 <= i < b for a, b in inner))


def database_object_names(ctx: CheckContext) -> set[str]:
    """Lower-case names of the tables, views, indexes, sequences and constraints of the
    learner's database and of the untouched incident (objects a fix dropped count too),
    outside the system schemas — read from the catalogues at grading time."""
    names: set[str] = set()
    conns = [ctx.grader()]
    if ctx.baseline is not None and ctx.baseline() is not None:
        conns.append(ctx.baseline())
    for conn in conns:
        names |= {r[0].lower() for r in conn.execute(load_sql("files_object_names", conn.info.server_version))}
    return names


def _mentions(text: str, names: set[str]) -> list[str]:
    """The names of ``names`` that ``text`` mentions as words (``order_items`` also as
    "order items"; a name qualified by its table, ``customers.email``, counts for the table)."""
    words = [w.lower() for w in re.findall(r"[^\W_]+", text)]
    joined = " " + " ".join(words) + " "
    found = []
    for name in names:
        parts = [w for w in re.split(r"[^0-9a-z]+", name) if w]
        if parts and " " + " ".join(parts) + " " in joined:
            found.append(name)
    return sorted(found)


@check
def report_has_sections(ctx: CheckContext, *, path: SubmissionPath, sections: list[str | list[str]], min_words: int = 20,
                        distinct: bool = False, specific: bool = False) -> Outcome:
    """The Markdown report has the required sections, each with real content.

    What it asserts:
        The Markdown file `path` in the submission has, for every entry of `sections`, a
        heading of level 1–3 (`#` to `###`) whose text contains that name — compared without
        case, emphasis, leading numbering like `1.` or `2.3` and a trailing colon — followed by
        at least `min_words` words before the next heading of the same or a higher level
        (subsections count; HTML comments do not). An entry may be a list of alternative
        names. With `distinct`, a sentence counts only where it first appears in the report (a
        filler sentence repeated, or pasted into every section, counts once), and a section
        whose word sequences are for the most part another required section's (half of its
        five-word runs or more) is a copy and does not count.
        With `specific`, each section must also name at least one object of the database it
        is about — a table, view, index, sequence or constraint, as the grader reads them
        from the catalogues of the learner's database and of the untouched incident at
        grading time (`order_items` may be written "order items"; `customers.email` names
        `customers`).
    Arguments:
        path: the report's path in the submission, e.g. `incident-report.md`.
        sections: the required section names; an entry can be a list of alternatives.
        min_words: the fewest words a section needs to count as written.
        distinct: count only sentences not written before, and refuse copied sections.
        specific: require each section to name an object of the database.
    Feedback on failure:
        Partial credit per section. Names each missing section, each section that is too
        short (with its word count, repeated sentences not counted), copied from another
        section or naming no object of the database, and lists the headings that were found.
    Example:
        - check: report_has_sections
          with:
            path: incident-report.md
            sections: [Summary, Root cause, [Fixes applied, Remediation], Prevention]
            min_words: 30
            distinct: true
            specific: true
    """
    found = resolve_submission_file(ctx, path)
    text = rendered_text(read_text(found))
    lines = text.splitlines()
    parsed = [(lvl, title, start, end) for lvl, title, start, end in markdown_spans(text) if lvl <= 3]
    wanted = [[str(a) for a in s] if isinstance(s, (list, tuple)) else [str(s)] for s in sections]
    if not wanted:
        raise ExerciseBug("report_has_sections needs at least one section name")
    matches = [next(((title, (start, end)) for _, title, start, end in parsed
                     if any(_heading_matches(title, n) for n in names)), None) for names in wanted]
    found_at = {i: m for i, m in enumerate(matches) if m is not None}
    spans = [m[1] for m in found_at.values()]
    objects = database_object_names(ctx) if specific else set()
    # In document order, so that the first appearance of a sentence is the one that counts.
    order = sorted(found_at, key=lambda i: found_at[i][1])
    seen_sentences: set[tuple[str, ...]] = set()
    earlier: list[tuple[str, set]] = []
    verdicts: dict[int, tuple[str, int, str]] = {}  # index -> (problem or "", words, detail)
    for i in order:
        title, span = found_at[i]
        body = _own_text(lines, span, spans) if distinct else "\n".join(lines[span[0]:span[1]])
        problem, detail = "", ""
        if distinct:
            words, all_words = 0, []
            for sentence in sentences(body):
                all_words.extend(sentence)
                if tuple(sentence) not in seen_sentences:
                    seen_sentences.add(tuple(sentence))
                    words += len(sentence)
            mine = _shingles(all_words)
            copied = next((other for other, theirs in earlier
                           if mine and len(mine & theirs) >= _COPIED_SHARE * len(mine)), None)
            earlier.append((title.strip(), mine))
            if copied is not None:
                problem = f"section “{title.strip()}” repeats section “{copied}”"
        else:
            words = word_count(body)
        if not problem and words < min_words:
            problem = (f"section “{title.strip()}” has {words} word(s)"
                       + (" not written elsewhere in the report" if distinct else "")
                       + f", at least {min_words} expected")
        if specific:
            named = _mentions(body, objects)
            detail = ", ".join(named[:4]) + (" …" if len(named) > 4 else "") if named else "none"
            if not problem and not named:
                problem = (f"section “{title.strip()}” names no table, index or constraint of the database "
                           "(say which objects it is about)")
        verdicts[i] = (problem, words, detail)
    rows, problems, good = [], [], 0
    for i, names in enumerate(wanted):
        label = " / ".join(names)
        match = matches[i]
        if match is None:
            problems.append(f"no section “{label}”")
            rows.append((label, "missing", "0") + (("",) if specific else ()))
            continue
        problem, words, detail = verdicts[i]
        rows.append((label, match[0].strip(), str(words)) + ((detail,) if specific else ()))
        if problem:
            problems.append(problem)
        else:
            good += 1
    columns = ("required", "heading found", "words") + (("objects named",) if specific else ())
    evidence = [rows_evidence("Required sections", columns, rows, limit=50)]
    if good == len(wanted):
        return Outcome(True, f"{path} has all {len(wanted)} required sections.", tuple(evidence))
    headings = [f"{'#' * lvl} {title}" for lvl, title, _, _ in parsed]
    evidence.append(Evidence("text", f"Headings in {path}", "\n".join(headings) or "(no headings at all)"))
    advice = f"write at least {min_words} words under each"
    if distinct:
        advice += ", each section in its own words (repeated sentences count once)"
    if specific:
        advice += ", naming the tables, indexes or constraints it is about"
    return Outcome(
        False,
        f"{path} has {good} of {len(wanted)} required sections: {'; '.join(problems)}. Use Markdown headings "
        f"(`## Root cause`) so readers can find each part, and {advice}.",
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
def report_mentions_numbers(ctx: CheckContext, *, path: SubmissionPath, facts: dict[str, float | str], window: int = 12,
                            against: Against = "baseline", relative_tolerance: float = 0.0) -> Outcome:
    """The report quotes the right numbers for the incident's findings.

    What it asserts:
        For each entry `phrase: value` of `facts`, the Markdown file `path` mentions the phrase
        (case-insensitive; spaces, `_` and `-` alike; a plural `s` allowed) with the correct
        number within `window` words of it — on the same line if any number is there, else in
        the same paragraph. A value is a number or a SQL query returning one value; queries run
        by the grader on the untouched incident (`against: baseline`, the numbers as they were
        when the learner diagnosed them) or on the learner's database (`against: graded`).
        Sizes written like `142 MB` count as bytes. `phrase` may list alternatives split by `|`.
        Proximity binds a number to a phrase loosely (five right numbers on one line, each
        next to another finding's name, pass): where each number must belong to its finding,
        use `report_findings`.
    Arguments:
        path: the report's path in the submission.
        facts: mapping of phrase to expected value (a number, or SQL returning one value).
        window: how many words before or after the phrase a number may stand.
        against: `baseline` (untouched incident) or `graded` (the learner's database) for
            SQL values.
        relative_tolerance: allowed difference as a fraction of the expected value.
    Feedback on failure:
        Partial credit per fact. Says which phrases are not mentioned, which have no number
        near them, and which stand next to a number that is not the incident's (the numbers
        the learner wrote, and on which database to count again) — without the expected
        numbers, which are the answer: instructors see them in their own evidence table.
    Example:
        - check: report_mentions_numbers
          with:
            path: incident-report.md
            facts:
              "orphaned order items|orphaned records": "SELECT count(*) FROM order_items oi WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id)"
              "negative stock": "SELECT count(*) FROM products WHERE stock_quantity < 0"
    """
    found = resolve_submission_file(ctx, path)
    if not facts:
        raise ExerciseBug("report_mentions_numbers needs at least one fact")
    text = read_text(found)
    conn = None
    rows, hidden, problems, good = [], [], [], 0
    for phrase, value in facts.items():
        if isinstance(value, str) and as_number(value) is None:
            conn = conn or reference_connection(ctx, against)
            try:
                expected = reference_value(conn, value)
            except ReferenceQueryError as exc:
                if against == "graded" and exc.learner_caused:
                    raise  # the learner's fault (checks/base.py)
                raise ReferenceQueryError(f"fact {phrase!r}: {exc}", "", exc.error) from exc
        else:
            expected = value
        alternatives = [p.strip() for p in str(phrase).split("|") if p.strip()]
        near = [n for alt in alternatives for n in numbers_near(text, alt, window)]
        mentioned = any(_phrase_pattern(alt).search(text) for alt in alternatives)
        label = alternatives[0] if alternatives else str(phrase)
        shown = ", ".join(near[:5]) or "—"
        hidden.append((label, str(expected), shown))
        if any(values_equal(expected, _number_value(n), relative_tolerance=relative_tolerance,
                            absolute_tolerance=0.0) for n in near):
            good += 1
            rows.append((label, shown, "yes"))
            continue
        rows.append((label, shown, "no"))
        if not mentioned:
            problems.append(f"“{label}” is not mentioned")
        elif not near:
            problems.append(f"“{label}” is mentioned without a number near it")
        else:
            problems.append(f"near “{label}” the report says {', '.join(near[:3])}, which is not what the "
                            "incident's data say")
    total = len(facts)
    # The expected numbers are the answer (on the graded seed): instructors only.
    evidence = (rows_evidence("Numbers in the report", ("finding", "numbers near it", "correct"), rows, limit=50),
                answer(rows_evidence("Expected numbers", ("finding", "expected", "numbers near it"), hidden,
                                     limit=50)))
    if good == total:
        return Outcome(True, f"{path} quotes the right number for all {total} finding(s).", evidence)
    where = ("on the untouched incident (count them again as you did in the diagnosis, on the lab before "
             "your fixes)" if against == "baseline" else "on your database after your fixes")
    return Outcome(False, f"{path} quotes {good} of {total} finding(s) correctly: {'; '.join(problems)}. "
                          f"The numbers are counted {where}. An incident report is read by people who were not "
                          "there: quote the numbers you found, next to what they count.", evidence,
                   score=good / total)


# ------------------------------------------------------------------------------------------
# Findings: one entry per finding, its number bound to it


# A number as people write counts and shares: 1234, 1,234, 1 234 (also a thin or no-break
# space), 12.5, 12.5 % — not part of a word, a time (09:30) or a date.
_FINDING_NUMBER = re.compile(
    r"(?<![\w.:/−-])(?P<sign>[-−])?(?P<int>\d{1,3}(?:(?:,|[ \u00a0\u202f\u2009])\d{3})+|\d+)"
    r"(?:\.(?P<frac>\d+))?(?![\w:/]|\.\d)(?P<pct>\s?%)?")
_LIST_MARKER = re.compile(r"^\s*(?:>\s*)*(?:[-*+]|\d+[.)])\s+")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")


def written_number(token: re.Match) -> tuple[float, float, bool]:
    """(value, half a unit of its last written digit, written as a percentage)."""
    digits = re.sub(r"\D", "", token.group("int"))
    frac = token.group("frac") or ""
    value = float(f"{digits}.{frac}" if frac else digits)
    if token.group("sign"):
        value = -value
    return value, 0.5 * 10 ** -len(frac), bool(token.group("pct"))


def finding_entries(text: str) -> list[tuple[str, list[re.Match]]]:
    """(label, numbers) of every line of ``text`` that can be an entry: a table row (the
    label is its cells that hold no number alone; its numbers, the cells that are one), a
    list item or a plain line (label: the line; numbers: those in it, in order)."""
    out = []
    for line in text.splitlines():
        if not line.strip() or _TABLE_SEPARATOR.match(line) or _ATX.match(line) or _FENCE.match(line):
            continue
        plain = re.sub(r"[*`]+", "", line)
        if plain.strip().startswith("|") or plain.count("|") >= 2:
            cells = [c.strip() for c in plain.strip().strip("|").split("|")]
            numbers, label = [], []
            for c in cells:
                m = _FINDING_NUMBER.fullmatch(c) if c else None
                (numbers.append(m) if m else label.append(c))
            out.append((" ".join(label), numbers))
        else:
            body = _LIST_MARKER.sub("", plain)
            out.append((_FINDING_NUMBER.sub(" ", body), list(_FINDING_NUMBER.finditer(body))))
    return out


def _label_words(label: str) -> list[str]:
    """Lower-case words of a label; ``e-mail`` is one word, ``order_items`` two."""
    label = re.sub(r"(?<=\w)-(?=\w)", "", label.lower())
    return [w for w in re.split(r"[^0-9a-z]+", label) if w]


def names_finding(words: list[str], pattern: str) -> bool:
    """Whether ``words`` contain, for every space-separated group of ``pattern``, a word
    starting with one of the group's ``|``-separated stems ("orphan item|line")."""
    return all(any(w.startswith(stem) for w in words for stem in group.split("|") if stem)
               for group in pattern.lower().split())


def _finding_specs(findings: dict) -> list[tuple[str, list[str], object, object]]:
    out = []
    for name, spec in findings.items():
        if not isinstance(spec, dict) or "value" not in spec or not spec.get("words"):
            raise ExerciseBug(f"finding {name!r} needs words: [patterns] and value: (a number or SQL)")
        out.append((str(name), [str(w) for w in as_list(spec["words"])], spec["value"], spec.get("share_of")))
    return out


@check
def report_findings(ctx: CheckContext, *, path: SubmissionPath, findings: dict[str, dict[str, Any]],
                    section: str | Sequence[str] = ("Findings",), against: Against = "baseline") -> Outcome:
    """The report's findings section gives each finding its own entry with the right number.

    What it asserts:
        The Markdown file `path` has a section (heading of any level) named like one of
        `section`, and in it, for every finding of `findings`, exactly the entries that name
        that finding — and no other finding — carry its number. An entry is a line of the
        section: a table row (`| orphaned order items | 15 |`: the finding's name in one
        cell, the number alone in another; the first such cell is the one read, so a later
        "after the fix" column is fine), a list item or a plain line (`- orphaned order
        items: 15`, `- 15 orphaned order items`: its first number). An entry names a finding
        when it has, for every group of one of the finding's `words` patterns, a word starting
        with one of the group's stems: `"orphan item|line"` is named by "orphaned order
        items", "Order lines (orphaned)" and "orphan order_items" alike. An entry that names
        two findings counts for neither; two entries of one finding must agree. Numbers may
        be written with thousands separators (`1,234`, `1 234`) and are compared at the
        precision written (`24 %` matches 24.3); with `share_of`, a percentage of that total
        counts too. Expected values are the grader's own queries (or numbers), run on the
        untouched incident of the seed being graded (`against: baseline`, what the learner
        diagnosed) or on the learner's database (`against: graded`).
    Arguments:
        path: the report's path in the submission.
        findings: mapping of a finding's name to `{words: [patterns], value: number or SQL,
            share_of: number or SQL (optional)}`.
        section: the findings section's heading, or a list of alternatives (default Findings).
        against: `baseline` or `graded`: the database the SQL values are computed on.
    Feedback on failure:
        Partial credit per finding. Says which findings have no entry, which entries name two
        findings at once, and which number stands for a finding where another was expected —
        without the expected numbers of the graded seed (those are for instructors only).
    Example:
        - check: report_findings
          with:
            path: incident-report.md
            findings:
              orphaned order items:
                words: ["orphan item|line"]
                value: "SELECT count(*) FROM order_items AS oi WHERE NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.id = oi.order_id)"
              products with negative stock:
                words: ["negative stock|quantit"]
                value: "SELECT count(*) FROM products WHERE stock_quantity < 0"
    """
    found = resolve_submission_file(ctx, path)
    specs = _finding_specs(findings)
    if not specs:
        raise ExerciseBug("report_findings needs at least one finding")
    names = [str(n) for n in as_list(section)]
    text = rendered_text(read_text(found))
    lines = text.splitlines()
    spans = [(title, start, end) for _, title, start, end in markdown_spans(text)
             if any(_heading_matches(title, n) for n in names)]
    if not spans:
        return Outcome(False, f"{path} has no section “{names[0]}”. Give the findings a section of their own, one "
                              f"line per finding with its number (`| orphaned order items | 15 |` in a table, or "
                              f"`- orphaned order items: 15`), so that no number can be read as another's.")
    body = "\n".join("\n".join(lines[start:end]) for _, start, end in spans)
    entries = finding_entries(body)
    conn = None

    def value_of(name, value):
        nonlocal conn
        if isinstance(value, str) and as_number(value) is None:
            conn = conn or reference_connection(ctx, against)
            try:
                return reference_value(conn, value)
            except ReferenceQueryError as exc:
                if against == "graded" and exc.learner_caused:
                    raise  # the learner's fault (checks/base.py)
                raise ReferenceQueryError(f"finding {name!r}: {exc}", "", exc.error) from exc
        return value

    expected = {name: (value_of(name, value), value_of(name, share) if share is not None else None)
                for name, _, value, share in specs}
    named: dict[str, list[tuple[str, list[re.Match]]]] = {name: [] for name, *_ in specs}
    ambiguous = []
    for label, numbers in entries:
        words = _label_words(label)
        hits = [name for name, patterns, *_ in specs if any(names_finding(words, pat) for pat in patterns)]
        if len(hits) == 1:
            named[hits[0]].append((label, numbers))
        elif len(hits) > 1 and numbers:  # prose naming two findings without a number is fine
            ambiguous.append((label.strip(), hits))

    def matches(name, token) -> bool:
        value, slack, pct = written_number(token)
        want, share = expected[name]
        want_n = as_number(want)
        if want_n is None:
            return False
        if pct:
            share_n = as_number(share) if share is not None else None
            if not share_n or not share_n[0]:
                return False
            want_value = 100.0 * want_n[0] / share_n[0]
        else:
            want_value = want_n[0]
        return abs(value - want_value) <= slack + 1e-9 * max(1.0, abs(want_value))

    rows, hidden, problems, good = [], [], [], 0
    for name, *_ in specs:
        said = [(label, nums[0]) for label, nums in named[name] if nums]
        bare = [label for label, nums in named[name] if not nums]
        shown = ", ".join(t.group(0).strip() for _, t in said) or "—"
        hidden.append((name, str(expected[name][0]), shown))
        if said and all(matches(name, t) for _, t in said):
            good += 1
            rows.append((name, shown, "yes"))
            continue
        rows.append((name, shown, "no"))
        if not said and not bare:
            problems.append(f"no entry names “{name}”")
        elif not said:
            problems.append(f"the entry for “{name}” has no number")
        elif len({t.group(0).strip() for _, t in said}) > 1:
            problems.append(f"“{name}” has entries with different numbers ({shown}): give it one")
        else:
            problems.append(f"“{name}” is given as {shown}, which is not what the incident's data say")
    for label, hits in ambiguous if good < len(specs) else ():
        problems.append(f"the entry “{_short(label)}” names {' and '.join(f'“{h}”' for h in hits)} at once and "
                        "counts for neither")
    evidence = (rows_evidence("Findings in the report", ("finding", "number given", "right"), rows, limit=50),
                dataclasses.replace(rows_evidence("Expected findings", ("finding", "expected", "number given"),
                                                  hidden, limit=50), instructor_only=True))
    total = len(specs)
    if good == total:
        return Outcome(True, f"{path} gives the right number for all {total} findings, each in its own entry.",
                       evidence)
    return Outcome(False, f"{path} gives {good} of {total} findings correctly: {'; '.join(problems)}. One line per "
                          "finding, the number next to what it counts, so that a reader cannot take one number "
                          "for another's.", evidence, score=good / total)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ------------------------------------------------------------------------------------------
# Backup and restore (running the learner's programs: fixtures/learner_programs.py)


def _server(ctx: CheckContext) -> Server:
    """The server learner programs run against (the grading session's own); a grader without
    one cannot run them."""
    if ctx.server is None:
        raise NotGradedHere("Not graded: learner programs run against the grading session's own PostgreSQL "
                            "server, and this grader has none.")
    return ctx.server


def _bindir(ctx: CheckContext, what: str) -> Path:
    """The folder of the server's client programs (pg_dump, pg_restore, psql), which ``what`` runs."""
    bindir = _server(ctx).bindir
    if bindir is None:
        raise NotGradedHere(f"Not graded: {what} runs the server's client programs (pg_dump, pg_restore, psql), "
                            "and this grader does not know where they are.")
    return Path(bindir)


def _tables_to_compare(ctx: CheckContext, tables: list[str] | None) -> list[tuple[str, str]]:
    """The tables a restore is judged on: the spec's ``tables``, else every table of the
    learner's database (``files_tables.sql``)."""
    if tables:
        return [split_qualified(str(t)) for t in tables]
    found = [(str(schema), str(name)) for schema, name in ctx.grader().execute(load_sql("files_tables")).fetchall()]
    if found:
        return found
    base = ctx.baseline() if ctx.baseline is not None else None
    if base is not None and not base.execute(load_sql("files_tables")).fetchall():
        raise ExerciseBug("the exercise's database has no tables, so there is nothing a restore could bring back")
    raise LearnerFault(Outcome(False, "Your database has no tables left in schema public, so there is nothing a "
                                      "backup could carry and a restore bring back: the grader compares the restored "
                                      "tables with yours. Something your files ran dropped them; a backup drill starts "
                                      "from the incident's data, left in place."))


def program_sandbox(ctx: CheckContext) -> str:
    """How learner programs run on this grader: ``"bwrap"`` (the sandbox), or ``"none"`` when
    it cannot start and the instructor allowed that explicitly. Otherwise the check is not
    graded here (NotGradedHere says why and what to do)."""
    problem = programs.sandbox_problem(ctx.server)
    if problem is None:
        return "bwrap"
    if ctx.unsandboxed_programs:
        return "none"
    raise NotGradedHere(f"Not graded: this grader cannot sandbox learner programs ({problem}), so it did not run "
                        "them. An instructor installs bubblewrap and grades as root, or passes "
                        "--allow-unsandboxed-programs to run them without the sandbox.")


def _unsandboxed_note(mode: str) -> list[Evidence]:
    if mode == "bwrap":
        return []
    return [Evidence("text", "Sandbox", "The instructor allowed learner programs to run WITHOUT the sandbox "
                                        "(--allow-unsandboxed-programs): no mount, PID or user isolation.")]


# ------------------------------------------------------------------------------------------
# Scripts under failure: passwords written into them, failures injected, several dumps


_BackupFailure = Literal["dump-fails", "server-down"]
_RestoreFailure = Literal["older-dumps", "truncated-dump"]
BACKUP_FAILURES: tuple[str, ...] = get_args(_BackupFailure)
_FAILURE_WORDS = {"dump-fails": "pg_dump fails halfway", "server-down": "the server cannot be reached"}
RESTORE_FAILURES: tuple[str, ...] = get_args(_RestoreFailure)
# The formats dump_format (below) tells apart, which restore_script_restores may ask for.
_DumpFormat = Literal["custom", "directory", "tar", "plain", "gzip-custom", "gzip-plain", "zstd"]
STANDIN_PG_DUMP = Path(__file__).resolve().parent / "programs" / "pg_dump-fails.sh"
# Names that say "not finished": a leading dot, or a temporary suffix.
_UNFINISHED = re.compile(r"^\.|(?:\.(?:partial|part|tmp|temp|incomplete|inprogress|unfinished|failed)|~)$",
                         re.IGNORECASE)
# What a backup job may leave next to its dumps that claims nothing: its log, checksums, a lock.
_NOT_A_DUMP = re.compile(r"\.(?:log|txt|out|err|md5|sha1|sha256|sha512|sum|json|lock|pid)$", re.IGNORECASE)
_STAMP_FORMATS = ("%Y%m%dT%H%M%SZ", "%Y%m%dT%H%M%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S",
                  "%Y-%m-%d_%H-%M-%S", "%Y-%m-%d_%H%M%S", "%Y-%m-%d-%H%M%S", "%Y-%m-%d_%H:%M:%S",
                  "%Y%m%d_%H%M%S", "%Y%m%d-%H%M%S", "%Y%m%d%H%M%S", "%Y-%m-%d_%H-%M", "%Y-%m-%d_%H%M",
                  "%Y%m%d_%H%M", "%Y%m%d-%H%M", "%Y%m%d%H%M", "%Y-%m-%d", "%Y%m%d", "%s")


def _failure_list(failures, known: tuple[str, ...], check_name: str) -> list[str]:
    chosen = [str(f) for f in as_list(failures)]
    unknown = [f for f in chosen if f not in known]
    if unknown:
        raise ExerciseBug(f"{check_name}: unknown failure(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return chosen


def secrets_refused(path: Path, shown: str) -> Outcome | None:
    """The failure for a script with a password written into it (``checks/commands.py``), or None."""
    found = secrets_in(read_text(path))
    if not found:
        return None
    rows = [(str(n), what, masked) for n, what, masked in found]
    return Outcome(False, f"{shown} has a password written into it (line {found[0][0]}: {found[0][1]}), so the "
                          "grader did not run it. Everyone who can read the script — a copy of the server, the "
                          "repository, the next colleague — can log in with it, and changing the password breaks "
                          "the job. Let the job find it in ~/.pgpass (or PGPASSFILE) or in the environment it is "
                          "started with, never in the script.",
                   (rows_evidence(f"Passwords in {shown}", ("line", "what", "line, password masked"), rows,
                                  limit=10),))


def claims_success(backup_dir: Path) -> list[str]:
    """Files in ``backup_dir`` named like a finished backup (no part of their path marked
    unfinished: a leading dot, or ``.partial``, ``.tmp`` and the like; a log, a checksum or a
    lock file does not count), with their sizes."""
    out = []
    for root, dirs, files in os.walk(backup_dir):
        rel = Path(root).relative_to(backup_dir)
        if any(_UNFINISHED.search(part) for part in rel.parts):
            dirs[:] = []
            continue
        for name in sorted(files):
            if not _UNFINISHED.search(name) and not _NOT_A_DUMP.search(name):
                path = Path(root) / name
                out.append(f"{path.relative_to(backup_dir)} ({path.lstat().st_size} bytes)")
    return out


def _injected_backup_run(ctx: CheckContext, script: Path, tmp: Path, scenario: str, *, mode: str,
                         role: tuple[str, str], timeout: float, shown: str) -> list[str]:
    """Run the backup script once more with ``scenario`` injected; what it did wrong (empty: nothing).

    ``dump-fails``: a stand-in ``pg_dump`` first on the PATH (``checks/programs/pg_dump-fails.sh``)
    writes the start of a dump where pg_dump would, then exits 1 as when the server goes away.
    ``server-down``: ``PGHOST`` names a socket directory with no server in it. Either way the
    script must exit non-zero and leave nothing in ``$BACKUP_DIR`` named like a finished backup.
    """
    base = tmp / f"failure-{scenario}"
    base.mkdir()
    programs.sandbox_dirs(base, ("backup", "work", "mark"), _server(ctx).sandbox)
    backup_dir = base / "backup"
    env = programs.program_env(ctx.server, tmp, mode, role, ctx.dbname, BACKUP_DIR=str(backup_dir),
                       PGOPTIONS="-c search_path=\"$user\",public")
    readable = []
    if scenario == "dump-fails":
        standin = base / "standin"
        standin.mkdir(mode=0o755)
        standin.chmod(0o755)
        shutil.copyfile(STANDIN_PG_DUMP, standin / "pg_dump")
        (standin / "pg_dump").chmod(0o755)
        env["PATH"] = f"{standin}:{env['PATH']}"
        env["PGDRILL_STANDIN_MARK"] = str(base / "mark")
        readable.append(standin)
        when = ("when pg_dump fails halfway (the grader put a pg_dump first on the PATH that writes the start of "
                "a dump and exits 1)")
    else:
        nowhere = base / "no-server"
        nowhere.mkdir(mode=0o755)
        nowhere.chmod(0o755)
        env["PGHOST"] = str(nowhere)
        readable.append(nowhere)
        when = "when the database server cannot be reached (PGHOST names a socket directory with no server)"
    status, _, _ = programs.run_learner_program(ctx.server, script, tmp, cwd=base / "work", env=env, timeout=timeout,
                                        out=base / "out", err=base / "err", mode=mode,
                                        writable=[backup_dir, base / "mark"], readable=readable)
    if status is None:
        return [f"{when}, {shown} did not finish within {timeout} s"]
    if scenario == "dump-fails" and status == 0 and not (base / "mark" / "pg_dump-ran").exists():
        return [f"{when}, {shown} did not run the pg_dump found on the PATH, so no failure could be injected "
                "(call pg_dump by its name)"]
    wrong = ["exits 0"] if status == 0 else []
    left = claims_success(backup_dir)
    if left:
        wrong.append(f"leaves {', '.join(left[:3])} in $BACKUP_DIR, named like a finished backup")
    return [f"{when}, {shown} {' and '.join(wrong)}"] if wrong else []


def _older_name(name: str, started: float, ended: float, days: int) -> str:
    """``name`` of a dump made at some time in [started, ended], as if made ``days`` earlier:
    the timestamp in it moved back (UTC or local, the usual ``date`` formats), or a date added."""
    seconds = range(int(started) - 1, int(ended) + 2)
    for fmt in _STAMP_FORMATS:
        for zone in (dt.timezone.utc, None):
            for when in seconds:
                moment = dt.datetime.fromtimestamp(when, zone)
                stamp = str(when) if fmt == "%s" else moment.strftime(fmt)
                if stamp in name:
                    earlier = moment - dt.timedelta(days=days)
                    return name.replace(stamp, str(when - days * 86400) if fmt == "%s" else earlier.strftime(fmt), 1)
    stem, dot, ext = name.partition(".")
    day = dt.date.fromtimestamp(started) - dt.timedelta(days=days)
    return f"{stem}-{day:%Y%m%d}{dot}{ext}"


def _schema_only_dump(ctx: CheckContext, tmp: Path, mode: str, role: tuple[str, str], fmt: str) -> Path | None:
    """A dump of the learner's database without its rows, in format ``fmt`` (made by pg_dump in
    the sandbox, as the backup's role): an "older backup" the grader can tell from the newest."""
    flag = {"custom": "c", "gzip-custom": "c", "directory": "d", "tar": "t", "plain": "p", "gzip-plain": "p"}.get(fmt)
    if flag is None:
        return None
    programs.sandbox_dirs(tmp, ("older",), _server(ctx).sandbox)
    target = tmp / "older" / "dump"
    env = programs.program_env(ctx.server, tmp, mode, role, ctx.dbname, PGOPTIONS="-c search_path=\"$user\",public")
    argv = programs.confined(ctx.server, [str(_bindir(ctx, "the grader's older dumps") / "pg_dump"), "--schema-only", "--no-password",
                           f"--format={flag}", "--file", str(target)],
                     mode=mode, status_file=tmp / "older-confine.json", timeout=RESTORE_TIMEOUT_S,
                     binds=[tmp / "older"])
    status, _ = programs.run_in_session(argv, cwd=tmp / "older", env=env, timeout=RESTORE_TIMEOUT_S + 30,
                               out=tmp / "older.out", err=tmp / "older.err")
    try:
        report = json.loads((tmp / "older-confine.json").read_text())
    except (OSError, ValueError):
        report = {}
    if status is None or report.get("status") != 0 or not target.exists():
        # The grader's own trouble: an internal error (the error rule, checks/base.py).
        raise RuntimeError(f"the grader's schema-only pg_dump failed: {programs.tail(tmp / 'older.err')}")
    if fmt.startswith("gzip-"):
        packed = tmp / "older" / "dump.gz"
        with open(target, "rb") as src, gzip.open(packed, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return packed
    return target


def _plant_older_dumps(ctx: CheckContext, tmp: Path, mode: str, role: tuple[str, str], backup_dir: Path,
                       dump: Path, fmt: str, started: float, ended: float) -> list[str]:
    """Put two older dumps (one and two days older, by name and by mtime, without rows) next to
    the newest one; their names, oldest last."""
    older = _schema_only_dump(ctx, tmp, mode, role, fmt)
    if older is None:
        return []
    names = []
    newest_mtime = dump.stat().st_mtime
    for days in (1, 2):
        target = dump.with_name(_older_name(dump.name, started, ended, days))
        if target.exists() or target == dump:
            continue
        if older.is_dir():
            shutil.copytree(older, target)
            for path in [target, *target.rglob("*")]:
                os.utime(path, (newest_mtime - days * 86400,) * 2)
        else:
            shutil.copyfile(older, target)
            target.chmod(0o644)
            os.utime(target, (newest_mtime - days * 86400,) * 2)
        names.append(str(target.relative_to(backup_dir)))
    return names


def _truncated_copy(dump: Path, into: Path) -> Path:
    """``dump`` with its second half cut off (for a directory-format dump: its largest file),
    under the same name in ``into``."""
    target = into / dump.name
    if dump.is_dir():
        shutil.copytree(dump, target)
        victim = max((p for p in target.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    else:
        shutil.copyfile(dump, target)
        victim = target
    with open(victim, "r+b") as fh:
        fh.truncate(victim.stat().st_size // 2)
    for path in [target, *(target.rglob("*") if target.is_dir() else [])]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


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


def _toc_escapes(backup_dir: Path) -> list[str]:
    """Directory-format dumps whose ``toc.dat`` names a path with ``..`` (a data file outside
    the dump, which pg_restore would open). The restore runs sandboxed anyway; this refuses
    such a dump before it is read. A TOC over 64 MiB is refused too (it is not a real one)."""
    bad = []
    for toc in backup_dir.rglob("toc.dat"):
        if toc.is_symlink() or not toc.is_file():
            continue
        rel = str(toc.relative_to(backup_dir))
        if toc.stat().st_size > MAX_TOC_BYTES:
            bad.append(f"{rel} (larger than {MAX_TOC_BYTES // 1024 ** 2} MiB)")
        elif re.search(rb"(?:^|[/\x00-\x1f])\.\.(?:/|$)", toc.read_bytes()):
            bad.append(f"{rel} (names a file outside the dump: ../)")
    return bad


def _links_refused(backup_dir: Path, evidence) -> Outcome | None:
    """The failure for a $BACKUP_DIR holding links (which the grader never follows) or a
    dump whose table of contents points outside it."""
    links = _links_in(backup_dir)
    if not links:
        escapes = _toc_escapes(backup_dir)
        if escapes:
            return Outcome(False, f"$BACKUP_DIR holds {', '.join(escapes[:3])}: a dump's files are inside it, "
                                  "and the grader does not restore one that reaches out.", tuple(evidence))
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
    """The newest dump in ``backup_dir`` (a file, or a directory-format dump) and all candidates.
    A log, checksum or lock file, or a file marked unfinished (``.partial``, a leading dot), is
    a candidate only when there is nothing else."""
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
    dumps = [p for p in candidates if not _NOT_A_DUMP.search(p.name) and not _UNFINISHED.search(p.name)]
    candidates = dumps or candidates
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


def _checksums(conn, tables: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, object] | None]:
    """(row count, checksum) per table, None for a table that is missing (or not a table)."""
    out: dict[tuple[str, str], tuple[int, object] | None] = {}
    for schema, name in tables:
        with conn.transaction(force_rollback=True):
            conn.execute("SELECT pg_catalog.set_config('statement_timeout', %s, true)",
                         (f"{CHECKSUM_TIMEOUT_S * 1000}ms",))
            rel = conn.execute(load_sql("catalog_relation"), {"schema": schema, "name": name}).fetchone()
            if rel is None or rel[3] not in ("r", "p"):
                out[(schema, name)] = None
                continue
            query = sql.SQL(load_sql("files_table_checksum")).format(table=sql.Identifier(schema, name))
            count, checksum = one_row(conn.execute(query))
            out[(schema, name)] = (int(count), checksum)
    return out


class _BackupRun(NamedTuple):
    status: int | None     # the script's exit status, None when it ran out of time
    seconds: float
    started: float         # time.time() just before and just after the script ran
    ended: float
    backup_dir: Path       # $BACKUP_DIR: tmp/backup


_BACKUP_SANDBOX_DIRS = ("backup", "work", "home", "tmp")


def _run_backup(ctx: CheckContext, script: Path, tmp: Path, mode: str, made: list[tuple[str, str]], *,
                timeout: float, stem: str = "backup", dirs: Sequence[str] = _BACKUP_SANDBOX_DIRS) -> _BackupRun:
    """Run the learner's backup ``script`` in the sandbox: folders ``dirs`` made in ``tmp``, run in
    ``tmp/work`` as a program role of its own that reads the whole database (appended to ``made``,
    for ``_clean_up``), with ``$BACKUP_DIR`` (``tmp/backup``) the one folder it may write; its
    output in ``tmp/<stem>.out`` and ``.err``."""
    backup_dir = tmp / "backup"
    programs.sandbox_dirs(tmp, dirs, _server(ctx).sandbox)
    with _server(ctx).connect(purpose="janitor") as admin:
        made.append(roles.create_program_role(admin, ctx.dbname, reads_all=True))
    # The role's default search_path would not find the tables for `pg_dump -t orders`
    # the way the application does: give the script's sessions the server's default path.
    env = programs.program_env(ctx.server, tmp, mode, made[0], ctx.dbname, BACKUP_DIR=str(backup_dir),
                               PGOPTIONS="-c search_path=\"$user\",public")
    started = time.time()
    status, seconds, _ = programs.run_learner_program(ctx.server, script, tmp, cwd=tmp / "work", env=env,
                                                      timeout=timeout, out=tmp / f"{stem}.out",
                                                      err=tmp / f"{stem}.err", mode=mode, writable=[backup_dir])
    return _BackupRun(status, seconds, started, time.time(), backup_dir)


def _output_evidence(tmp: Path, stem: str, name: str) -> list[Evidence]:
    """The last lines a learner's script ``name`` wrote to ``tmp/<stem>.out`` and ``.err``, as
    evidence (none when it wrote nothing)."""
    output = "\n".join(t for t in (programs.tail(tmp / f"{stem}.out"), programs.tail(tmp / f"{stem}.err")) if t)
    return [Evidence("text", f"Output of {name} (last lines)", output)] if output else []


@check
@on_contrasts_when_passed
def backup_restores(ctx: CheckContext, *, script: str = "backup.sh", tables: list[str] | None = None,
                    timeout: ScriptTimeout = SCRIPT_TIMEOUT_S,
                    failures: _BackupFailure | list[_BackupFailure] | None = None) -> Outcome:
    """The learner's backup script produces a dump that restores to the same data.

    What it asserts:
        The shell script `script` from the submission, run with `PGHOST`, `PGPORT`, `PGUSER`,
        `PGDATABASE` describing the learner's database and `BACKUP_DIR` an empty directory,
        exits with status 0 within `timeout` seconds and leaves a dump in `$BACKUP_DIR`
        (pg_dump's custom, directory or tar format, or plain SQL, optionally gzipped). That
        dump, restored into a scratch database (pg_restore, or psql for plain SQL), holds each
        table with the same row count and the same content (an order-independent checksum
        over all rows) as the learner's database. In an exercise with `contrasts:`, a script
        that passed runs again on each contrast database (one that holds more than the graded
        one: another table, another schema) and its dump must restore every table there too,
        or the check scores 0: a list of tables or schemas typed in fits only the database it
        was typed from. Failures are injected on the graded database only. The script runs in
        the sandbox (family notes): it sees its own folders and its database's socket only,
        has no network, runs as an unprivileged OS user and logs in as a role made for the run
        that reads that one database; everything it started is killed when it ends. A script
        with a password written into it (`PGPASSWORD=…`, `password=…` or `user:secret@` in a
        connection string, a `~/.pgpass` line it writes) is not run and fails.
        With `failures`, a script that passed is run again once per listed failure, each time
        with an empty `$BACKUP_DIR`: `dump-fails` puts a stand-in `pg_dump` first on the
        `PATH` that writes the start of a dump where it was told to and exits 1;
        `server-down` points `PGHOST` at a socket directory with no server. Each time the
        script must exit non-zero and leave nothing in `$BACKUP_DIR` named like a finished
        backup (a name starting with a dot or ending in `.partial`, `.part`, `.tmp`,
        `.incomplete`, `.inprogress` or `.failed` marks a file as unfinished; a `.log`,
        `.txt`, checksum or lock file claims nothing).
    Arguments:
        script: the script's path in the submission.
        tables: the tables to compare (`orders` or `schema.table`); default every table of
            the database, in every schema but the system's.
        timeout: seconds the script may run before it is killed.
        failures: the failures to inject after a successful run, any of `dump-fails` and
            `server-down`; default none.
    Feedback on failure:
        Says whether the script failed (exit status and the end of its output), timed out,
        wrote nothing, or wrote something that is not a dump; otherwise partial credit per
        table, listing tables missing from the restore or with different row counts or
        content, and the restore's errors. A password in the script is named with its line
        (the password masked). A script whose dump restores intact but that exits 0 under an
        injected failure, or leaves a file named like a finished backup, gets half the points,
        and the feedback names the failure and what the script did. A script whose dump is
        complete on the graded database but not on a contrast is told that it fits one database
        only, with the contrast's feedback; the tables it missed there are for instructors only.
    Example:
        - check: backup_restores
          with: {script: backup.sh, tables: [customers, orders, order_items, products],
                 failures: [dump-fails, server-down]}
    """
    found = resolve_submission_file(ctx, script)
    injected = _failure_list(failures, BACKUP_FAILURES, "backup_restores")
    refused = secrets_refused(found, script)
    if refused is not None:
        return refused
    bindir = _bindir(ctx, "backup_restores")
    mode = program_sandbox(ctx)
    tmp = Path(tempfile.mkdtemp(prefix="pgdrill-backup-"))
    scratch = None
    made: list[tuple[str, str]] = []  # the program roles to drop (_clean_up)
    try:
        work = tmp / "work"
        status, seconds, _, _, backup_dir = _run_backup(ctx, found, tmp, mode, made, timeout=timeout, stem="script")
        out_ev = _output_evidence(tmp, "script", script) + _unsandboxed_note(mode)
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

        scratch, owner = _create_scratch_database(ctx)
        made.append(owner)
        try:
            restore_status, restore_log = _restore(ctx, tmp, bindir, dump, fmt, scratch, owner, mode)
        except _TooLarge as exc:
            return Outcome(False, f"$BACKUP_DIR/{shown} is not restored: {exc}.", tuple(out_ev))
        if restore_status is None:
            return Outcome(False, f"Restoring $BACKUP_DIR/{shown} took longer than {RESTORE_TIMEOUT_S} s and was "
                                  "stopped.", tuple(out_ev))

        wanted = _tables_to_compare(ctx, tables)
        original = _checksums(ctx.grader(), wanted)
        with _server(ctx).connect(scratch, GRADER, purpose="grader-restore") as conn:
            restored = _checksums(conn, wanted)
        good, problems, rows = _compare_tables(wanted, original, restored)
        # Only a script that works is tried under failure: what it does then is the second half
        # (judged on the graded database: a contrast asks what the dump carries, nothing more).
        failed_badly = [p for scenario in (injected if good == len(wanted) and ctx.contrast is None else ())
                        for p in _injected_backup_run(ctx, found, tmp, scenario, mode=mode, role=made[0],
                                                      timeout=timeout, shown=script)]
    finally:
        _clean_up(ctx, scratch, made)
        shutil.rmtree(tmp, ignore_errors=True)

    evidence = [rows_evidence("Tables: your database vs. the restored dump",
                              ("table", "rows", "rows restored", "content"), rows, limit=50),
                Evidence("text", "Dump", f"$BACKUP_DIR/{shown} ({fmt} format); the script took {seconds:.1f} s"
                         + (f"; the newest of {len(candidates)} files it wrote" if len(candidates) > 1 else ""))]
    if good == len(wanted) and failed_badly:
        return Outcome(False, f"{script} made a {fmt}-format dump that restores all {len(wanted)} table(s) intact, "
                              f"but it only works when nothing goes wrong: {'; '.join(failed_badly)}. A backup job "
                              "that looks successful after a failure is the most dangerous kind: everyone believes "
                              "there is a backup. Exit non-zero when anything fails (set -o pipefail, or check "
                              "pg_dump's exit status), and never leave a file named like a finished backup: remove "
                              "it, or write under a temporary name (ending in .partial, or starting with a dot) and "
                              "rename it once the dump is complete.", tuple(evidence + out_ev), score=0.5)
    if good == len(wanted):
        tried = f" It also fails cleanly when {' and when '.join(_FAILURE_WORDS[f] for f in injected)}." if injected else ""
        return Outcome(True, f"{script} made a {fmt}-format dump that restores all {len(wanted)} table(s) intact."
                             + tried, tuple(evidence + out_ev))
    if restore_log:
        evidence.append(Evidence("text", "Restore errors (last lines)", restore_log))
    return Outcome(False, f"The dump from {script} restores {good} of {len(wanted)} table(s) intact: "
                          f"{'; '.join(problems[:5])}{' …' if len(problems) > 5 else ''}. A backup is only as good "
                          "as its restore: test it the same way.",
                   # On a contrast a table missed is one the script was never told of: no credit per table.
                   tuple(evidence + out_ev), score=good / len(wanted) if ctx.contrast is None else 0.0)


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
    return "\n".join(k for k in kept if k)[-programs.OUTPUT_TAIL:]


def _restore(ctx: CheckContext, tmp: Path, bindir: Path, dump: Path, fmt: str, scratch: str,
             owner: tuple[str, str], mode: str) -> tuple[int | None, str]:
    """Restore ``dump`` into ``scratch`` as its owner ``owner`` (a program role), in the same
    sandbox as the learner's programs: the dump is learner data, and pg_restore follows what
    its table of contents names. Returns (exit status or None, error tail)."""
    env = programs.program_env(ctx.server, tmp, mode, owner, scratch)
    out, err = tmp / "restore.out", tmp / "restore.err"
    source = dump
    if fmt in ("custom", "directory", "tar", "gzip-custom"):
        if fmt == "gzip-custom":
            source = tmp / "restore.dump"
            with gzip.open(dump, "rb") as src, open(source, "wb") as dst:
                _copy_limited(src, dst)
        argv = [str(bindir / "pg_restore"), "--no-owner", "--no-privileges", "--no-password",
                "-d", scratch, str(source)]
    else:
        psql = bindir / "psql"
        if not _psql_can_restrict(psql):
            raise NotGradedHere(f"Not graded: {psql} has no \\restrict, so this grader cannot restore a plain-format "
                                "dump safely (a dump's own lines could run psql meta-commands). An instructor "
                                "installs PostgreSQL client programs of 17.6, 16.10, 15.14, 14.19, 13.22 or later.")
        source = tmp / "restore.sql"
        key = secrets.token_hex(16)
        opener = gzip.open if fmt == "gzip-plain" else open
        with opener(dump, "rb") as src, open(source, "wb") as dst:
            dst.write(f"\\restrict {key}\n".encode())
            _copy_limited(src, dst)
        argv = [str(psql), "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=0", "-d", scratch, "-f", str(source)]
    if source != dump:
        source.chmod(0o644)
    argv = programs.confined(ctx.server, argv, mode=mode, status_file=tmp / "restore-confine.json", timeout=RESTORE_TIMEOUT_S,
                     ro_binds=[source])
    status, _ = programs.run_in_session(argv, cwd=tmp / "work", env=env, timeout=RESTORE_TIMEOUT_S + 30, out=out, err=err)
    try:
        report = json.loads((tmp / "restore-confine.json").read_text())
    except (OSError, ValueError):
        report = {}
    if status is None or report.get("timed_out") or not report:
        status = None
    else:
        status = report.get("status") if report.get("status") is not None else 128 + int(report.get("signal") or 0)
    with open(err, "rb") as fh:
        messages = fh.read(MAX_TEXT_BYTES).decode("utf-8", errors="replace")
    return status, restore_errors(messages)


# ------------------------------------------------------------------------------------------
# A runbook's restore commands, read against the dump they restore


_PLACEHOLDER = re.compile(r"<[A-Za-z][\w .:/-]*>")
_CREATE_DATABASE = re.compile(r"(?i)\bcreate\s+database\s+(\"[^\"]+\"|[A-Za-z_][\w$]*)")
_ARCHIVE_FORMATS = ("custom", "directory", "tar")
_DECOMPRESSORS = ("gunzip", "zcat", "gzip", "zstd", "unzstd", "zstdcat", "pigz")
_MAINTENANCE_DATABASES = ("postgres", "template0", "template1")


def command_lines(text: str, *, markdown: bool) -> list[str]:
    """The command lines of a runbook (fenced code blocks, line by line with ``\\`` continuations
    joined and a ``$ `` prompt dropped, and inline code spans) or of a script (every line).
    Placeholders such as ``<time>`` become an unknown variable."""
    lines: list[str] = []
    pending = ""
    fence = None
    for raw in text.splitlines():
        m = _FENCE.match(raw) if markdown else None
        if m:
            fence = None if fence == m.group(1)[0] else (fence or m.group(1)[0])
            continue
        if markdown and fence is None:
            lines.extend(code for code in re.findall(r"`([^`\n]+)`", raw))
            continue
        line = pending + re.sub(r"^\s*\$\s+", "", raw)
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        lines.append(line)
    if pending:
        lines.append(pending)
    return [_PLACEHOLDER.sub(lambda m: "$PLACEHOLDER_" + re.sub(r"\W", "_", m.group(0)[1:-1]), line)
            for line in lines]


def _shown(line: str) -> str:
    """A command line as the runbook wrote it (placeholders back in angle brackets)."""
    return re.sub(r"\$PLACEHOLDER_(\w+)", lambda m: f"<{m.group(1)}>", line.strip())


def _file_format(name: str | None, described: set[str]) -> set[str]:
    """The formats a dump file may have: from its name when it tells, else the described ones."""
    if name:
        lower = name.lower()
        if lower.endswith((".sql.gz", ".sql.gzip")):
            return {"gzip-plain"}
        if lower.endswith(".sql"):
            return {"plain"}
        if lower.endswith(".tar"):
            return {"tar"}
        if lower.endswith(".gz"):
            return {f for f in described if f.startswith("gzip-")} or {"gzip-plain", "gzip-custom"}
    return set(described)


def described_dump_formats(lines: list[str]) -> set[str]:
    """The formats the pg_dump runs in ``lines`` write (``gzip-…`` when piped into gzip)."""
    formats = set()
    for line in lines:
        commands = simple_commands(line)
        for k, cmd in enumerate(commands):
            found = invocations(" ".join(shlex.quote(w) for w in cmd.words), cmd.env, programs=("pg_dump",))
            if not found:
                continue
            fmt = dump_format_of(found[0])
            following = commands[k + 1] if k + 1 < len(commands) and cmd.piped_out else None
            if following is not None and following.words and following.words[0].rsplit("/", 1)[-1] in _DECOMPRESSORS:
                fmt = f"gzip-{fmt}"
            formats.add(fmt)
    return formats


def _restore_problems(line: str, described: set[str], created: set[str]) -> list[str]:
    """What makes the restore commands of one command line unable to work on the described dump."""
    problems = []
    commands = simple_commands(line)
    shown = _shown(line)
    for cmd in commands:
        found = invocations(" ".join(shlex.quote(w) for w in cmd.words), cmd.env, programs=("pg_restore", "psql"))
        if not found:
            continue
        inv = found[0]
        source = cmd.piped_in
        if inv.program == "pg_restore":
            if inv.has("list"):
                continue
            archive = inv.positional[0] if inv.positional else cmd.stdin
            if archive is None and source is None:
                continue  # a fragment ("runs pg_restore --no-owner …"), not a command
            formats = _file_format(archive, described)
            if source is not None and source.words and source.words[0].rsplit("/", 1)[-1] in _DECOMPRESSORS:
                formats = {f.removeprefix("gzip-") for f in formats}
            if formats and not formats & set(_ARCHIVE_FORMATS):
                what = " or ".join(sorted(formats))
                problems.append(f"`{shown}` runs pg_restore on a {what} dump: pg_restore reads only pg_dump's "
                                "archive formats (custom, directory, tar); plain SQL is replayed with psql -f")
            if not inv.has("dbname", "file") and not cmd.piped_out and not inv.env.get("PGDATABASE"):
                problems.append(f"`{shown}` gives pg_restore no --dbname: without it pg_restore prints the SQL "
                                "to standard output and restores nothing")
                continue
        else:
            script = inv.value("file") or cmd.stdin
            if source is not None:
                producer = source.words[0].rsplit("/", 1)[-1] if source.words else ""
                if producer == "pg_restore":
                    formats = set()
                elif producer in _DECOMPRESSORS:
                    formats = {f.removeprefix("gzip-") for f in _file_format(
                        next((w for w in source.words[1:] if not w.startswith("-")), None), described)}
                elif producer == "cat":
                    formats = _file_format(next((w for w in source.words[1:] if not w.startswith("-")), None),
                                           described)
                else:
                    continue
            elif script is not None and script != "-":
                formats = _file_format(script, described)
            else:
                continue  # psql -c …: no dump read
            if formats and not formats & {"plain"}:
                what = " or ".join(sorted(formats))
                fix = ("decompress it into psql (gunzip -c … | psql …)" if all(f.startswith("gzip-") for f in formats)
                       else "an archive is restored with pg_restore --dbname=… (or pg_restore -f - … | psql)")
                problems.append(f"`{shown}` feeds a {what} dump to psql: psql replays plain SQL only; {fix}")
        if inv.program == "pg_restore" and inv.has("create"):
            continue  # -d names the database to connect to; the dump's own database is created
        target = inv.database() if inv.has("dbname") or inv.program == "psql" else None
        if target in _MAINTENANCE_DATABASES:
            problems.append(f"`{shown}` restores into the maintenance database {target}: the tables would land "
                            "among the server's own, not in a database of their own (create one first, or use "
                            "pg_restore --create)")
        elif target and created and target not in created:
            near = [c for c in created if difflib.SequenceMatcher(None, c, target).ratio() >= 0.8]
            if near:
                problems.append(f"`{shown}` restores into {target}, but the runbook creates {near[0]}: one of the "
                                "two names is wrong, and the restore fails or lands elsewhere")
    return problems


_SELECTIVE = ("table", "schema", "exclude-schema", "index", "function", "trigger", "use-list", "data-only",
              "schema-only", "section", "list", "filter")
_CONNECTION = ("host", "port", "username", "dbname", "password", "maintenance-db", "create")
_PIPE_PROGRAMS = ("pg_restore", "psql", "cat", *_DECOMPRESSORS)


def _argv_of(program: str, options: dict[str, list[str]], drop=()) -> list[str]:
    """A client's command line rebuilt from its read options (long names; one-letter flags short)."""
    out = [program]
    for name, values in options.items():
        if name in drop:
            continue
        for value in values:
            flag = f"-{name}" if len(name) == 1 else f"--{name}"
            out.append(f"{flag}={value}" if value and len(name) > 1 else flag if not value else f"{flag}{value}")
    return out


def documented_restore(lines: list[str], dump: str, target: str) -> tuple[str, str] | None:
    """(the runbook's line, a shell pipeline that runs it on ``dump`` into database ``target``)
    for its first full restore (no single tables or sections); None when it shows none the
    grader can run as written. Connection options are dropped (the sandbox's environment
    connects), ``--create`` becomes a restore into ``target``, ``--clean --if-exists`` (which
    drops nothing in an empty database) is left out; pg_restore gets
    ``--no-owner --no-privileges --no-comments`` and psql ``ON_ERROR_STOP=0`` last: the grader's
    restore role is not the superuser a DBA restores as, so errors about owners are expected."""
    for line in lines:
        if not _reads_a_dump(line):
            continue
        pipeline: list[list[str]] = []
        runnable = True  # every command of the line is one the grader can run as written
        for cmd in simple_commands(line):
            program = cmd.words[0].rsplit("/", 1)[-1] if cmd.words else ""
            if program not in _PIPE_PROGRAMS:
                runnable = False
                break
            if program in ("pg_restore", "psql"):
                options, positional = read_options(program, cmd.words[1:])
                if any(name in options for name in _SELECTIVE):
                    runnable = False
                    break
                if program == "pg_restore":
                    # --clean --if-exists on an empty database drops nothing (for a superuser); here it
                    # would try to drop the extensions the restore role does not own.
                    emptied = ("clean", "if-exists") if "if-exists" in options else ()
                    argv = _argv_of("pg_restore", options, drop=(*_CONNECTION, "file", "no-owner", "no-privileges",
                                                                  "no-comments", *emptied))
                    argv += ["--no-owner", "--no-privileges", "--no-comments"]
                    argv += ["--file=-"] if cmd.piped_out else [f"--dbname={target}"]
                    if not cmd.piped_in:
                        argv.append(dump)
                else:
                    argv = _argv_of("psql", options, drop=(*_CONNECTION, "file", "output", "log-file"))
                    argv += [f"--dbname={target}", "--set=ON_ERROR_STOP=0"]
                    if not cmd.piped_in:
                        argv.append(f"--file={dump}")
            else:
                flags = [w for w in cmd.words[1:] if w.startswith("-")]
                argv = [program, *flags] + ([] if cmd.piped_in else [dump])
            pipeline.append(argv)
            if not cmd.piped_out:
                break
        if runnable and pipeline:
            return line, " | ".join(shlex.join(argv) for argv in pipeline)
    return None


def _run_documented_restore(ctx: CheckContext, *, backup: Path, backup_name: str, lines: list[str],
                            timeout: float) -> tuple[str | None, list[Evidence]] | None:
    """Run the backup script, then the runbook's own restore command on its dump, into a scratch
    database, both in the sandbox: (what went wrong, or None when every table came back as the
    grader's own restore of the same dump has it; evidence). The comparison is with that
    restore, not with the learner's database, so a backup that misses data is not held against
    the runbook (its own check says so). None when nothing was run: the runbook has no restore
    to run as written, or the backup makes no dump the grader can restore."""
    mode = program_sandbox(ctx)
    tmp = Path(tempfile.mkdtemp(prefix="pgdrill-runbook-"))
    scratch, reference = None, None
    made: list[tuple[str, str]] = []  # the program roles to drop (_clean_up)
    try:
        status, _, _, _, backup_dir = _run_backup(ctx, backup, tmp, mode, made, timeout=timeout)
        dump, _ = _find_dump(backup_dir) if status == 0 and not _links_in(backup_dir) and \
            not _toc_escapes(backup_dir) else (None, [])
        fmt = dump_format(dump) if dump is not None else "unknown"
        if dump is None or fmt in ("unknown", "zstd"):
            return None
        scratch, owner = _create_scratch_database(ctx)
        made.append(owner)
        found = documented_restore(lines, str(dump), scratch)
        if found is None:
            return None
        line, pipeline = found
        # What the dump holds: the grader's own restore of it.
        reference, reference_owner = _create_scratch_database(ctx)
        made.append(reference_owner)
        ref_status, _ = _restore(ctx, tmp, _bindir(ctx, "the runbook's restore"), dump, fmt, reference, reference_owner, mode)
        if ref_status is None:
            return None
        tables = [tuple(r) for r in ctx.grader().execute(load_sql("files_tables")).fetchall()]
        with _server(ctx).connect(reference, GRADER, purpose="grader-restore") as conn:
            original = {k: v for k, v in _checksums(conn, tables).items() if v is not None}
        wanted = list(original)
        renv = programs.program_env(ctx.server, tmp, mode, owner, scratch)
        script = tmp / "documented-restore.sh"
        script.write_text(f"set -o pipefail\n{pipeline}\n")
        status, _, _ = programs.run_learner_program(ctx.server, script, tmp, cwd=tmp / "work", env=renv, timeout=RESTORE_TIMEOUT_S,
                                            out=tmp / "restore.out", err=tmp / "restore.err", mode=mode,
                                            readable=[backup_dir])
        with _server(ctx).connect(scratch, GRADER, purpose="grader-restore") as conn:
            restored = _checksums(conn, wanted)
        log = restore_errors(programs.tail(tmp / "restore.err"))
    except _TooLarge:
        return None
    finally:
        if reference is not None:
            _server(ctx).drop_database(reference)
        _clean_up(ctx, scratch, made)
        shutil.rmtree(tmp, ignore_errors=True)
    good, problems, rows = _compare_tables(wanted, original, restored)
    evidence = [Evidence("text", "The runbook's restore, as the grader ran it",
                         f"{_shown(line)}\nran as: {pipeline.replace(str(dump), '<the dump from ' + backup_name + '>')}"),
                rows_evidence("Tables: the grader's restore of the dump vs. the runbook's",
                              ("table", "rows", "rows restored", "content"), rows, limit=50)]
    if log:
        evidence.append(Evidence("text", "Restore errors (last lines)", log))
    if status is None:
        return f"`{_shown(line)}` did not finish within {RESTORE_TIMEOUT_S} s on the dump {backup_name} makes", evidence
    if good == len(wanted):
        return None, evidence
    return (f"`{_shown(line)}`, run on the dump {backup_name} makes (into an empty database), restored {good} of "
            f"the dump's {len(wanted)} table(s) intact: {'; '.join(problems[:3])}"
            f"{' …' if len(problems) > 3 else ''}", evidence)


@check
def runbook_restore_consistent(ctx: CheckContext, *, path: SubmissionPath, backup: str | None = "backup.sh",
                               run: bool = False, timeout: ScriptTimeout = SCRIPT_TIMEOUT_S) -> Outcome:
    """The restore commands in a runbook can work on the dump it describes.

    What it asserts:
        The commands of the Markdown file `path` — fenced code blocks and inline code spans,
        read as shell command lines (`checks/commands.py`) — are consistent with the dump they
        restore. The dump's format is what the `pg_dump` commands describe: those in the
        backup script `backup` (what is really made; `gzip` in the pipe counts) and those in
        the runbook (`--format`/`-F`, plain by default). If both show pg_dump and they
        disagree, the runbook describes a dump that is not made. A restore command reading a
        dump must suit it: `pg_restore` only on custom, directory or tar archives (after a
        decompressor in the pipe for a gzipped one), `psql -f` / `psql <` / `… | psql` only on
        plain SQL (or pg_restore's output); a file name ending `.sql` or `.sql.gz` is plain
        SQL whatever else is described. `pg_restore` with a dump but neither `--dbname` nor
        `-f` restores nothing; restoring into `postgres`, `template0` or `template1` without
        `--create` is wrong; a target database whose name nearly matches, but is not, the one
        the runbook creates (`createdb`, `CREATE DATABASE`) is a typo that fails. The runbook
        must show at least one restore (pg_restore or psql reading a dump, or a restore
        script). Fragments that name no dump (`pg_restore --no-owner …`) are read as prose.
        With `run`, when all that holds, the grader also runs the documented restore: the
        backup script makes a dump (sandboxed, as in `backup_restores`), and the runbook's
        first full restore command (pg_restore or psql, with a decompressor or pg_restore in
        front; not one restoring single tables or sections) runs as written on that dump
        into an empty scratch database, in the same sandbox. Only the connection is the
        grader's: host, port, user and database options are replaced, `--create` restores
        into the scratch database, `--clean --if-exists` (nothing to drop there) is left
        out, and since the restore role is not the superuser a DBA
        restores as, pg_restore gets `--no-owner --no-privileges --no-comments` and psql
        `ON_ERROR_STOP=0`. Every table (of every schema but the system's) must then hold the
        same rows as after the grader's own restore of that dump (so a dump that misses data is the backup
        check's business, not the runbook's). A runbook whose restore is a script of its own (`restore.sh`),
        or a backup that makes no dump, is not run (their own checks judge them).
    Arguments:
        path: the runbook's path in the submission.
        backup: the backup script whose pg_dump makes the dump (none: the runbook alone).
        run: also run the documented restore on a dump the backup script makes (default no).
        timeout: seconds the backup script may run before it is killed.
    Feedback on failure:
        Each restore command that cannot work, quoted, with the reason (the format it would
        get and the program that reads that format, the missing --dbname, the database name
        that does not match); or that the runbook shows no restore command; or that the
        runbook and the script describe different formats. When the documented restore ran:
        the command, how it was run, and per table what did not come back, with the
        restore's errors.
    Example:
        - check: runbook_restore_consistent
          with: {path: RUNBOOK.md, backup: backup.sh, run: true}
    """
    found = resolve_submission_file(ctx, path)
    lines = command_lines(read_text(found), markdown=True)
    described = described_dump_formats(lines)
    script_formats: set[str] = set()
    script, ran = None, None
    if backup:
        try:
            script = resolve_submission_file(ctx, backup)
        except LearnerFault:  # no script to read: the runbook alone is judged
            script = None
        if isinstance(script, Path):
            script_formats = described_dump_formats(command_lines(read_text(script), markdown=False))
    problems = []
    if described and script_formats and not described & script_formats:
        problems.append(f"the runbook describes a {' or '.join(sorted(described))} dump, but {backup} writes a "
                        f"{' or '.join(sorted(script_formats))} dump")
    formats = script_formats or described
    created = {name.strip('"') for line in lines for name in _CREATE_DATABASE.findall(line)}
    created |= {inv.positional[0] for line in lines for inv in invocations(line, programs=("createdb",))
                if inv.positional and "$" not in inv.positional[0]}
    restores = list(dict.fromkeys(
        line for line in lines
        if any(inv.program == "psql" or (inv.program == "pg_restore" and not inv.has("list"))
               for inv in invocations(line))
        or re.search(r"(?:^|[\s/])[\w.-]*restore[\w.-]*\.sh\b", line)))
    for line in restores:
        problems.extend(_restore_problems(line, formats, created))
    has_restore = any(_reads_a_dump(line) for line in restores) or \
        any(re.search(r"(?:^|[\s/])[\w.-]*restore[\w.-]*\.sh\b", line) for line in restores)
    evidence: tuple[Evidence, ...] = (rows_evidence(f"Restore commands in {path}", ("command",), [(_shown(r),) for r in restores],
                              limit=20),
                Evidence("text", "The dump they restore",
                         f"{' or '.join(sorted(formats)) or 'format not described'}"
                         + (f" (from the pg_dump in {backup})" if script_formats else
                            " (from the runbook's pg_dump)" if described else "")
                         + (f"; databases the runbook creates: {', '.join(sorted(created))}" if created else "")))
    if not has_restore and not problems:
        return Outcome(False, f"{path} shows no restore command: no pg_restore or psql reading a dump, no restore "
                              "script run. At 3 a.m. the colleague needs the exact command, with the dump and the "
                              "database it goes into (e.g. pg_restore --dbname=restored --no-owner backup.dump).",
                       evidence)
    if not problems and run and backup and isinstance(script, Path) and ctx.server is not None:
        ran = _run_documented_restore(ctx, backup=script, backup_name=backup, lines=lines, timeout=timeout)
        if ran is not None:
            problems.extend([ran[0]] if ran[0] else [])
            evidence = (*evidence, *ran[1])
    if problems:
        return Outcome(False, f"{path} has restore steps that cannot work on the dump it describes: "
                              f"{'; '.join(problems[:4])}{' …' if len(problems) > 4 else ''}. A runbook is "
                              "followed literally under pressure; a command that fails there costs the time it "
                              "was written to save.", evidence)
    tried = (f"; run as written on the dump {backup} makes, it restored every table intact" if ran is not None
             else "")
    return Outcome(True, f"{path}'s restore commands suit the {' or '.join(sorted(formats)) or 'described'} dump "
                         f"({len(restores)} restore command(s) read{tried}).", evidence)


def _reads_a_dump(line: str) -> bool:
    for cmd in simple_commands(line):
        for inv in invocations(" ".join(shlex.quote(w) for w in cmd.words), cmd.env, programs=("pg_restore", "psql")):
            if inv.program == "pg_restore" and not inv.has("list") and (inv.positional or cmd.stdin or cmd.piped_in):
                return True
            if inv.program == "psql" and (inv.has("file") or cmd.stdin or cmd.piped_in):
                return True
    return False


# ------------------------------------------------------------------------------------------
# A schedule for maintenance jobs (crontab)


_CRON_ENV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
DEFAULT_CRON_COMMAND = r"\bvacuumdb\b|\b(?:vacuum|analyze)\b"


@dataclass(frozen=True)
class CronJob:
    line: int
    schedule: CronSchedule
    command: str
    env: dict  # the crontab's assignments above the job (cron gives each job those)

    def __iter__(self):  # (line, schedule text, command), as parse_crontab has always listed jobs
        return iter((self.line, self.schedule.text, self.command))

    def __getitem__(self, index):
        return tuple(self)[index]


def parse_crontab(text: str) -> tuple[list[CronJob], list[str]]:
    """(jobs, problems) of a crontab file; each job unpacks as (line number, schedule, command)."""
    jobs, problems = [], []
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        assignment = _CRON_ENV.match(line)
        if assignment:
            value = assignment.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            env[assignment.group(1)] = value
            continue
        parts = line.split(None, 1)
        if parts[0].startswith("@"):
            schedule_text, command = parts[0], (parts[1].strip() if len(parts) > 1 else "")
        else:
            fields = line.split(None, 5)
            if len(fields) < 6:
                problems.append(f"line {number}: {len(fields)} field(s); a job needs five schedule fields "
                                "(minute hour day-of-month month day-of-week) and a command")
                continue
            schedule_text, command = " ".join(fields[:5]), fields[5].strip()
        try:
            schedule = CronSchedule.parse(schedule_text)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        if not command:
            problems.append(f"line {number}: the schedule has no command")
            continue
        if _UNESCAPED_PERCENT.search(command):
            problems.append(f"line {number}: the command has an unescaped %, which cron turns into a newline "
                            "(everything after it becomes the command's input); write \\% instead")
            continue
        jobs.append(CronJob(number, schedule, command, dict(env)))
    return jobs, problems


def _job_problems(job: CronJob, summary, *, every_hours, window, database) -> list[str]:
    """Why one job that runs the wanted command does not do what the task asks (empty: it does)."""
    where = f"line {job.line} ({job.schedule.text})"
    if summary.runs == 0:
        return [f"{where} never runs: {job.schedule.why_never()}"]
    out = []
    if every_hours is not None and summary.longest_wait > dt.timedelta(hours=float(every_hours)):
        out.append(f"{where} runs {summary.runs} time(s) in the next four years, with up to "
                   f"{describe_wait(summary.longest_wait)} between two runs; it must run at least every "
                   f"{float(every_hours):g} hours")
    if window is not None:
        outside = [t for t in job.schedule.times() if not in_window(t, window)]
        if outside:
            out.append(f"{where} also runs at {', '.join(t.strftime('%H:%M') for t in outside[:3])}, outside "
                       f"{window[0].strftime('%H:%M')}–{window[1].strftime('%H:%M')}")
    if database is not None:
        # The runs that do the maintenance: vacuumdb and friends, psql when it is given VACUUM or
        # ANALYZE (a psql that logs the run elsewhere is not judged).
        targets = [inv for inv in invocations(job.command.replace("\\%", "%"), job.env)
                   if inv.program in ("vacuumdb", "reindexdb", "clusterdb")
                   or (inv.program == "psql" and re.search(r"(?i)\b(?:vacuum|analyze)\b",
                                                           " ".join(inv.options.get("command", []))))]
        if not targets:
            out.append(f"{where} runs no vacuumdb, and no psql -c with VACUUM or ANALYZE, that the grader can "
                       "read, so which database it works on cannot be told")
        for inv in targets:
            db = inv.database()
            if db in (database, ALL_DATABASES):
                continue
            if db is not None:
                out.append(f"{where} runs {inv.program} against database {db}, not {database}")
            elif inv.names_database():
                out.append(f"{where} names its database through something only known when it runs; write "
                           f"the name ({database}) in the crontab")
            else:
                out.append(f"{where} names no database: {inv.program} would connect to the database named "
                           f"like the OS user cron runs it as (postgres, in the postgres user's crontab), "
                           f"not {database}; add --dbname={database} or set PGDATABASE={database} above it")
    return out


@check
def cron_schedule_valid(ctx: CheckContext, *, path: SubmissionPath, command_pattern: str = DEFAULT_CRON_COMMAND,
                        min_jobs: int = 1,
                        every_hours: float | None = None, between: str | None = None,
                        database: str | None = None) -> Outcome:
    """The crontab file schedules the maintenance job so that it really runs, when and where asked.

    What it asserts:
        Every line of the crontab file `path` in the submission is blank, a comment, an
        environment assignment (`PGDATABASE=techshop`) or a job: five schedule fields
        (minute 0–59, hour 0–23, day of month 1–31, month 1–12 or jan–dec, day of week 0–7 or
        sun–sat; each `*`, a number, a range `a-b`, a list `a,b` and an optional step `/n`) or
        an `@daily`-style macro, followed by a command without an unescaped `%`. At least
        `min_jobs` jobs have a command matching the regular expression `command_pattern`
        (case-insensitive; by default one that runs vacuumdb, VACUUM or ANALYZE) and do what
        the task asks, judged by effect: the grader computes each job's real run times over
        the next four years (`checks/cron.py`: day-of-month and day-of-week combined as cron
        does, month lengths and leap years included), so a job that never runs (`0 2 30 2 *`,
        30 February; `0 3 31 4,6,9,11 *`) fails; with `every_hours` it may never wait longer
        than that between two runs; with `between` every run starts inside that time window;
        with `database` every vacuumdb in the command, and every psql given VACUUM or ANALYZE
        with `-c`, works on that database (read from `--dbname`/`-d`, the first argument, a connection string, the crontab's
        `PGDATABASE=` line or an assignment in the command; `--all` counts). Nothing is run:
        pg_cron is not available on the grading servers, so the schedule is graded as a
        file, the way a reviewer would read it before installing it.
    Arguments:
        path: the crontab file's path in the submission, e.g. `maintenance.cron`.
        command_pattern: regular expression a job's command must match.
        min_jobs: how many such jobs must do what is asked (default 1).
        every_hours: the longest wait between two runs, in hours (24 for "nightly"); default
            no limit (a job must still run at all).
        between: the time window every run must start in, `HH:MM-HH:MM` (it may wrap past
            midnight, `22:00-06:00`); default any time.
        database: the database the job must work on; default not checked.
    Feedback on failure:
        Each invalid line with what is wrong with it (a field out of range, too few fields, a
        `%` cron would cut the command at), or that no job runs the maintenance command; for
        a job that runs it, why it does not count: it never runs (and why: the day that does
        not exist in those months), waits too long between runs, runs outside the window, or
        works on another database or on none named. The jobs found are listed with their next
        three run times.
    Example:
        - check: cron_schedule_valid
          with: {path: maintenance.cron, command_pattern: "vacuumdb", every_hours: 24,
                 between: "22:00-06:00", database: techshop}
    """
    found = resolve_submission_file(ctx, path)
    try:
        window = parse_window(between) if between is not None else None
    except ValueError as exc:  # the spec's window; the learner's crontab is read below
        raise ExerciseBug(f"cron_schedule_valid: between: {exc}") from None
    jobs, problems = parse_crontab(read_text(found))
    pattern = re.compile(str(command_pattern), re.IGNORECASE)
    now = dt.datetime.now().replace(second=0, microsecond=0)
    summaries = {job.line: job.schedule.summary(now) for job in jobs}
    evidence = (rows_evidence(f"Jobs in {path}", ("line", "schedule", "next runs", "command"),
                              [(str(j.line), j.schedule.text,
                                ", ".join(t.strftime("%Y-%m-%d %H:%M") for t in summaries[j.line].next_runs)
                                or "never", j.command) for j in jobs], limit=20),) if jobs else ()
    if problems:
        return Outcome(False, f"{path} is not a valid crontab: {'; '.join(problems[:5])}"
                              f"{' …' if len(problems) > 5 else ''}. cron skips a line it cannot read, so that job "
                              "would silently never run.", evidence)
    matching = [j for j in jobs if pattern.search(j.command)]
    if len(matching) < int(min_jobs):
        have = f"{len(jobs)} job(s), {len(matching)} of them" if jobs else "no jobs, so none"
        return Outcome(False, f"{path} has {have} running the maintenance command (a command matching "
                              f"/{command_pattern}/); at least {min_jobs} expected, e.g. "
                              "30 3 * * * vacuumdb --analyze --dbname=techshop", evidence)
    wrong = {j.line: _job_problems(j, summaries[j.line], every_hours=every_hours, window=window,
                                   database=database) for j in matching}
    good = [j for j in matching if not wrong[j.line]]
    if len(good) < int(min_jobs):
        found_problems = [p for j in matching for p in wrong[j.line]]
        return Outcome(False, f"{path} has {len(matching)} job(s) running the maintenance command, "
                              f"{len(good)} of them as asked (at least {min_jobs} expected): "
                              f"{'; '.join(found_problems[:5])}{' …' if len(found_problems) > 5 else ''}. A "
                              "crontab line that is valid but never runs, or runs somewhere else, fails silently: "
                              "nobody notices until the maintenance is missed.", evidence)
    return Outcome(True, f"{path} schedules {len(good)} maintenance job(s) as asked: "
                         + "; ".join(f"{j.schedule.text} {j.command} (next run "
                                     f"{summaries[j.line].next_runs[0]:%Y-%m-%d %H:%M})" for j in good[:3]) + ".",
                   evidence)


# ------------------------------------------------------------------------------------------
# A restore procedure, tested


def _create_scratch_database(ctx: CheckContext) -> tuple[str, tuple[str, str]]:
    """An empty database with the incident's template extensions, owned by a program role
    made for it (which may connect there and nowhere else): (name, (role, password))."""
    scratch = f"pgdrill_restore_{os.getpid()}_{next(_scratch_counter)}"
    with _server(ctx).connect(purpose="janitor") as admin:
        owner = roles.create_program_role(admin, None, reads_all=False)
        admin.execute(sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0 ENCODING 'UTF8'").format(
            sql.Identifier(scratch), sql.Identifier(owner[0])))
        admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(scratch)))
        admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}, {}").format(
            sql.Identifier(scratch), sql.Identifier(GRADER), sql.Identifier(owner[0])))
    with _server(ctx).connect(scratch, purpose="janitor") as admin:
        # The incident's template extensions, so a dump's CREATE EXTENSION finds them in place.
        for ext in TEMPLATE_EXTENSIONS:
            try:
                admin.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA public").format(sql.Identifier(ext)))
            except psycopg.Error:
                pass
    return scratch, owner


def _clean_up(ctx: CheckContext, scratch: str | None, made: list) -> None:
    """Drop the scratch database, then end every session of the program roles and drop them."""
    if scratch is not None:
        _server(ctx).drop_database(scratch)
    if made:
        with _server(ctx).connect(purpose="janitor") as admin:
            roles.drop_program_roles(ctx.server, admin, [name for name, _ in made])


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


def _restored_an_older_dump(original: dict, restored: dict) -> bool:
    """The restored tables exist but hold no rows where the original has some: the older,
    row-less dumps the grader planted were restored instead of the newest."""
    present = [(key, back) for key, back in restored.items() if back is not None]
    return bool(present) and all(back[0] == 0 for _, back in present) and \
        any(orig is not None and orig[0] > 0 for orig in original.values())


def _restore_truncated(ctx: CheckContext, script: Path, tmp: Path, dump: Path, *, mode: str, made: list,
                       timeout: float) -> int | None:
    """Run the restore script into a fresh empty database with only a truncated copy of ``dump``
    in its ``$BACKUP_DIR``; its exit status (None: it ran out of time)."""
    broken_dir = tmp / "truncated"
    broken_dir.mkdir(mode=0o755)
    broken_dir.chmod(0o755)
    _truncated_copy(dump, broken_dir)
    programs.sandbox_dirs(tmp, ("work-truncated",), _server(ctx).sandbox)
    scratch, owner = _create_scratch_database(ctx)
    made.append(owner)
    try:
        env = programs.program_env(ctx.server, tmp, mode, owner, scratch, BACKUP_DIR=str(broken_dir))
        status, _, _ = programs.run_learner_program(ctx.server, script, tmp, cwd=tmp / "work-truncated", env=env, timeout=timeout,
                                            out=tmp / "truncated.out", err=tmp / "truncated.err", mode=mode,
                                            readable=[broken_dir])
    finally:
        _server(ctx).drop_database(scratch)
    return status


@check
def restore_script_restores(ctx: CheckContext, *, backup: str = "backup.sh", restore: str = "restore.sh",
                            tables: list[str] | None = None,
                            formats: _DumpFormat | list[_DumpFormat] | None = None,
                            timeout: ScriptTimeout = SCRIPT_TIMEOUT_S,
                            failures: _RestoreFailure | list[_RestoreFailure] | None = None) -> Outcome:
    """The learner's own restore script brings their backup back into an empty database.

    What it asserts:
        The backup script `backup` runs as in `backup_restores` and leaves a dump in
        `$BACKUP_DIR` — in one of `formats` when given (`custom`, `directory`, `tar`, `plain`,
        `gzip-plain`, `gzip-custom`). Then the restore script `restore` runs with the same
        `$BACKUP_DIR` (read-only) and with `PGHOST`, `PGPORT`, `PGUSER`/`PGPASSWORD` (a role made
        for the run, which owns that database and may connect nowhere else) and `PGDATABASE`
        naming an empty scratch database (with the incident's extensions
        already installed, as on the production server). It must exit with status 0 within
        `timeout` seconds, and afterwards the scratch database must hold each table with the
        same row count and content (an order-independent checksum) as the learner's database.
        This is the scenario's "test restore procedure": the restore is the learner's, not the
        grader's. Both scripts run sandboxed as described in the family notes, and neither
        may have a password written into it (as in `backup_restores`).
        With `failures: [older-dumps]`, `$BACKUP_DIR` also holds two older dumps when the
        restore script runs: the same format, names with the backup's own timestamp moved one
        and two days back (or a date added to a name without one) and modification times to
        match, and no rows — so restoring one of them instead of the newest shows. With
        `truncated-dump`, the restore script runs once more, into a fresh empty database, with
        only the newest dump cut to half its size (for a directory-format dump, its largest
        file): it must exit non-zero.
    Arguments:
        backup: the backup script's path in the submission.
        restore: the restore script's path in the submission.
        tables: the tables to compare (`orders` or `schema.table`); default every table of
            the database, in every schema but the system's.
        formats: the dump formats accepted (default: any the grader can read).
        timeout: seconds each script may run before it is killed.
        failures: situations the restore script must also handle, any of `older-dumps` and
            `truncated-dump`; default none.
    Feedback on failure:
        Which step failed: the backup (exit status, output), the dump's format (and why the
        custom format is the one to keep), the restore script (exit status, timeout and the end
        of its output — a restore that exits with an error cannot be told from a failed one by
        whoever runs it at 3 a.m.), or per table what is missing or different after the
        restore. Partial credit per table when both scripts ran. Restoring an older dump
        scores nothing and says which dumps were there; a restore that exits 0 on a truncated
        dump gets half the points.
    Example:
        - check: restore_script_restores
          with: {backup: backup.sh, restore: restore.sh, formats: [custom],
                 failures: [older-dumps, truncated-dump]}
    """
    scripts = {}
    for role, path in (("backup", backup), ("restore", restore)):
        found = resolve_submission_file(ctx, path)
        scripts[role] = found
    injected = _failure_list(failures, RESTORE_FAILURES, "restore_script_restores")
    for role, path in (("backup", backup), ("restore", restore)):
        refused = secrets_refused(scripts[role], path)
        if refused is not None:
            return refused
    _bindir(ctx, "restore_script_restores")
    mode = program_sandbox(ctx)
    tmp = Path(tempfile.mkdtemp(prefix="pgdrill-restore-"))
    scratch = None
    made: list[tuple[str, str]] = []  # the program roles to drop (_clean_up)
    try:
        status, _, started, ended, backup_dir = _run_backup(ctx, scripts["backup"], tmp, mode, made, timeout=timeout,
                                                            dirs=("backup", "work", "work-restore", "home", "tmp"))
        out_ev = _output_evidence(tmp, "backup", backup) + _unsandboxed_note(mode)
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

        # The original's checksums are taken before the restore script runs (defence in depth:
        # its role cannot connect to the learner's database, so it cannot change it to match).
        wanted = _tables_to_compare(ctx, tables)
        original = _checksums(ctx.grader(), wanted)
        older = (_plant_older_dumps(ctx, tmp, mode, made[0], backup_dir, dump, fmt, started, ended)
                 if "older-dumps" in injected else [])

        # The backup script's role is gone before the restore script starts.
        with _server(ctx).connect(purpose="janitor") as admin:
            roles.drop_program_roles(ctx.server, admin, [made.pop()[0]])
        scratch, owner = _create_scratch_database(ctx)
        made.append(owner)
        renv = programs.program_env(ctx.server, tmp, mode, owner, scratch, BACKUP_DIR=str(backup_dir))
        # The restore script may read $BACKUP_DIR, not change what it restores from.
        rstatus, rseconds, _ = programs.run_learner_program(ctx.server, scripts["restore"], tmp, cwd=tmp / "work-restore",
                                                    env=renv, timeout=timeout, out=tmp / "restore.out",
                                                    err=tmp / "restore.err", mode=mode, readable=[backup_dir])
        rout_ev = _output_evidence(tmp, "restore", restore)
        with _server(ctx).connect(scratch, GRADER, purpose="grader-restore") as conn:
            restored = _checksums(conn, wanted)
        good, problems, rows = _compare_tables(wanted, original, restored)
        truncated_status = None
        if "truncated-dump" in injected and rstatus == 0 and good == len(wanted):
            truncated_status = _restore_truncated(ctx, scripts["restore"], tmp, dump, mode=mode, made=made,
                                                  timeout=timeout)
    finally:
        _clean_up(ctx, scratch, made)
        shutil.rmtree(tmp, ignore_errors=True)

    evidence = [rows_evidence("Tables: your database vs. the database your restore script filled",
                              ("table", "rows", "rows restored", "content"), rows, limit=50),
                Evidence("text", "Dump", f"$BACKUP_DIR/{shown} ({fmt} format)")] + rout_ev
    if rstatus is None:
        return Outcome(False, f"{restore} did not finish within {timeout} s and was stopped. Does it wait for input "
                              "(a password prompt, a confirmation)? A restore runbook must run unattended.",
                       tuple(evidence))
    if older:
        evidence.append(Evidence("text", "$BACKUP_DIR when the restore ran",
                                 "\n".join([f"{shown} (newest, from {backup})"] + [f"{n} (older, no rows)" for n in older])))
    if older and rstatus == 0 and _restored_an_older_dump(original, restored):
        return Outcome(False, f"{restore} restored an older dump, not the newest: $BACKUP_DIR held {shown} (the "
                              f"newest, from {backup}) and {', '.join(older)} (older by one and two days, by name and "
                              "by modification time), and the tables it restored have the older dumps' rows (none). "
                              "After an incident the newest good backup is the one that loses least; pick it by "
                              "modification time (ls -t, find -printf '%T@') or by a sortable timestamp in the "
                              "name.", tuple(evidence))
    if rstatus != 0:
        several = f" ($BACKUP_DIR held {1 + len(older)} dumps: restore the newest)" if older else ""
        return Outcome(False, f"{restore} exited with status {rstatus}{several} ({good} of {len(wanted)} table(s) came back "
                              "intact). Whoever runs the restore at 3 a.m. cannot tell an exit status that means "
                              "\"failed\" from one that means \"mostly worked\": make the script exit 0 only when "
                              "the restore succeeded (restore into the existing database $PGDATABASE; options "
                              "such as --no-owner and --no-privileges avoid errors about roles the target "
                              "server does not have).", tuple(evidence))
    if good == len(wanted) and truncated_status == 0:
        return Outcome(False, f"{restore} restores the newest dump intact, but when that dump is truncated (the "
                              "grader cut a copy to half its size and ran the script again into a fresh empty "
                              "database) it still exits 0. A restore that stopped halfway must say so: a "
                              "half-restored database that looks fine is worse than a failed restore (check the "
                              "exit status of pg_restore, e.g. with set -e and --exit-on-error).",
                       tuple(evidence), score=0.5)
    if good == len(wanted):
        extra = "".join([f"; it picked the newest of {1 + len(older)} dumps" if older else "",
                         "; on a truncated dump it exits with an error" if truncated_status is not None else ""])
        return Outcome(True, f"{restore} restored the {fmt}-format dump from {backup} into an empty database in "
                             f"{rseconds:.1f} s, and all {len(wanted)} table(s) came back intact{extra}.",
                       tuple(evidence))
    return Outcome(False, f"After {restore}, {good} of {len(wanted)} table(s) are intact: "
                          f"{'; '.join(problems[:5])}{' …' if len(problems) > 5 else ''}. Restore into the existing "
                          "database named by $PGDATABASE (the script gets no right to create databases).",
                   tuple(evidence), score=good / len(wanted))
