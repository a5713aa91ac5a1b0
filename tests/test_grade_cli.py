"""python grade.py end to end: formats, --out, named exit codes, errors reported not raised."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pgdrill.cli import EXIT_ALL_PASSED, EXIT_GRADER_ERROR, EXIT_INVALID, EXIT_SOME_FAILED

ROOT = Path(__file__).resolve().parents[1]
DEMO = "demo-first-fix"


def grade(*args, env_extra=None, timeout=300):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, str(ROOT / "grade.py"), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def server_args(request):
    kind = request.config.getoption("--pg-server")
    args = ["--server", kind]
    if kind == "dsn":
        args += ["--dsn", request.config.getoption("--pg-dsn")]
    if request.config.getoption("--pg-bindir"):
        args += ["--bindir", request.config.getoption("--pg-bindir")]
    return args + ["--scale", "0.1"]


def test_reference_solution_exits_0_and_renders_every_format(tmp_path, server_args):
    out = tmp_path / "report.json"
    proc = grade("solutions", "-e", DEMO, "--format", "json", "--out", str(out), *server_args)
    assert proc.returncode == EXIT_ALL_PASSED, proc.stderr
    data = json.loads(out.read_text())
    assert data["points"] == data["max_points"] == 20
    assert len(data["exercises"][0]["checks"]) == 12


def test_starter_exits_1_with_feedback(server_args):
    proc = grade("-e", DEMO, *server_args)
    assert proc.returncode == EXIT_SOME_FAILED
    assert "0/20" in proc.stdout
    assert "orphan_items" in proc.stdout  # tells the learner what is missing


@pytest.mark.parametrize("fmt,marker", [("markdown", "| "), ("html", "<html"), ("text", "Total:")])
def test_formats(fmt, marker, server_args, tmp_path):
    proc = grade("solutions", "-e", DEMO, "--format", fmt, *server_args)
    assert proc.returncode == EXIT_ALL_PASSED
    assert marker in proc.stdout


def test_invalid_spec_exits_2_naming_file_and_line(tmp_path, server_args):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "exercises" / DEMO, course / "exercises" / DEMO)
    spec = course / "exercises" / DEMO / "exercise.yaml"
    spec.write_text(spec.read_text().replace("check: no_orphans", "check: no_orphan"))
    proc = grade("solutions", "--exercises-dir", str(course / "exercises"), *server_args)
    assert proc.returncode == EXIT_INVALID
    assert "exercise.yaml:" in proc.stderr and "no_orphans" in proc.stderr  # the closest known name
    assert "Traceback" not in proc.stderr


def test_missing_submission_folder_exits_2(server_args, tmp_path):
    proc = grade(str(tmp_path / "nope"), *server_args)
    assert proc.returncode == EXIT_INVALID and "not a folder" in proc.stderr


def test_grader_that_cannot_start_exits_3():
    proc = grade("solutions", "-e", DEMO, "--server", "system", "--bindir", "/nonexistent/bin")
    assert proc.returncode == EXIT_GRADER_ERROR
    assert "could not start PostgreSQL" in proc.stderr and "Traceback" not in proc.stderr


def test_submission_with_only_garbage_is_graded(tmp_path, server_args):
    sub = tmp_path / "sub"
    (sub / DEMO).mkdir(parents=True)
    (sub / DEMO / "solution.sql").write_bytes(b"\xff\xfe garbage ;;; SELEC 1; DROP DATABASE postgres;\n")
    proc = grade(str(sub), "-e", DEMO, *server_args)
    assert proc.returncode == EXIT_SOME_FAILED
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "notes.md" in proc.stdout  # the missing file is reported


def test_every_command_has_help():
    for args in (["--help"], ["lab", "--help"], ["validate", "--help"]):
        proc = grade(*args)
        assert proc.returncode == 0 and "usage:" in proc.stdout, args


def test_a_learner_facing_run_never_shows_the_grading_seed(server_args):
    """Item 9 of the red team: every grading run printed the hidden seed (in its progress
    lines, which a CI job log shows the learner). The instructor's view still has it."""
    seed = "918273"
    learner = grade("solutions", "-e", DEMO, "--seed", seed, "--progress", *server_args)
    assert learner.returncode == EXIT_ALL_PASSED, learner.stderr
    assert "building the TechShop incident" in learner.stderr  # the progress line is there …
    assert seed not in learner.stdout + learner.stderr  # … without the seed
    instructor = grade("solutions", "-e", DEMO, "--seed", seed, "--audience", "instructor", "--progress",
                       *server_args)
    assert seed in instructor.stdout + instructor.stderr


def test_every_database_name_a_seeded_fixture_uses_loses_its_seed_in_a_learner_view():
    """The prepared baseline (_base) and a variant's template (_r<seed>_<variant>_tmpl) named
    the seed in progress lines though _tmpl did not; an unseeded template and other digits stay."""
    from pgdrill.fixtures.kinds import kind_of
    from pgdrill.fixtures.templates import prepared_name
    from pgdrill.output import redact_seed

    techshop = kind_of("techshop")
    plain, variant = techshop.key("techshop", 0.1, 918273), techshop.key("techshop", 10, 918273, "lots")
    names = [plain.template_name, variant.template_name, prepared_name(plain),
             plain.template_name.removesuffix("_tmpl") + "_build"]
    for name in names:
        line = f"built {name} in 2.0 s (seed 918273)"
        assert "918273" in line and "918273" not in redact_seed(line), name
        assert redact_seed(line).startswith("built pgdrill_techshop_s"), name
    untouched = f"{kind_of('sample:pagila').key('sample:pagila').template_name} has 16044 rentals"
    assert redact_seed(untouched) == untouched


def test_the_lab_manifest_is_an_instructor_view(tmp_path, monkeypatch, capsys):
    """Outside pgdrill's own repository (a student template, the grading bundle: no
    solutions/) ``lab status --manifest`` prints no planted fault."""
    from pgdrill import lab

    assert lab.instructor_checkout()  # this repository
    monkeypatch.setattr(lab, "ROOT", tmp_path)
    monkeypatch.setenv("PGDRILL_LAB_DIR", str(tmp_path / "lab"))
    assert lab.main(["status", "--manifest"]) == 2
    assert "instructor view" in capsys.readouterr().err


def test_only_a_server_removed_next_keeps_the_last_exercises_databases(grader, pg_server):
    """grade.py stops its server right after grading: the last exercise's databases go with the
    server's files instead of being dropped first (a DROP DATABASE forces a checkpoint)."""
    from kit import load

    from pgdrill.grading import SOLUTIONS_DIR

    specs = [load(DEMO), load("course-01-create-tables")]  # the last one clones one database

    def clones() -> set[str]:
        with pg_server.connect(purpose="janitor") as conn:
            return {r[0] for r in conn.execute("SELECT datname FROM pg_catalog.pg_database WHERE datname LIKE %s",
                                               (f"pgdrill\\_{os.getpid()}\\_%",)).fetchall()}

    before = clones()
    dropped = grader.grade(SOLUTIONS_DIR, specs)
    assert clones() == before
    kept = grader.grade(SOLUTIONS_DIR, specs, server_stops_next=True)
    left = clones() - before
    try:
        assert dropped.points == kept.points == dropped.max_points
        assert len(left) == (1 if pg_server.removed_at_stop else 0)
    finally:
        for name in left:
            pg_server.drop_database(name)


def _without_times(report: dict) -> dict:
    """A report with what depends on the clock left out: its start, durations, and the times
    in evidence (a row the learner's file inserted with now(), a time zone probe's order date)."""
    report = json.loads(re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?", "<time>", json.dumps(report)))
    report.pop("started_at"), report.pop("duration_s")
    for exercise in report["exercises"]:
        for item in exercise["checks"] + exercise["statements"]:
            for name in ("duration_s", "elapsed_s"):
                item.pop(name, None)
    return report


def test_exercises_graded_in_two_processes_give_the_same_report(tmp_path, server_args):
    """--workers 2 grades the exercises of one submission side by side, each process with a
    server of its own: the report is the one grade.py writes grading them one after the other
    — full marks where the reference solution was handed in, the same failures and feedback
    where the starter files were."""
    if "dsn" in server_args:
        pytest.skip("one server given by --dsn: grade.py grades one exercise after the other")
    submission = tmp_path / "exercises"
    for exercise, source in (("course-01-create-tables", "exercises"), (DEMO, "solutions"),
                             ("course-09-views-monitoring", "solutions")):
        shutil.copytree(ROOT / source / exercise, submission / exercise)
    # The specs, with one check of the demo hidden: a progress line counts visible points only.
    specs = tmp_path / "specs"
    for exercise in ("course-01-create-tables", DEMO, "course-09-views-monitoring"):
        shutil.copytree(ROOT / "exercises" / exercise, specs / exercise)
    demo_spec = specs / DEMO / "exercise.yaml"
    text = demo_spec.read_text()
    assert text.count("  - id: orphan-items-columns\n") == 1
    demo_spec.write_text(text.replace("  - id: orphan-items-columns\n",
                                      "  - id: orphan-items-columns\n    visibility: hidden\n"))
    chosen = ["-e", "course-01-create-tables", "-e", DEMO, "-e", "course-09-views-monitoring",
              "--exercises-dir", str(specs)]
    runs, lines = {}, {}
    for workers in ("1", "2"):
        proc = grade(str(submission), *chosen, "--format", "json", "--workers", workers, "--progress", *server_args)
        assert proc.returncode == EXIT_SOME_FAILED, proc.stderr
        runs[workers] = json.loads(proc.stdout)
        # One line per exercise as it finishes: "[k/3] id: points (seconds)".
        found = re.findall(r"^\[(\d)/3\] (\S+): (.+) \(\d+\.\d s\)$", proc.stderr, re.MULTILINE)
        assert sorted(int(k) for k, _, _ in found) == [1, 2, 3], proc.stderr
        lines[workers] = {exercise: points for _, exercise, points in found}
    # The same results in the specs' order (not in the order the processes finished them).
    assert _without_times(runs["2"]) == _without_times(runs["1"])
    full = {e["exercise"]: e["points"] == e["max_points"] for e in runs["2"]["exercises"]}
    assert full == {"course-01-create-tables": False, DEMO: True, "course-09-views-monitoring": True}
    # The same progress lines, and neither tells what the hidden check gave.
    assert lines["2"] == lines["1"]
    demo = next(e for e in runs["1"]["exercises"] if e["exercise"] == DEMO)
    visible = sum(c["max_points"] for c in demo["checks"] if c["visibility"] == "visible")
    assert visible < demo["max_points"]
    assert lines["1"][DEMO] == f"{visible:g}/{visible:g} points (+1 hidden checks)"


def test_an_exercise_whose_process_ran_too_long_is_reported_not_graded_alone(tmp_path, request):
    """A worker that runs past the time limit is stopped: its exercise is reported as not
    graded, with its own checks only, and the other exercises keep their results."""
    from kit import load

    from pgdrill.batch import BatchOptions, grade_exercises
    from pgdrill.grading import SOLUTIONS_DIR

    kind = request.config.getoption("--pg-server")
    if kind == "dsn":
        pytest.skip("workers of their own need servers of their own")
    chosen = ("course-01-create-tables", DEMO)
    options = BatchOptions(workers=2, scale=0.1, server=kind, bindir=request.config.getoption("--pg-bindir"),
                           exercises=chosen, timeout=0.01)
    said: list[str] = []
    report = grade_exercises(SOLUTIONS_DIR, options, progress=said.append)
    assert [e.exercise for e in report.exercises] == [s.id for s in sorted(map(load, chosen), key=lambda s: s.sort_key)]
    # Each stopped exercise still gets its numbered progress line, with the reason.
    lines = [line for line in said if line.startswith("[")]
    assert sorted(line[:5] for line in lines) == ["[1/2]", "[2/2]"], said
    assert all("could not be graded" in line and "longer than 0.01 s" in line for line in lines), lines
    for exercise in report.exercises:
        assert exercise.error and "longer than 0.01 s" in exercise.error
        assert [c.check_id for c in exercise.checks] == [c.id for c in load(exercise.exercise).checks]
        assert exercise.points == 0


def test_workers_must_be_at_least_one(server_args, tmp_path):
    # One submission's exercises and a batch: refused before any server starts.
    for target in (["solutions", "-e", DEMO, "-e", "course-01-create-tables"], ["--batch", str(tmp_path)]):
        for workers, says in (("0", "must be at least 1"), ("-2", "must be at least 1"),
                              ("two", "'two' is not a number of processes")):
            proc = grade(*target, "--workers", workers, *server_args)
            assert proc.returncode == EXIT_INVALID and f"argument --workers: {says}" in proc.stderr, proc.stderr
        assert grade(*target, "--workers", "1", "--help").returncode == 0
