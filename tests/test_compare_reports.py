"""tools/compare_reports.py chooses what it grades as the tests do (no grading here: CI runs the
tool itself against main)."""

from __future__ import annotations

import importlib.util
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
