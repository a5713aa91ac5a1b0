"""Batch grading: 20 generated submissions into a gradebook (CSV, HTML, per-submission reports).

The submissions are generated from the demo exercise — reference solutions in every folder
layout, empty folders, untouched starters, partial work, destructive fixes, a submission
that tampers with its role and one whose SQL file is a folder. What each kind must score is
not written here: it comes from the spec (full marks) or from grading one submission of
that kind on its own, in this process; the batch must agree with it submission by
submission, in parallel workers each on its own server.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pgdrill.batch import BatchOptions, find_submissions, grade_batch
from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.report import Status

ROOT = Path(__file__).resolve().parents[1]
DEMO = "demo-first-fix"
REFERENCE = (SOLUTIONS_DIR / DEMO / "solution.sql").read_text()
NOTES = (SOLUTIONS_DIR / DEMO / "notes.md").read_text()
STARTER = {f: (EXERCISES_DIR / DEMO / f).read_text() for f in ("solution.sql", "notes.md")}
NASTY = "<img src=x onerror=alert(1)> & co"

KINDS = {
    # kind: files of the exercise (None: an empty folder)
    "reference": {"solution.sql": REFERENCE, "notes.md": NOTES},
    "empty": None,
    "starter": STARTER,
    "partial": {"solution.sql": REFERENCE.split("-- Quarantine")[0], "notes.md": STARTER["notes.md"]},
    "destructive": {"solution.sql": REFERENCE + "\nTRUNCATE order_items;\n", "notes.md": NOTES},
    "hostile": {"solution.sql": "ALTER ROLE learner SET search_path = nowhere;\n"
                                "ALTER ROLE learner SET statement_timeout = '1ms';\n" + REFERENCE,
                "notes.md": NOTES},
    "broken": "folder-instead-of-file",
}
# 20 submissions; kinds interleaved so both workers see every kind, the tampering one early.
PLAN = ["reference", "hostile", "reference", "empty", "partial", "destructive", "reference", "starter",
        "empty", "partial", "reference", "destructive", "broken", "partial", "reference", "starter",
        "empty", "destructive", "partial", "reference"]
LAYOUTS = ("repository", "folder", "flat")  # exercises/<id>/…, <id>/…, files directly


def _write(folder: Path, files) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if files == "folder-instead-of-file":
        (folder / "solution.sql").mkdir()
        (folder / "notes.md").write_text(NOTES)
    elif files:
        for name, text in files.items():
            (folder / name).write_text(text)


def make_submissions(root: Path) -> dict[str, str]:
    """Write the 20 submissions; return {folder name: kind}."""
    kinds = {}
    for i, kind in enumerate(PLAN):
        name = f"{i:02d}-{kind}" if i != 3 else f"{i:02d}-{NASTY}"
        layout = LAYOUTS[i % 3] if kind == "reference" else "folder"
        base = root / name
        base.mkdir(parents=True)
        target = {"repository": base / "exercises" / DEMO, "folder": base / DEMO, "flat": base}[layout]
        if KINDS[kind] is not None or layout != "folder":
            _write(target, KINDS[kind])
        kinds[name] = kind
    (root / ".git").mkdir()            # hidden folders are not submissions
    (root / "README.txt").write_text("files are not submissions either")
    return kinds


def _server_args(config) -> list[str]:
    args = ["--server", config.getoption("--pg-server")]
    if config.getoption("--pg-dsn"):
        args += ["--dsn", config.getoption("--pg-dsn")]
    if config.getoption("--pg-bindir"):
        args += ["--bindir", config.getoption("--pg-bindir")]
    return args


@pytest.fixture(scope="module")
def batch(tmp_path_factory, request):
    """The CLI's batch run over the 20 submissions: (kinds, output folder, process)."""
    root = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("gradebook")
    kinds = make_submissions(root)
    seed = request.config.getoption("--incident-seed")
    scale = request.config.getoption("--incident-scale")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "grade.py"), "--batch", str(root), "-e", DEMO, "--workers", "2",
         "--scale", str(scale), "--seed", str(seed), "--out", str(out), *_server_args(request.config)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    return kinds, out, proc


@pytest.fixture(scope="module")
def expected(grader, tmp_path_factory):
    """What each kind scores when graded on its own: {kind: {check_id: (status, points)}}."""
    from pgdrill import checks
    from pgdrill.spec import load_spec

    spec = load_spec(EXERCISES_DIR / DEMO / "exercise.yaml", checks.load_all())
    out = {"reference": {c.id: (Status.PASSED.value, c.points) for c in spec.checks}}  # full marks, by the spec
    for kind in ("empty", "starter", "partial", "destructive"):
        folder = tmp_path_factory.mktemp(kind)
        if KINDS[kind]:
            _write(folder, KINDS[kind])
        result = grader.grade_exercise(spec, folder)
        out[kind] = {c.check_id: (c.status.value, c.points) for c in result.checks}
    return spec, out


def _reports(out: Path) -> dict[str, dict]:
    data = {}
    for path in (out / "reports").glob("*.json"):
        report = json.loads(path.read_text())
        data[report["submission"]] = report
    return data


def _name_of(report_submission: str, kinds: dict[str, str]) -> str:
    parts = Path(report_submission).parts
    return next(p for p in parts if p in kinds)


def test_batch_completes_and_writes_the_gradebook(batch):
    kinds, out, proc = batch
    assert proc.returncode == 0, proc.stderr
    for name in ("gradebook.csv", "checks.csv", "gradebook.html"):
        assert (out / name).is_file(), name
    assert len(list((out / "reports").glob("*.json"))) == len(list((out / "reports").glob("*.txt"))) == 20


def test_every_submission_scores_what_it_scores_alone(batch, expected):
    kinds, out, _ = batch
    spec, want = expected
    reports = _reports(out)
    assert len(reports) == 20
    seen = set()
    for submission, report in reports.items():
        name = _name_of(submission, kinds)
        seen.add(name)
        kind = kinds[name]
        (ex,) = report["exercises"]
        got = {c["check_id"]: (c["status"], c["points"]) for c in ex["checks"]}
        if kind in want:
            assert got == want[kind], (name, {k: (got[k], want[kind][k]) for k in got if got[k] != want[kind][k]})
        elif kind == "broken":  # a folder where the SQL file should be: reported, and the rest still graded
            assert any(s["file"] == "solution.sql" and "solution.sql is a folder, not a file" in s["message"]
                       for s in ex["statements"])
            assert len(got) == len(spec.checks) and got["orphan-items-found"][1] == 0
        elif kind == "hostile":  # graded like any other; its role settings did not reach the next ones
            assert len(got) == len(spec.checks) and not ex["error"]
    assert seen == set(kinds)


def test_gradebook_csv_has_one_row_per_submission(batch, expected):
    kinds, out, _ = batch
    spec, want = expected
    rows = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text())))
    assert list(rows[0]) == ["submission", DEMO, "total", "max_points", "percent", "problem"]
    assert [r["submission"] for r in rows] == sorted(kinds)
    for row in rows:
        kind = kinds[row["submission"]]
        assert row["max_points"] == f"{spec.max_points:g}"
        assert row[DEMO] == row["total"]
        if kind in want:
            assert float(row["total"]) == sum(points for _, points in want[kind].values()), row
        assert row["problem"] == ""
    long = list(csv.DictReader(io.StringIO((out / "checks.csv").read_text())))
    assert len(long) == 20 * len(spec.checks)


class _Tables(HTMLParser):
    """Rows of the tables with an id, and whether anything active or external is on the page."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.rates: dict[str, list[float]] = {}
        self.active: list[str] = []
        self._table = None
        self._row = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "iframe", "object", "embed", "link", "img") or any(k.startswith("on") for k in attrs):
            self.active.append(tag)
        if any(str(v).startswith(("http:", "https:", "//")) for v in attrs.values()):
            self.active.append(f"{tag} external")
        if tag == "table":
            self._table = attrs.get("id")
            self.tables[self._table] = []
            self.rates[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
            self.tables[self._table].append(self._row)
        elif tag == "td" and self._table and "data-pass-rate" in attrs:
            self.rates[self._table].append(float(attrs["data-pass-rate"]))

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._row is not None and data.strip():
            self._row.append(data.strip())


def test_html_summary_shows_pass_rates_per_exercise_and_check(batch, expected):
    kinds, out, _ = batch
    spec, want = expected
    html = (out / "gradebook.html").read_text()
    page = _Tables()
    page.feed(html)
    assert page.active == []                                  # self-contained, nothing runs
    assert NASTY not in html and "&lt;img src=x onerror=alert(1)&gt; &amp; co" in html  # autoescaped
    # The pass rates the class sees equal the ones computed from each kind's own grading.
    counted = [k for k in kinds.values() if k in want]
    for check, rate in zip(spec.checks, page.rates["checks"]):
        passed = sum(1 for k in counted if want[k][check.id][0] == "passed")
        others = [k for k in kinds.values() if k not in want]  # hostile and broken: read from their reports
        reports = [r for r in _reports(out).values() if kinds[_name_of(r["submission"], kinds)] in others]
        passed += sum(1 for r in reports for c in r["exercises"][0]["checks"]
                      if c["check_id"] == check.id and c["status"] == "passed")
        assert rate == pytest.approx(passed / 20), check.id
    full = sum(1 for k in kinds.values() if k in want and all(s == "passed" for s, _ in want[k].values()))
    full += sum(1 for r in reports if all(c["status"] == "passed" for c in r["exercises"][0]["checks"]))
    assert page.rates["exercises"] == [pytest.approx(full / 20)]
    assert full >= PLAN.count("reference")
    assert len(page.tables["submissions"]) == 21  # header + one row per submission
    assert "Where the class struggles" in html


def test_learner_feedback_files_withhold_nothing_they_may_see(batch):
    kinds, out, _ = batch
    texts = list((out / "reports").glob("*.txt"))
    assert any("Total: 20/20" in t.read_text() for t in texts)
    assert all("Traceback" not in t.read_text() for t in texts)


def test_find_submissions_layouts(tmp_path):
    kinds = make_submissions(tmp_path)
    subs = {s.name: s.path for s in find_submissions(tmp_path)}
    assert set(subs) == set(kinds)
    assert subs["00-reference"].name == "exercises"          # a student's repository
    assert subs["02-reference"] == tmp_path / "02-reference"  # files directly, or <id>/ inside


def test_a_submission_that_runs_too_long_is_stopped_and_the_batch_goes_on(tmp_path, request):
    if request.config.getoption("--pg-server") == "dsn":
        pytest.skip("needs a server per worker")
    for name in ("a", "b"):
        _write(tmp_path / "subs" / name, KINDS["reference"])
    options = BatchOptions(workers=1, scale=request.config.getoption("--incident-scale"), seed=1,
                           server=request.config.getoption("--pg-server"),
                           bindir=request.config.getoption("--pg-bindir"), exercises=(DEMO,), timeout=0.5)
    book = grade_batch(tmp_path / "subs", options)
    assert [e.submission.name for e in book.entries] == ["a", "b"]
    for e in book.entries:  # each one killed with its worker, recorded with the reason, no points
        assert "longer than 0.5 s" in e.problem and e.points == 0
        assert all(c.status is Status.ERROR for ex in e.report.exercises for c in ex.checks)
    files = book.write(tmp_path / "out")
    assert "longer than 0.5 s" in files["csv"].read_text()


def test_gradebook_with_several_exercises_from_reports(tmp_path):
    """Columns per exercise, totals, pass rates and problems, from reports built by hand."""
    from pgdrill import checks
    from pgdrill.batch import Entry, Gradebook, Submission, as_dict
    from pgdrill.report import CheckResult, ExerciseResult, GradeReport, Visibility
    from pgdrill.scaffold import new_exercise
    from pgdrill.spec import load_spec

    new_exercise("count-tables", tmp_path)
    specs = [load_spec(EXERCISES_DIR / DEMO / "exercise.yaml", checks.load_all()),
             load_spec(tmp_path / "exercises" / "count-tables" / "exercise.yaml", checks.load_all())]

    def report(name, passing: set[str]):
        exercises = tuple(
            ExerciseResult(spec.id, spec.title, tuple(
                CheckResult(spec.id, c.id, c.check, c.description,
                            c.points if c.id in passing else 0.0, c.points,
                            Status.PASSED if c.id in passing else Status.FAILED, "m",
                            visibility=Visibility(c.visibility))
                for c in spec.checks))
            for spec in specs)
        return GradeReport(name, exercises)

    everything = {c.id for s in specs for c in s.checks}
    entries = [Entry(Submission("ann", tmp_path), report("ann", everything)),
               Entry(Submission("ben", tmp_path), report("ben", {"answer-query", "notes"})),
               Entry(Submission("cid", tmp_path), report("cid", set()), problem="the grader process died")]
    book = Gradebook(specs, entries)
    rows = list(csv.DictReader(io.StringIO(book.csv_text())))
    assert list(rows[0])[:4] == ["submission", DEMO, "count-tables", "total"]
    assert [(r[DEMO], r["count-tables"], r["total"]) for r in rows] == [
        (f"{specs[0].max_points:g}", f"{specs[1].max_points:g}", f"{specs[0].max_points + specs[1].max_points:g}"),
        ("1", "2", "3"), ("0", "0", "0")]
    assert rows[2]["problem"] == "the grader process died"
    data = as_dict(book)
    assert [e["pass_rate"] for e in data["exercises"]] == [pytest.approx(1 / 3), pytest.approx(1 / 3)]
    rates = {c["check_id"]: c["pass_rate"] for c in data["checks"]}
    assert rates["answer-query"] == pytest.approx(2 / 3) and rates["trigram-index"] == pytest.approx(1 / 3)
    html = book.html()
    assert "the grader process died" in html and "count-tables" in html
