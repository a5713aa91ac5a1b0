"""Gradebooks for the learning platforms, a class roster, chunks and merging.

* **Roster** — a CSV file mapping each submission folder to a student: ``folder`` (required:
  the folder's name under the batch's submissions), and any of ``student_id``, ``email``,
  ``name``, ``repo`` (``owner/name`` of the student's repository, for the class regrade).
* **Exports** — ``gradebook.csv`` (generic: the roster's columns when there is one, points
  per exercise, total, maximum, *exact* percent), ``canvas.csv`` (Canvas's gradebook import
  columns) and ``moodle.csv`` (Moodle's grade import: an identifying column to map, one grade
  column per item).
* **Chunks and merging** — ``chunk(items, index, count)`` splits a class into the share one
  regrade job grades; ``pgdrill.batch.merge_gradebooks`` reads the JSON reports the jobs wrote
  and builds the one gradebook a single machine would have written (``grade.py gradebook merge``).

docs/classroom.md ("Gradebook exports", "Class regrade") describes the files.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

# The column naming the learning platform's assignment (Canvas creates it if it is new).
DEFAULT_ASSIGNMENT = "pgdrill"
# gradebook.json in a gradebook folder: which report in reports/ is whose, and any grader problem.
INDEX_NAME = "gradebook.json"


class RosterError(ValueError):
    pass


@dataclass(frozen=True)
class Student:
    folder: str
    student_id: str = ""
    email: str = ""
    name: str = ""
    repo: str = ""


ROSTER_COLUMNS = ("folder", "student_id", "email", "name", "repo")


def load_roster(path: Path) -> dict[str, Student]:
    """The roster's students by folder; every problem as ``file:line: what``."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "folder" not in header:
        raise RosterError(f"{path}:1: the roster needs a 'folder' column (and any of student_id, email, name, repo)")
    unknown = [h for h in header if h not in ROSTER_COLUMNS]
    if unknown:
        raise RosterError(f"{path}:1: unknown roster columns {', '.join(unknown)} (known: {', '.join(ROSTER_COLUMNS)})")
    out: dict[str, Student] = {}
    problems = []
    for line, row in enumerate(reader, 2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        folder = row.get("folder", "")
        if not folder:
            problems.append(f"{path}:{line}: no folder")
        elif folder in out:
            problems.append(f"{path}:{line}: folder {folder!r} is listed twice")
        else:
            out[folder] = Student(**{k: row.get(k, "") for k in ROSTER_COLUMNS})
    if problems:
        raise RosterError("\n".join(problems))
    return out


def exact_percent(points: float, max_points: float) -> str:
    """Percent to four decimal places, trailing zeros dropped: 41/395 -> '10.3797', 1/2 -> '50'."""
    if not max_points:
        return "100"
    text = f"{100 * points / max_points:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(…),
# =cmd|…, @SUM(…)); tab and carriage return count too, since some programs skip them first.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value for the gradebook's CSV: text that a spreadsheet would run as a formula is
    prefixed with ``'`` (shown as text); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _row(writer, row) -> None:
    """A CSV row whose text cannot run as a spreadsheet formula (``csv_cell``)."""
    writer.writerow([csv_cell(v) for v in row])


def _student(roster: dict[str, Student] | None, folder: str) -> Student:
    return (roster or {}).get(folder) or Student(folder)


def generic_csv(book, roster: dict[str, Student] | None = None) -> str:
    """One row per submission: who (with a roster), points per exercise, total, max, percent."""
    from pgdrill.render import fmt_points

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    who = ["student_id", "email", "name"] if roster is not None else []
    _row(writer, ["submission", *who, *[s.id for s in book.specs], "total", "max_points", "percent", "problem"])
    for e in book.entries:
        st = _student(roster, e.submission.name)
        row = [e.submission.name] + ([st.student_id, st.email, st.name] if roster is not None else [])
        for spec in book.specs:
            ex = e.exercise(spec.id)
            row.append(fmt_points(ex.points) if ex is not None else "")
        row += [fmt_points(e.points), fmt_points(e.report.max_points),
                exact_percent(e.points, e.report.max_points), e.problem]
        _row(writer, row)
    return buf.getvalue()


def canvas_csv(book, roster: dict[str, Student] | None = None, assignment: str = DEFAULT_ASSIGNMENT) -> str:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then the
    assignment's points; the second row gives its points possible. Canvas matches a row by
    SIS User ID or SIS Login ID (here the roster's student_id and email); a row it cannot match
    is listed on its import page, never applied to someone else."""
    from pgdrill.render import fmt_points

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    _row(writer, ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment])
    _row(writer, ["Points Possible", "", "", "", "", fmt_points(book.max_points)])
    for e in book.entries:
        st = _student(roster, e.submission.name)
        _row(writer, [st.name or e.submission.name, "", st.student_id, st.email, "", fmt_points(e.points)])
    return buf.getvalue()


def moodle_csv(book, roster: dict[str, Student] | None = None, assignment: str = DEFAULT_ASSIGNMENT) -> str:
    """Moodle's grade import from CSV: identifying columns named as Moodle's own export names
    them ("ID number", "Email address"; map one of them to the user field on import), the
    full name for people, and one grade column per grade item."""
    from pgdrill.render import fmt_points

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    _row(writer, ["ID number", "Email address", "Full name", f"{assignment} (Real)"])
    for e in book.entries:
        st = _student(roster, e.submission.name)
        _row(writer, [st.student_id, st.email, st.name or e.submission.name, fmt_points(e.points)])
    return buf.getvalue()


def roster_problems(book, roster: dict[str, Student] | None) -> list[str]:
    """Submissions the roster does not name, and roster folders that were not graded."""
    if roster is None:
        return []
    graded = {e.submission.name for e in book.entries}
    return ([f"submission {name!r} is not in the roster" for name in sorted(graded - set(roster))]
            + [f"roster folder {name!r} has no submission" for name in sorted(set(roster) - graded)])


# --------------------------------------------------------------------------------------------
# Chunks and merging


def chunk(items: list, index: int, count: int) -> list:
    """Share ``index`` (1-based) of ``count`` near-equal contiguous shares of ``items``."""
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"chunk {index} of {count} does not exist")
    size, extra = divmod(len(items), count)
    start = (index - 1) * size + min(index - 1, extra)
    return items[start:start + size + (1 if index <= extra else 0)]


def write_index(book, out_dir: Path, stems: dict[str, str]) -> Path:
    """gradebook.json: each submission's name, its report file (under reports/) and any grader problem."""
    path = Path(out_dir) / INDEX_NAME
    path.write_text(json.dumps([{"submission": e.submission.name, "report": f"reports/{stems[e.submission.name]}.json",
                                 "problem": e.problem} for e in book.entries], indent=2) + "\n", encoding="utf-8")
    return path
