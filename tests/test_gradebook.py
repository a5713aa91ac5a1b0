"""Gradebooks for learning platforms, the roster, and the class regrade fanned out in chunks.

The fan-out is tested the way the regrade workflow runs it: each student's submission is a git
repository, autograder/regrade/regrade-chunk.sh clones its share of the roster and grades it
(real PostgreSQL), once per chunk, and ``grade.py gradebook merge`` joins the chunks. The
merged gradebook must equal what one ``grade.py --batch`` of the same submissions writes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pgdrill.batch import Entry, Gradebook, Submission
from pgdrill.gradebook import RosterError, chunk, exact_percent, load_roster
from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.report import CheckResult, ExerciseResult, GradeReport, Status

ROOT = Path(__file__).resolve().parents[1]
DEMO = "demo-first-fix"
CHUNK_SCRIPT = ROOT / "autograder" / "regrade" / "regrade-chunk.sh"


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --------------------------------------------------------------------------------------------
# Roster, exports, chunks (no server needed)


def test_exact_percent_is_not_rounded_to_whole_numbers():
    assert exact_percent(41, 395) == "10.3797"
    assert exact_percent(1, 2) == "50" and exact_percent(0, 20) == "0" and exact_percent(20, 20) == "100"
    assert exact_percent(2, 3) == "66.6667" and exact_percent(0.25, 1) == "25"


def test_roster_problems_name_file_and_line(tmp_path):
    good = tmp_path / "roster.csv"
    good.write_text("folder,student_id,email,name,repo\nann,1001,ann@uni.example,Ann A,course/ann\nben,,,,\n")
    roster = load_roster(good)
    assert roster["ann"].email == "ann@uni.example" and roster["ann"].repo == "course/ann"
    assert roster["ben"].student_id == ""
    for text, says in (("student_id,email\n1,a@b\n", ":1: the roster needs a 'folder' column"),
                       ("folder,mail\nann,a@b\n", ":1: unknown roster columns mail"),
                       ("folder,email\nann,a@b\n,c@d\nann,e@f\n", ":3: no folder")):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(RosterError) as err:
            load_roster(bad)
        assert f"{bad}{says}" in str(err.value)
    assert "listed twice" in str(pytest.raises(RosterError, load_roster, bad).value)


@pytest.mark.parametrize("n_items", [0, 1, 7, 20, 201])
@pytest.mark.parametrize("count", [1, 3, 8])
def test_chunks_partition_the_class_in_order_and_evenly(n_items, count):
    items = [f"s{i:03}" for i in range(n_items)]
    shares = [chunk(items, i, count) for i in range(1, count + 1)]
    assert [x for share in shares for x in share] == items
    assert max(map(len, shares)) - min(map(len, shares)) <= 1
    with pytest.raises(ValueError):
        chunk(items, count + 1, count)


def _book(tmp_path, roster=None):
    from pgdrill import checks
    from pgdrill.spec import load_spec

    spec = load_spec(EXERCISES_DIR / DEMO / "exercise.yaml", checks.load_all())

    def report(points_of):
        return GradeReport("x", (ExerciseResult(DEMO, spec.title, tuple(
            CheckResult(DEMO, c.id, c.check, c.description, points_of(c), c.points,
                        Status.PASSED if points_of(c) == c.points else Status.FAILED, "m")
            for c in spec.checks)),))

    entries = [Entry(Submission("ann", tmp_path), report(lambda c: c.points)),
               Entry(Submission("ben", tmp_path), report(lambda c: c.points if c.points == 1 else 0)),
               Entry(Submission("zoe", tmp_path), report(lambda c: 0.0), problem="the grader process died")]
    return spec, Gradebook([spec], entries, roster=roster)


def test_exports_for_canvas_moodle_and_the_generic_gradebook(tmp_path):
    from pgdrill.gradebook import canvas_csv, generic_csv, moodle_csv, roster_problems

    (tmp_path / "roster.csv").write_text(
        "folder,student_id,email,name\nann,1001,ann@uni.example,\"Ann, A\"\nben,1002,ben@uni.example,Ben B\n"
        "cat,1003,cat@uni.example,Cat C\n")
    roster = load_roster(tmp_path / "roster.csv")
    spec, book = _book(tmp_path, roster)
    ben = sum(c.points for c in spec.checks if c.points == 1)
    generic = _rows(generic_csv(book, roster))
    assert generic[0] == ["submission", "student_id", "email", "name", DEMO, "total", "max_points", "percent",
                          "problem"]
    assert generic[1][:4] == ["ann", "1001", "ann@uni.example", "Ann, A"] and generic[1][7] == "100"
    assert generic[2][5] == f"{ben:g}" and generic[2][7] == exact_percent(ben, spec.max_points)
    assert generic[3][:4] == ["zoe", "", "", ""] and generic[3][8] == "the grader process died"
    canvas = _rows(canvas_csv(book, roster, "SQL drills"))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "SQL drills"]
    assert canvas[1] == ["Points Possible", "", "", "", "", f"{spec.max_points:g}"]
    assert canvas[2] == ["Ann, A", "", "1001", "ann@uni.example", "", f"{spec.max_points:g}"]
    assert canvas[3][2:4] == ["1002", "ben@uni.example"] and canvas[3][5] == f"{ben:g}"
    moodle = _rows(moodle_csv(book, roster, "SQL drills"))
    assert moodle[0] == ["ID number", "Email address", "Full name", "SQL drills (Real)"]
    assert moodle[2] == ["1002", "ben@uni.example", "Ben B", f"{ben:g}"]
    assert roster_problems(book, roster) == ["submission 'zoe' is not in the roster",
                                             "roster folder 'cat' has no submission"]
    # without a roster: the generic columns as before, exact percent
    assert _rows(generic_csv(book))[0] == ["submission", DEMO, "total", "max_points", "percent", "problem"]
    files = book.write(tmp_path / "out")
    assert {"canvas", "moodle", "index"} <= set(files)
    assert files["canvas"].read_text() == canvas_csv(book, roster)


# --------------------------------------------------------------------------------------------
# The fan-out, on real grading


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="s", GIT_AUTHOR_EMAIL="s@example.invalid",
                            GIT_COMMITTER_NAME="s", GIT_COMMITTER_EMAIL="s@example.invalid"))


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """Seven students' repositories (git, as the workflow clones them) and a roster; one student
    whose repository does not exist."""
    root = tmp_path_factory.mktemp("klass")
    kinds = {"ana": "reference", "bo": "starter", "cy": "half", "di": "reference", "ed": "empty"}
    plain = root / "submissions"  # the same work, as the folders one batch grades
    for name, kind in kinds.items():
        repo = root / "repos" / "course" / name
        target = repo / "exercises" / DEMO
        target.mkdir(parents=True)
        if kind != "empty":
            source = SOLUTIONS_DIR / DEMO if kind in ("reference", "half") else EXERCISES_DIR / DEMO
            for f in ("solution.sql", "notes.md"):
                if (source / f).exists():
                    shutil.copyfile(source / f, target / f)
            if kind == "half":  # the reference's first half only
                lines = (target / "solution.sql").read_text().splitlines(keepends=True)
                (target / "solution.sql").write_text("".join(lines[: len(lines) // 2]))
        (target / ".keep").write_text("")
        _git("init", "-q", cwd=repo)
        _git("add", "-A", cwd=repo)
        _git("commit", "-q", "-m", "work", cwd=repo)
        shutil.copytree(repo, plain / name, ignore=shutil.ignore_patterns(".git"))
    roster = root / "roster.csv"
    rows = [f"{n},course/{n},{1000 + i},{n}@uni.example,Student {n.upper()}" for i, n in enumerate(kinds)]
    roster.write_text("folder,repo,student_id,email,name\n" + "\n".join(rows) + "\nhal,course/hal,1099,,Hal\n")
    return root, kinds, plain, roster


def _grade_options(grader) -> list[str]:
    return ["--scale", str(grader.options.scale), "--seed", str(grader.options.seed)]


def test_the_fanned_out_regrade_equals_one_batch(klass, grader, tmp_path, request):
    if request.config.getoption("--pg-server") != "embedded":
        pytest.skip("the chunk jobs grade on the embedded server")
    root, kinds, plain, roster = klass
    single = tmp_path / "single"
    proc = subprocess.run([sys.executable, str(ROOT / "grade.py"), "--batch", str(plain), "-e", DEMO, "--workers", "1",
                           "--roster", str(roster), "--out", str(single), *_grade_options(grader)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "roster folder 'hal' has no submission" in proc.stderr

    count = 2  # five students and a missing one in two chunks: uneven, and hal falls in the last
    env = dict(os.environ, PGDRILL_CLONE_BASE=f"file://{root}/repos/", PGDRILL_GRADE_PY=str(ROOT / "grade.py"),
               PYTHON=sys.executable, PGDRILL_EXERCISES=DEMO, PGDRILL_WORKERS="1",
               PGDRILL_SCALE=str(grader.options.scale), PGDRILL_GRADING_SEED=str(grader.options.seed))
    graded = []
    for index in range(1, count + 1):
        out = tmp_path / f"chunk-{index}"
        proc = subprocess.run(["bash", str(CHUNK_SCRIPT), str(roster), str(index), str(count), str(out)],
                              capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        graded += [item["submission"] for item in json.loads((out / "gradebook.json").read_text())]
    assert sorted(graded) == sorted(kinds)                    # every student once, in exactly one chunk
    assert "hal\tcould not clone course/hal" in (tmp_path / f"chunk-{count}" / "not-cloned.txt").read_text()

    merged = tmp_path / "merged"
    proc = subprocess.run([sys.executable, str(ROOT / "grade.py"), "gradebook", "merge",
                           *[str(tmp_path / f"chunk-{i}") for i in range(1, count + 1)],
                           "-e", DEMO, "--roster", str(roster), "--out", str(merged)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    for name in ("gradebook.csv", "checks.csv", "canvas.csv", "moodle.csv"):
        assert (merged / name).read_text() == (single / name).read_text(), name
    from pgdrill.render import load_json

    for name in kinds:
        a = load_json((merged / "reports" / f"{name}.json").read_text())
        b = load_json((single / "reports" / f"{name}.json").read_text())
        assert [(c.check_id, c.status, c.points) for ex in a.exercises for c in ex.checks] == \
               [(c.check_id, c.status, c.points) for ex in b.exercises for c in ex.checks], name
        assert (merged / "reports" / f"{name}.txt").is_file()
    totals = {row["submission"]: float(row["total"]) for row in csv.DictReader(io.StringIO(
        (merged / "gradebook.csv").read_text()))}
    assert totals["ana"] == totals["di"] > totals["cy"] > totals["ed"] >= 0  # real, distinct grades
    assert len(set(totals.values())) >= 3


def test_merge_refuses_a_submission_in_two_chunks_and_a_folder_without_index(tmp_path):
    spec, book = _book(tmp_path)
    book.write(tmp_path / "a")
    book.write(tmp_path / "b")
    (tmp_path / "empty").mkdir()
    for sources, says in (([tmp_path / "a", tmp_path / "b"], "more than one"), ([tmp_path / "empty"], "gradebook.json")):
        proc = subprocess.run([sys.executable, str(ROOT / "grade.py"), "gradebook", "merge", *map(str, sources),
                               "-e", DEMO, "--out", str(tmp_path / "m")], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 2 and says in proc.stderr, proc.stderr
