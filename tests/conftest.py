"""Fixtures of the test suite's own (the repository's conftest.py has the servers and clones)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def graded(grader, tmp_path_factory):
    """``graded(exercise, which, seed=None) -> ExerciseResult``, graded once per session (and
    xdist worker): ``which`` is "reference", "starter" or the name of a variant folder under
    tests/data/submissions/<exercise>/ (completed from its expect.yaml's ``base``). Tests that
    look at the same submission share one grading instead of repeating it."""
    from kit import EXPECT_FILE, SUBMISSIONS, load, load_expect, submission_folder

    from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR, Grader, GradingOptions

    results = {}

    def grade(exercise: str, which: str, seed: int | None = None):
        key = (exercise, which, seed)
        if key not in results:
            spec = load(exercise)
            if which == "reference":
                folder = SOLUTIONS_DIR / exercise
            elif which == "starter":
                folder = EXERCISES_DIR / exercise
            else:
                variant = SUBMISSIONS / exercise / which
                expect = load_expect(variant / EXPECT_FILE)
                folder = submission_folder(exercise, variant, expect.get("base"),
                                           tmp_path_factory.mktemp(f"{exercise}-{which}"), expect.get("edits"))
            g = grader if seed is None else Grader(grader.server, grader.templates,
                                                   GradingOptions(scale=grader.options.scale, seed=seed))
            results[key] = g.grade_exercise(spec, folder)
        return results[key]

    return grade
