"""tools/compare_reports.py chooses what it grades as the tests do (no grading here: CI runs the
tool itself against main)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kit import SUBMISSIONS, exercise_ids, load, load_expect

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("compare_reports", ROOT / "tools" / "compare_reports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_exercise_is_covered_by_default(tool):
    assert tool.all_exercises() == exercise_ids()
    assert set(tool.QUICK_EXERCISES) <= set(exercise_ids())


def test_the_reference_and_every_variant_but_the_accidents(tool):
    for exercise in exercise_ids():
        labels = [label for label, _ in tool.submissions_of(exercise)]
        assert labels[0] == "reference"
        variants = SUBMISSIONS / exercise
        expected = sorted(p.name for p in variants.iterdir() if p.is_dir() and p.name != "accidents") \
            if variants.is_dir() else []
        assert labels[1:] == [f"variant:{name}" for name in expected]


@pytest.mark.parametrize("base", ["reference", "starter"])
def test_a_variant_is_completed_from_its_base(tool, tmp_path, base):
    exercise, folder = next((e, p) for e in exercise_ids() for p in sorted((SUBMISSIONS / e).glob("*/"))
                            if (p / "expect.yaml").is_file() and load_expect(p / "expect.yaml").get("base") == base)
    spec = load(exercise)
    into = tmp_path / "graded"
    graded = tool.as_graded(spec, f"variant:{folder.name}", folder, into)
    source = (ROOT / "solutions" if base == "reference" else ROOT / "exercises") / exercise
    assert graded == into
    for f in spec.files:
        own, theirs = folder / f.path, source / f.path
        if own.is_file():
            assert (into / f.path).read_bytes() == own.read_bytes()
        elif theirs.is_file():
            assert (into / f.path).read_bytes() == theirs.read_bytes()
        else:
            assert not (into / f.path).exists()


def test_a_folder_without_a_base_is_graded_as_it_is(tool, tmp_path):
    exercise = exercise_ids()[0]
    reference = ROOT / "solutions" / exercise
    assert tool.as_graded(load(exercise), "reference", reference, tmp_path / "x") == reference
    assert not (tmp_path / "x").exists()


def _check(message: str, *evidence: dict, points: float = 1.0) -> dict:
    return {"reports": {"x reference": {"exercises": [{"checks": [
        {"status": "passed" if points else "failed", "points": points, "message": message,
         "evidence": list(evidence)}]}]}}}


def test_measured_values_are_masked_and_what_grades_is_not(tool):
    """Two gradings that differ only in what they measured normalise alike; a point, a status,
    a limit set, a factor asked for, an exact count or a row still tells them apart."""
    def run(ms: float, ratio: float, slower: float, pid: int, filenode: int, live: int, modified: int,
            points: float = 1.0, factor: int = 10, dead: int = 3, limit: int = 100) -> dict:
        return _check(
            f"The query runs in {ms:.1f} ms against {ms * ratio:.1f} ms on the untouched incident: "
            f"{ratio:.1f}× faster, but {factor}× was expected. The query runs in {ms:.1f} ms (median of 7 "
            f"runs), under {limit * slower:.1f} ms ({limit} ms on the reference machine; this one runs "
            f"{slower:.1f}× slower right now). public.orders: 12% dead ({dead} dead of {live + dead} row "
            f"versions, pgstattuple); public.products was last analyzed never, {modified} rows modified since",
            {"kind": "text", "title": "Execution times (ms)", "body": f"{ms:.2f}, {ms + 1:.2f}"},
            {"kind": "text", "title": "Machine speed (yardstick)",
             "body": f"yardstick times (ms): {slower * 16:.2f}, 17.00; median {slower * 16:.2f} ms against 16 ms "
                     f"where the limit of {limit} ms was set, so the limit on this machine right now is "
                     f"{limit * slower:.1f} ms"},
            {"kind": "plan", "title": f"Untouched incident: median {ms * ratio:.2f} ms", "body": "Seq Scan"},
            {"kind": "rows", "title": "Dead tuples", "columns": ["table", "live", "dead", "dead share", "source"],
             "rows": [["public.orders", str(live), str(dead), f"{dead / live:.1%}", "pgstattuple"]]},
            {"kind": "rows", "title": "Statistics", "columns": ["table", "last analyzed", "modified since",
                                                                "rows (estimate)"],
             "rows": [["public.products", "never (in this database)", str(modified), str(live)]]},
            {"kind": "rows", "title": "Data file of each table (pg_relation_filenode)",
             "columns": ["table", "yours", "untouched incident"], "rows": [["public.orders", str(filenode), "16384"]]},
            {"kind": "rows", "title": "Unexpected rows in your result", "columns": ["pid", "usename"],
             "rows": [[str(pid), "learner"]]},
            {"kind": "text", "title": "Backup", "body": "$BACKUP_DIR/pagila.2026-12-03_042009.d (directory format)"},
            {"kind": "text", "title": "Output", "body": f"backup written: /tmp/x/pagila.dump ({882944 + pid % 10} bytes)"},
            points=points)

    def norm(snap: dict) -> str:
        return tool.dumps(tool._normalise(snap))

    first = norm(run(9.7, 0.8, 4.4, 15172, 28996, 7987, 0))
    assert first == norm(run(2.4, 234.6, 2.1, 1996, 28994, 4581, 15))
    assert norm(tool._normalise(run(9.7, 0.8, 4.4, 15172, 28996, 7987, 0))) == first  # idempotent
    for changed in (dict(points=0.0), dict(factor=5), dict(dead=4), dict(limit=200)):
        assert norm(run(9.7, 0.8, 4.4, 15172, 28996, 7987, 0, **changed)) != first, changed
    other_table = run(9.7, 0.8, 4.4, 15172, 28996, 7987, 0)
    other_table["reports"]["x reference"]["exercises"][0]["checks"][0]["evidence"][4]["rows"][0][0] = "public.x"
    assert norm(other_table) != first


def test_compare_piped_to_head_ends_quietly_with_its_verdict(tmp_path):
    """``compare a b | head``: the reader stops while the diff is printed; the tool exits 1
    (the reports differ) without a BrokenPipeError traceback."""
    for name, shift in (("a.json", 0), ("b.json", 1)):
        (tmp_path / name).write_text(json.dumps(
            {"reports": {f"r{i}": {"x": list(range(shift, 500 + shift))} for i in range(40)}}))
    proc = subprocess.run(
        f"{sys.executable} {ROOT / 'tools' / 'compare_reports.py'} compare a.json b.json | head -n 2; "
        "echo \"status ${PIPESTATUS[0]}\"",
        shell=True, executable="/bin/bash", cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.stdout.splitlines()[0].startswith("40 of 40 reports differ")
    assert proc.stdout.splitlines()[-1] == "status 1"
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
