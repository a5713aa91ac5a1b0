"""The submission's files, its text and its repository are hostile input too (issue 14).

Four classes, each graded through the real entry points — ``grade.py``, ``grade.py --batch``,
``pytest exercises/ --submission DIR``, Gradescope's ``run_autograder`` (the workflow's
steps are run in tests/test_export_template.py) — and each attempt must be contained: the
grader finishes, the attempt scores no more than the untouched starter, and one line says why.

1. The submission tree is not a set of plain files: symbolic links (to a file, an exercise
   folder, ``exercises/``, a student's whole folder), hard links, named pipes, devices and
   huge sparse files are refused by ``pgdrill.submission`` before a byte is read.
2. Learner text reaches every output: the terminal report, Markdown (report and job summary),
   CSV, the front ends' JSON and HTML are each neutralised where they are rendered.
3. The student's repository shapes the steps before grading: a ``conftest.py`` next to the
   learner's files is never imported by the pytest route.
4. PostgreSQL 18 lets a table's owner write planner statistics: the learner may not, and the
   dead-tuple check measures the table on disk.

docs/security.md lists these classes and the tests that prove them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pgdrill import checks
from pgdrill.checks import maintenance
from pgdrill.checks.base import CheckContext
from pgdrill import submission
from pgdrill.batch import Entry, Gradebook, Submission
from pgdrill.classroom import classroom_result, gradescope_result, job_summary, prairielearn_result
from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.render import render
from pgdrill.report import CheckResult, Evidence, ExerciseResult, GradeReport, StatementOutcome, Status
from pgdrill.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
DEMO = "demo-first-fix"
REFERENCE = SOLUTIONS_DIR / DEMO / "solution.sql"
AS_ROOT = os.geteuid() == 0
SCALE = "0.1"

# What a terminal obeys: C0 controls but newline and tab, DEL, C1 controls, and the invisible
# Unicode format characters that reorder or hide text.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def spec_of(exercise: str):
    return load_spec(EXERCISES_DIR / exercise / "exercise.yaml", checks.load_all())


def grade_py(*args, cwd=ROOT, env=None, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "grade.py"), *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=dict(os.environ, **(env or {})), timeout=timeout)


def server_args(request) -> list[str]:
    opt = request.config.getoption
    out = ["--server", opt("--pg-server")]
    if opt("--pg-bindir"):
        out += ["--bindir", opt("--pg-bindir")]
    if opt("--pg-server") == "dsn":
        pytest.skip("the entry points start their own servers")
    return out


@pytest.fixture(scope="module")
def starter_points(grader) -> float:
    """What the untouched starter earns on the demo exercise: the most an attempt that was
    refused may earn."""
    return grader.grade_exercise(spec_of(DEMO), EXERCISES_DIR / DEMO).points


def refusals(statements) -> list[str]:
    """The one-line reasons of the files that were not read."""
    out = []
    for s in statements:
        status, message = (s["status"], s["message"]) if isinstance(s, dict) else (s.status, s.message)
        if status == "refused" and message.startswith("not read:"):
            assert "\n" not in message.strip(), message
            out.append(message)
    return out


# =============================================================================================
# 1. The submission tree: the reader itself


def _device(path: Path) -> None:
    """A character device with /dev/zero's numbers (as root), else a link to /dev/zero."""
    if AS_ROOT:
        os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 5))
    else:
        path.symlink_to("/dev/zero")


def hostile_tree(root: Path, course_file: Path) -> dict[str, str]:
    """Every kind of entry a submission may hold instead of a plain file, and the words the
    refusal must use. ``course_file`` stands for one of the course's own files."""
    (root / "sub").mkdir(parents=True)
    (root / "real").mkdir()
    (root / "real" / "ok.sql").write_text("SELECT 1;\n")
    vectors = {}
    (root / "sub" / "abs-link.sql").symlink_to(course_file)
    vectors["abs-link.sql"] = "symbolic link"
    (root / "sub" / "rel-link.sql").symlink_to(os.path.relpath(course_file, root / "sub"))
    vectors["rel-link.sql"] = "symbolic link"
    (root / "sub" / "inner-link.sql").symlink_to("plain.sql")  # even a link inside the submission
    (root / "sub" / "plain.sql").write_text("SELECT 1;\n")
    vectors["inner-link.sql"] = "symbolic link"
    (root / "sub" / "linked-dir").symlink_to(root / "real")
    vectors["linked-dir/ok.sql"] = "linked-dir is a symbolic link"
    os.link(course_file, root / "sub" / "hard.sql")
    vectors["hard.sql"] = "hard links"
    os.mkfifo(root / "sub" / "pipe.sql")
    vectors["pipe.sql"] = "named pipe"
    _device(root / "sub" / "device.sql")
    vectors["device.sql"] = "device" if AS_ROOT else "symbolic link"
    with open(root / "sub" / "sparse.sql", "wb") as fh:  # 8 GiB that cost no disk
        fh.truncate(8 * 1024 ** 3)
    vectors["sparse.sql"] = "the limit is 5 MiB"
    (root / "sub" / "folder.sql").mkdir()
    vectors["folder.sql"] = "a folder"
    vectors["../real/ok.sql"] = "outside the submission"
    return vectors


def test_the_reader_refuses_everything_but_plain_files_inside_the_submission(tmp_path):
    course = tmp_path / "course.sql"
    course.write_text("SELECT 'the course''s own answer';\n")
    vectors = hostile_tree(tmp_path, course)
    root = tmp_path / "sub"
    assert submission.read_file(root, root / "plain.sql") == b"SELECT 1;\n"
    for rel, words in vectors.items():
        started = time.monotonic()
        with pytest.raises(submission.Refused) as refused:
            submission.read_file(root, root / rel)
        assert time.monotonic() - started < 1, rel  # a pipe or device is never opened for reading
        why = str(refused.value)
        assert words in why and "\n" not in why, (rel, why)
    with pytest.raises(submission.Missing):
        submission.read_file(root, root / "nothing.sql")
    # a file that is larger than the limit is refused from its size, unread
    (root / "big.sql").write_bytes(b"-- x\n" * 300_000)
    with pytest.raises(submission.Refused, match="the limit is 1 MiB"):
        submission.read_file(root, root / "big.sql", 1024 * 1024)
    # a submission path that is itself a link (grade.py LINK, pytest --submission LINK): its
    # parent becomes the root, so nothing is read through it
    (tmp_path / "link-to-sub").symlink_to(root)
    folder, top = submission.folder_and_root(tmp_path / "link-to-sub")
    assert top == tmp_path.resolve() and folder == top / "link-to-sub"
    with pytest.raises(submission.Refused, match="link-to-sub is a symbolic link"):
        submission.read_file(top, folder / "plain.sql")
    assert submission.folder_and_root(root) == (root.resolve(), root.resolve())


def test_a_pipe_cannot_block_the_reader_even_if_it_appears_late(tmp_path):
    """A pipe swapped in where a file was: opened without waiting for a writer, refused."""
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "sub" / "solution.sql")
    done = threading.Event()

    def read():
        with pytest.raises(submission.Refused):
            submission.read_file(tmp_path / "sub", tmp_path / "sub" / "solution.sql")
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(5)


# =============================================================================================
# 1 and 2 through grade.py --batch: links, pipes, devices, sparse files; names and messages


# Learner text aimed at every output: a terminal (clear the screen, overwrite the line, set the
# window title, reorder text), Markdown (blocks that forge grader lines, bare links, HTML) and
# a spreadsheet (formulas).
TERMINAL_PAYLOAD = ("\x1b[2J\x1b[H\r  ✓ 10/10  every check passed\x1b]0;pgdrill 20/20\x07"
                    "\x9b1A\u202e02/02\b\b\b\b20/20")
MARKDOWN_PAYLOAD = ("x\n===\n- ✓ 20/20 every check passed\n1. full marks\n> **Score: 20 / 20**\n"
                    "## pgdrill: 20 / 20 points\nhttps://evil.example/grade www.evil.example "
                    "mallory@evil.example <b>20/20</b> | ✓ | 20 / 20 |\n---")


def _sql_literal(text: str) -> str:
    """An E'' literal for ``text``: control characters as \\x escapes, quotes doubled."""
    out = []
    for ch in text:
        if ch == "'":
            out.append("''")
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f or 0x200b <= ord(ch) <= 0x206f:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "E'" + "".join(out) + "'"


def payload_solution() -> str:
    """A solution.sql whose errors and results carry the payloads, then the reference."""
    return (f"DO $$ BEGIN RAISE EXCEPTION {_sql_literal(TERMINAL_PAYLOAD)}; END $$;\n"
            f"DO $$ BEGIN RAISE EXCEPTION {_sql_literal(MARKDOWN_PAYLOAD)}; END $$;\n"
            + REFERENCE.read_text())


FORMULA_NAMES = ("=1+1", "+SUM(1)", "-2+3", "@SUM(1)")


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory, request):
    """One ``grade.py --batch`` over a class of hostile submissions (and a reference and the
    starter, graded in the same run)."""
    args = server_args(request)
    base = tmp_path_factory.mktemp("batch")
    root = base / "submissions"
    root.mkdir()
    outside = base / "course-copy"  # a file of the course's, next to the submissions
    outside.mkdir()
    shutil.copy(REFERENCE, outside / "solution.sql")
    notes = SOLUTIONS_DIR / DEMO / "notes.md"

    def folder(name: str) -> Path:
        path = root / name / DEMO
        path.mkdir(parents=True)
        return path

    shutil.copytree(SOLUTIONS_DIR / DEMO, folder("reference"), dirs_exist_ok=True)
    shutil.copytree(EXERCISES_DIR / DEMO, folder("starter"), dirs_exist_ok=True)
    expected = {}                                            # folder: words of the refusal
    linked = folder("linked-files")
    (linked / "solution.sql").symlink_to(REFERENCE)
    (linked / "notes.md").symlink_to(os.path.relpath(notes, linked))
    expected["linked-files"] = "is a symbolic link"
    (root / "linked-exercise").mkdir()
    (root / "linked-exercise" / DEMO).symlink_to(SOLUTIONS_DIR / DEMO)
    expected["linked-exercise"] = f"{DEMO} is a symbolic link"
    (root / "linked-repository").mkdir()                     # a student repository whose exercises/ is a link
    (root / "linked-repository" / "README.md").write_text("my repository\n")
    (root / "linked-repository" / "exercises").symlink_to(SOLUTIONS_DIR)
    expected["linked-repository"] = "exercises is a symbolic link"
    (root / "linked-student").symlink_to(SOLUTIONS_DIR)      # the student's folder itself
    expected["linked-student"] = "linked-student is a symbolic link"
    hard = folder("hard-linked")
    os.link(outside / "solution.sql", hard / "solution.sql")
    expected["hard-linked"] = "hard links"
    fifo = folder("pipes")
    os.mkfifo(fifo / "solution.sql")
    os.mkfifo(fifo / "notes.md")
    expected["pipes"] = "named pipe"
    _device(folder("device") / "solution.sql")
    expected["device"] = "a device" if AS_ROOT else "symbolic link"
    with open(folder("sparse") / "solution.sql", "wb") as fh:
        fh.truncate(8 * 1024 ** 3)
    expected["sparse"] = "the limit is 5 MiB"
    for name in FORMULA_NAMES + ("mallory\x1b[2J\n  ✓ 20/20",):
        shutil.copytree(EXERCISES_DIR / DEMO, folder(name), dirs_exist_ok=True)
    # Students whose folders are named like modules a worker imports: the instructor runs the
    # batch from inside the submissions folder, which a worker's `python -c …` start would
    # put first on its path.
    canary = base / "canary"
    for module in ("multiprocessing", "pgdrill", "psycopg"):
        (root / module).mkdir()
        (root / module / "__init__.py").write_text(f"open({str(canary)!r}, 'a').write({module!r} + '\\n')\n")
    forged = folder("forged-statistics")  # class 4: the reference, with ANALYZE replaced by a forgery
    assert "ANALYZE products;" in REFERENCE.read_text()
    (forged / "solution.sql").write_text(REFERENCE.read_text().replace("ANALYZE products;", FORGED_ANALYZE))
    shutil.copy(notes, forged / "notes.md")
    messages = folder("messages")
    (messages / "solution.sql").write_text(payload_solution())
    (messages / "notes.md").write_text(notes.read_text())

    out = base / "gradebook"
    started = time.monotonic()
    proc = grade_py("--batch", ".", "-e", DEMO, "--workers", 1, "--out", out, "--scale", SCALE, "--seed", 1, *args,
                    cwd=root, timeout=1500)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"out": out, "proc": proc, "expected": expected, "seconds": seconds, "canary": canary}


FORGED_ANALYZE = """SELECT pg_catalog.pg_restore_relation_stats('schemaname', 'public', 'relname', 'products',
                                            'reltuples', 1e6::real, 'relpages', 100);
SELECT pg_catalog.pg_restore_attribute_stats('schemaname', 'public', 'relname', 'products',
                                             'attname', 'name', 'inherited', false, 'null_frac', 0::real);"""


def _batch_report(out: Path, name: str) -> dict:
    from pgdrill.batch import _safe_name

    return json.loads((out / "reports" / f"{_safe_name(name)}.json").read_text())


def test_batch_refuses_links_pipes_devices_and_sparse_files(batch_run, starter_points):
    out, expected = batch_run["out"], batch_run["expected"]
    rows = {row["submission"]: row for row in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}
    spec = spec_of(DEMO)
    assert float(rows["reference"]["total"]) == spec.max_points       # the batch grades as it should
    assert float(rows["starter"]["total"]) == starter_points
    for name, words in expected.items():
        report = _batch_report(out, name)
        (ex,) = report["exercises"]
        assert not rows[name]["problem"], (name, rows[name]["problem"])  # graded, not lost
        assert float(rows[name]["total"]) <= starter_points, name
        reasons = refusals(ex["statements"])
        assert reasons and all(words in r for r in reasons), (name, reasons, ex["statements"])
        text = (out / "reports" / f"{name}.txt").read_text()
        assert words in text  # the learner's own report says why
    # a pipe never blocks: the whole class is graded well within one submission's time limit
    assert batch_run["seconds"] < 1500
    # nothing of the students' was imported by a worker started in their folder
    assert not batch_run["canary"].exists(), batch_run["canary"].read_text()


def test_batch_forged_statistics_earn_nothing(batch_run):
    """Through --batch: the reference with its ANALYZE replaced by statistics written by hand
    (PostgreSQL 18's pg_restore_*_stats) scores the reference's points less the analyze check,
    and each forgery fails with its line (permission denied; on older servers the functions
    do not exist)."""
    (forged,) = _batch_report(batch_run["out"], "forged-statistics")["exercises"]
    (reference,) = _batch_report(batch_run["out"], "reference")["exercises"]
    failed = [s for s in forged["statements"] if s["status"] == "error"]
    assert len(failed) == 2 and {s["sqlstate"] for s in failed} <= {"42501", "42883"}, forged["statements"]
    assert all("\n" not in s["message"].strip() for s in failed)
    want = {c["check_id"]: c["status"] for c in reference["checks"]}
    got = {c["check_id"]: c["status"] for c in forged["checks"]}
    assert got.pop("products-analyzed") != "passed" and want.pop("products-analyzed") == "passed"
    assert got == want


def test_batch_outputs_neutralise_names_and_messages(batch_run, starter_points):
    out, proc = batch_run["out"], batch_run["proc"]
    # the terminal: no control character reaches it from a folder name or a message
    assert not CONTROL.search(proc.stdout + proc.stderr), repr(CONTROL.search(proc.stdout + proc.stderr))
    assert "mallory\\x1b[2J" in proc.stdout + proc.stderr
    for report in (out / "reports").glob("*.txt"):
        text = report.read_text()
        assert not CONTROL.search(text), (report.name, repr(CONTROL.search(text)))
    messages = (out / "reports" / "messages.txt").read_text()
    assert "\\x1b[2J" in messages and "\\u202e" in messages          # shown, not obeyed
    total_lines = [line for line in messages.splitlines() if line.startswith("Total:")]
    assert len(total_lines) == 1 and total_lines[0] == messages.splitlines()[-1]
    # every line that carries learner text is indented under its check or statement
    for line in messages.splitlines():
        if "every check passed" in line or "full marks" in line:
            assert line.startswith("    "), line
    # CSV: a name that a spreadsheet would run is text
    for name in ("gradebook.csv", "checks.csv"):
        rows = list(csv.reader(io.StringIO((out / name).read_text())))
        cells = [cell for row in rows[1:] for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], name
        for formula in FORMULA_NAMES:
            assert "'" + formula in cells, (name, formula)
    # HTML: no control character either (a bidirectional override would reorder a name)
    assert not CONTROL.search((out / "gradebook.html").read_text())


# =============================================================================================
# 2. Renderers: each output format with learner text in every field it shows


def payload_report(submission_name: str = "alice\nTotal: 20/20 points\x1b[2J") -> GradeReport:
    text = TERMINAL_PAYLOAD + "\n" + MARKDOWN_PAYLOAD + "\n::error::forged annotation\n::add-mask::x"
    check = CheckResult(
        exercise=DEMO, check_id="orphan-items-found", check="rows_match", points=0, max_points=3,
        status=Status.FAILED, description="The query lists every orphan.", message=text,
        feedback="Why.", hint="Hint.",
        evidence=(Evidence("rows", "Your rows " + TERMINAL_PAYLOAD, ("id", "=cmd|' /C calc'!A0"),
                           ((1, "=HYPERLINK(\"http://evil.example\")"), (2, MARKDOWN_PAYLOAD))),
                  Evidence("text", "Notes", MARKDOWN_PAYLOAD)),
    )
    ok = CheckResult(exercise=DEMO, check_id="notes", check="report_has_sections", points=1, max_points=1,
                     status=Status.PASSED, description="Notes.", message="fine")
    stmt = StatementOutcome("solution.sql", 3, "SELECT 1", "error", text, "P0001")
    ex = ExerciseResult(DEMO, "Your first drill", (check, ok), (stmt,))
    return GradeReport(submission=submission_name, exercises=(ex,))


def test_terminal_report_shows_control_characters_and_keeps_grader_lines(tmp_path):
    out = render(payload_report(), "text", audience="instructor")
    assert not CONTROL.search(out), repr(CONTROL.search(out))
    assert "\\x1b[2J" in out and "\\x9b" in out and "\\u202e" in out and "\\x08" in out and "\\x0d" in out
    lines = out.splitlines()
    assert lines[0].startswith("pgdrill report: alice↵Total: 20/20 points")  # a name stays on its line
    assert [line for line in lines if line.startswith("Total:")] == [lines[-1]]
    assert lines[-1].startswith("Total: 1/4 points")
    for line in lines:
        if "every check passed" in line or "full marks" in line:
            assert line.startswith("    "), line   # learner text is indented under its check


BLOCK_SETEXT = re.compile(r"^ {0,3}(=+|-+) *$")
BLOCK_LIST = re.compile(r"^ {0,3}([-+*]|\d{1,9}[.)])( |$)")


def assert_markdown_inert(md: str, headings: tuple[str, ...]) -> None:
    """Learner text in ``md`` opens no block and no link: only the renderer's own headings,
    list items (statement errors, each starting with a code span) and table rows exist."""
    assert not CONTROL.search(md), repr(CONTROL.search(md))
    for line in md.splitlines():
        assert not BLOCK_SETEXT.match(line), line
        if BLOCK_LIST.match(line):
            assert line.startswith("- `"), line
        if line.startswith("#"):
            assert line.startswith(headings), line
        assert not line.lstrip().startswith(">") or line.startswith("> **"), line
    assert not re.search(r"(?<!\\):(?=//)", md)          # no bare https://…
    assert not re.search(r"(?i)www\.", md)               # no bare www.…
    assert not re.search(r"(?<!\\)@", md)                # no bare name@host
    assert "<b>" not in md and "&lt;" not in md          # raw HTML is escaped as text (\<b\>)


def test_markdown_report_and_job_summary_open_no_block_and_no_link():
    report = payload_report()
    md = render(report, "markdown", audience="instructor")
    assert_markdown_inert(md, ("# pgdrill report: ", "## Your first drill", "### ✗ `orphan-items-found`"))
    assert "every check passed" in md and "20 / 20" in md  # the text is there, as text
    summary = job_summary(report, instructor=True)
    assert_markdown_inert(summary, ("## pgdrill: 1 / 4 points", "# pgdrill report: ", "## Your first drill",
                                    "### ✗ `orphan-items-found`"))


def test_front_end_results_carry_no_control_characters_or_workflow_commands():
    import dataclasses

    report = payload_report()
    # The Classroom result carries a message only for a test that errored (the reporter prints
    # no other): the same payload as an error's message.
    errored = dataclasses.replace(report, exercises=tuple(
        dataclasses.replace(ex, checks=tuple(dataclasses.replace(c, status=Status.ERROR) if c.status is not Status.PASSED
                                             else c for c in ex.checks)) for ex in report.exercises))
    docs = [classroom_result(errored), gradescope_result(report, instructor=True), prairielearn_result(report),
            classroom_result(report)]
    for doc in docs:
        for value in _strings(doc):
            assert not CONTROL.search(value), repr(value)
            assert not re.search(r"(?m)^\s*::", value), value   # the reporter logs these lines
    for doc in docs[:3]:
        assert "\\x1b[2J" in json.dumps(doc, ensure_ascii=False)  # shown, not dropped


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_gradebook_csv_cells_cannot_run_as_formulas_and_html_escapes():
    spec = spec_of(DEMO)
    entries = [Entry(Submission(name, Path(name)), payload_report(name), problem=problem)
               for name, problem in (("=HYPERLINK(\"http://evil.example\",\"20\")", ""), ("+1", "-1+1"),
                                     ("@SUM(A1)", "\t=1"), ("<img src=x onerror=alert(1)>", ""))]
    book = Gradebook(specs=[spec], entries=entries, seconds=1.0, workers=1)
    for text in (book.csv_text(), book.checks_csv_text()):
        rows = list(csv.reader(io.StringIO(text)))
        for row in rows[1:]:
            for cell in row:
                assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
        assert any(cell == "'=HYPERLINK(\"http://evil.example\",\"20\")" for row in rows for cell in row)
    page = book.html()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    html = render(payload_report("<script>alert(1)</script>"), "html", audience="instructor")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>20/20</b>" not in html and "&lt;b&gt;20/20&lt;/b&gt;" in html


# =============================================================================================
# 1 and 2 through grade.py: a linked submission path; Markdown, job summary and results JSON


def test_grade_py_markdown_summary_and_results_from_hostile_messages(tmp_path, request, starter_points):
    args = server_args(request)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "solution.sql").write_text(payload_solution())
    (sub / "notes.md").write_text(MARKDOWN_PAYLOAD + "\n" + (SOLUTIONS_DIR / DEMO / "notes.md").read_text())
    summary, output = tmp_path / "summary.md", tmp_path / "github_output"
    proc = grade_py(sub, "-e", DEMO, "--format", "classroom", "--out", tmp_path / "results.json", "--scale", SCALE,
                    "--seed", 1, *args, env={"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)})
    assert proc.returncode in (0, 1), proc.stderr
    md = summary.read_text()
    assert "pgdrill report" in md and "P0001" in md   # the payload's errors are in the summary
    assert_markdown_inert(md, ("## pgdrill: ", "# pgdrill report", "## Your first drill", "### "))
    result = json.loads((tmp_path / "results.json").read_text())
    for value in _strings(result):
        assert not CONTROL.search(value) and not re.search(r"(?m)^\s*::", value), value
    # the terminal format of the same run (rendered from the JSON report grade.py writes)
    proc = grade_py(sub, "-e", DEMO, "--format", "text", "--scale", SCALE, "--seed", 1, *args)
    assert not CONTROL.search(proc.stdout) and "\\x1b[2J" in proc.stdout, proc.stdout[-2000:]


def test_grade_py_does_not_follow_a_submission_path_that_is_a_link(tmp_path, request, starter_points):
    """``grade.py LINK`` (a student repository's ``exercises`` pointing at the course's own
    solutions, as the workflow and Gradescope pass it) grades nothing through the link."""
    args = server_args(request)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "exercises").symlink_to(SOLUTIONS_DIR)
    proc = grade_py(repo / "exercises", "-e", DEMO, "--format", "json", "--scale", SCALE, "--seed", 1, *args)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert sum(e["points"] for e in report["exercises"][0]["checks"]) <= starter_points
    reasons = refusals(report["exercises"][0]["statements"])
    assert reasons and all("exercises is a symbolic link" in r for r in reasons), report["exercises"][0]["statements"]


# =============================================================================================
# 3. The pytest route: nothing in the submission is imported


def test_pytest_route_never_imports_the_submissions_conftest(tmp_path, request, starter_points):
    if request.config.getoption("--pg-server") == "dsn":
        pytest.skip("the pytest route starts its own server")
    sub = tmp_path / "sub"
    (sub / DEMO).mkdir(parents=True)
    canary = tmp_path / "canary"
    hook = (f"open({str(canary)!r}, 'w').write('imported')\n"
            "def pytest_runtest_makereport(item, call):\n    call.excinfo = None\n")
    (sub / "conftest.py").write_text(hook)                     # would run as the instructor …
    (sub / DEMO / "conftest.py").write_text(hook)
    (sub / "pytest.ini").write_text("[pytest]\naddopts = -p no:pgdrill.pytest_plugin\n")  # … or reconfigure it
    (sub / DEMO / "solution.sql").symlink_to(REFERENCE)         # and full marks through a link
    (sub / DEMO / "notes.md").symlink_to(SOLUTIONS_DIR / DEMO / "notes.md")
    server = ["--pg-server", request.config.getoption("--pg-server")]
    if request.config.getoption("--pg-bindir"):
        server += ["--pg-bindir", request.config.getoption("--pg-bindir")]
    proc = subprocess.run([sys.executable, "-m", "pytest", f"exercises/{DEMO}", "--submission", str(sub),
                           "--grade-scale", SCALE, "--grade-seed", "1", "-q", "-p", "no:xdist", *server],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert not canary.exists(), proc.stdout[-3000:]
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "solution.sql is a symbolic link" in proc.stdout and "notes.md is a symbolic link" in proc.stdout
    counts = dict((k, int(n)) for n, k in re.findall(r"(\d+) (passed|failed)", proc.stdout.splitlines()[-1]))
    spec = spec_of(DEMO)
    assert counts.get("failed", 0) >= 1 and counts.get("passed", 0) + counts.get("failed", 0) == len(spec.checks)


# =============================================================================================
# 1 through Gradescope's run_autograder


def test_gradescope_does_not_follow_a_linked_exercises_folder(tmp_path, request, starter_points):
    from pgdrill.template_export import export_harness

    if request.config.getoption("--pg-server") != "embedded":
        pytest.skip("run_autograder grades on the embedded server")
    root = tmp_path / "autograder"
    export_harness(root / "source", [spec_of(DEMO)])
    (root / "submission").mkdir()
    (root / "submission" / "exercises").symlink_to(SOLUTIONS_DIR)
    env = {"PGDRILL_AUTOGRADER_ROOT": str(root), "PGDRILL_PYTHON": sys.executable,
           "PGDRILL_EXERCISES": DEMO, "PGDRILL_SCALE": SCALE, "PGDRILL_GRADING_SEED": "1"}
    proc = subprocess.run([str(root / "source" / "run_autograder")], capture_output=True, text=True,
                          env=dict(os.environ, **env), timeout=900)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    assert 0 <= data["score"] <= starter_points
    assert "exercises is a symbolic link" in data["output"]


# =============================================================================================
# 4. Planner statistics a learner could write


STATS_FAKES = """
SELECT pg_catalog.pg_restore_relation_stats('schemaname', 'public', 'relname', 'orders',
                                            'reltuples', 1e9::real, 'relpages', 1);
SELECT pg_catalog.pg_restore_relation_stats('schemaname', 'public', 'relname', 'products',
                                            'reltuples', 1e9::real);
SELECT pg_catalog.pg_restore_attribute_stats('schemaname', 'public', 'relname', 'orders',
                                             'attname', 'status', 'inherited', false,
                                             'null_frac', 0.0::real, 'n_distinct', 5::real);
SELECT pg_catalog.pg_clear_relation_stats('public', 'order_items');
"""
# No real fix with them: autovacuum stays off, so nothing but the forgeries could change a check.
MAINTENANCE = "techshop-4-3-maintenance"


def test_the_learner_cannot_write_planner_statistics(make_clone, pg_server):
    if pg_server.version_num < 180000:
        pytest.skip("the statistics-writing functions are new in PostgreSQL 18")
    clone = make_clone()
    with clone.connect(purpose="test-inspect") as conn:
        rows = conn.execute(
            "SELECT p.proname, pg_catalog.has_function_privilege('learner', p.oid, 'EXECUTE') "
            "FROM pg_catalog.pg_proc p WHERE p.proname = ANY(%s)", (list(statistics_writers()),)).fetchall()
    assert {name for name, _ in rows} == set(statistics_writers())
    assert not [name for name, allowed in rows if allowed]


def statistics_writers():
    from pgdrill.fixtures.sandbox import STATISTICS_WRITERS

    return STATISTICS_WRITERS


def test_faked_statistics_earn_nothing_on_the_maintenance_drill(grade, pg_server):
    if pg_server.version_num < 180000:
        pytest.skip("the statistics-writing functions are new in PostgreSQL 18")
    starter = grade(MAINTENANCE, EXERCISES_DIR / MAINTENANCE)
    faked = grade(MAINTENANCE, {"maintenance.sql": STATS_FAKES})
    assert not faked.error, faked.error
    refused = [s for s in faked.statements if s.status == "error"]
    assert len(refused) == 4 and all(s.sqlstate == "42501" for s in refused), faked.statements
    assert len(faked.statements) == 4
    assert all("\n" not in s.message.strip() for s in refused)
    checks_by_id = {c.check_id: c for c in faked.checks}
    for check_id in ("vacuumed", "statistics-fresh", "statistics-fresh-small-tables"):
        assert checks_by_id[check_id].status is not Status.PASSED, checks_by_id[check_id].message
        assert "\n" not in checks_by_id[check_id].message.strip()
    # nothing passes that the starter does not pass, and no check earns more than it did
    started = {c.check_id: c.points for c in starter.checks}
    assert all(c.points <= started[c.check_id] for c in faked.checks), [
        (c.check_id, c.points, started[c.check_id]) for c in faked.checks if c.points > started[c.check_id]]


def test_dead_tuples_are_measured_on_disk_whatever_the_statistics_say(make_clone):
    """Statistics a learner could once write — reltuples — say the table is clean; the disk
    says half of it is dead, and the check believes the disk."""
    clone = make_clone(fixture="empty")
    with clone.connect("learner", purpose="test-learner") as learner:
        learner.execute("CREATE TABLE bloated (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false)")
        learner.execute("INSERT INTO bloated SELECT i, i FROM generate_series(1, 2000) i")
        learner.execute("ANALYZE bloated")
        learner.execute("SELECT pg_catalog.pg_stat_force_next_flush()")  # publish the INSERT's counts now …
        learner.execute("SELECT 1")
        with clone.connect(purpose="test-forge") as su:  # … so that they are reset with the rest
            su.execute("SELECT pg_catalog.pg_stat_reset_single_table_counters('public.bloated'::regclass)")
        learner.execute("UPDATE bloated SET v = v + 1")
        learner.execute("SELECT pg_catalog.pg_stat_force_next_flush()")
        learner.execute("SELECT 1")
        with clone.connect(purpose="test-forge") as su:  # what pg_restore_relation_stats would write
            su.execute("UPDATE pg_catalog.pg_class SET reltuples = 1e9 WHERE oid = 'public.bloated'::regclass")
    with clone.connect("pgdrill_grader", purpose="test-grader") as grader:
        ctx = CheckContext(exercise_id="t", exercise_dir=Path("."), submission_dir=Path("."), manifest={},
                           grader=lambda: grader, learner=lambda: None, stats_wait=0.5)
        fooled = maintenance.dead_tuples_below(ctx, tables="bloated", source="stats")
        assert fooled.passed, fooled.message  # the lie works on statistics …
        out = maintenance.dead_tuples_below(ctx, tables="bloated")
        assert not out.passed and "50% dead" in out.message and "pgstattuple" in out.message, out.message
