"""The same submission gets the same score every time — also while both cores are busy.

The risky checks are the performance family (plan shape, buffers, medians, speed-up ratios
against the untouched incident): they must decide on what does not depend on the machine's
load. Two layers:

- full gradings (clone, learner files, checks) of a few submissions, idle and under load;
- the checks alone, run 20 times on one graded clone while another process keeps both cores
  busy (re-grading from scratch 20 times would take minutes and prove no more: the learner's
  files are not timed).

Scores are compared with each other, never with numbers written here. The CPU load comes from
two busy-loop processes this test starts, stops by PID, and which end on their own after a
bounded time in any case.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

from pgdrill import checks
from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.spec import load_spec

RUNS = 20
BURN_LIMIT_S = 240  # the burners stop by themselves after this, whatever happens to the test
BURNER = "import time\nend = time.monotonic() + {limit}\nwhile time.monotonic() < end:\n    pass\n"

REFERENCE, STARTER = SOLUTIONS_DIR, EXERCISES_DIR
# (exercise, folder): the first drill's reference and untouched starter, and the reference of
# the indexing task, whose performance checks (buffers, medians, speed-ups) are the risky ones.
GRADED = [("demo-first-fix", REFERENCE), ("demo-first-fix", STARTER), ("techshop-4-1-indexes", REFERENCE)]
PERFORMANCE = "techshop-4-1-indexes"


def spec_of(exercise: str):
    return load_spec(EXERCISES_DIR / exercise / "exercise.yaml", checks.load_all())


def scores(results) -> tuple:
    """What must not change between runs: each check's status and points (messages may quote
    timings, so they are not compared)."""
    return tuple((c.check_id, c.status.value, c.points) for c in results)


@contextlib.contextmanager
def busy_cores(n: int = 2):
    """``n`` processes spinning on the CPU; stopped by their PIDs when the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", BURNER.format(limit=BURN_LIMIT_S)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(n)]
    try:
        time.sleep(0.2)
        assert all(p.poll() is None for p in procs), "the CPU burners did not start"
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(timeout=30)


@contextlib.contextmanager
def graded_clone(grader, spec, files_dir: Path):
    """One clone with the submission's files run on it, and a function that runs the spec's
    checks on it again — the grader's own code path (``Grader.prepared``)."""
    with grader.prepared(spec, files_dir) as prepared:
        yield lambda: scores(prepared.run_checks())


def test_full_gradings_agree_idle_and_under_load(grader):
    runs = {}
    for exercise, root in GRADED:
        runs[exercise, root] = [scores(grader.grade_exercise(spec_of(exercise), root / exercise).checks)]
    with busy_cores():
        for _ in range(2):
            for exercise, root in GRADED:
                runs[exercise, root].append(scores(grader.grade_exercise(spec_of(exercise), root / exercise).checks))
    for (exercise, root), results in runs.items():
        assert len(set(results)) == 1, (exercise, root.name, _differences(results))
    # The runs compared decide something: the reference passes, the starter does not.
    assert runs["demo-first-fix", REFERENCE][0] != runs["demo-first-fix", STARTER][0]


def test_the_same_submission_graded_20_times_gets_the_same_score(grader):
    """The issue's own words: one submission, 20 full gradings (a fresh clone, the learner's
    files, every check each time), half of them while two processes load both cores."""
    spec = spec_of("demo-first-fix")
    submission = REFERENCE / "demo-first-fix"
    results = [scores(grader.grade_exercise(spec, submission).checks) for _ in range(RUNS // 2)]
    with busy_cores():
        results += [scores(grader.grade_exercise(spec, submission).checks) for _ in range(RUNS - RUNS // 2)]
    assert len(results) == RUNS
    assert len(set(results)) == 1, _differences(results)


def test_performance_checks_agree_20_times_under_load(grader):
    """Plan shapes, buffer counts against the untouched incident, medians under 100 ms and
    speed-up ratios: the indexing task's reference passes every one of them, 20 times out of
    20, while two other processes keep both cores busy."""
    spec = spec_of(PERFORMANCE)
    with graded_clone(grader, spec, REFERENCE / PERFORMANCE) as run_checks:
        first = run_checks()
        with busy_cores():
            again = [run_checks() for _ in range(RUNS - 1)]
    assert all(status == "passed" for _, status, _ in first), first
    assert all(r == first for r in again), _differences([first] + again)
    families = {checks.REGISTRY[c.check].family for c in spec.checks}
    assert "performance" in families


def test_first_drill_checks_agree_20_times_under_load(grader):
    spec = spec_of("demo-first-fix")
    with graded_clone(grader, spec, REFERENCE / "demo-first-fix") as run_checks:
        first = run_checks()
        with busy_cores():
            again = [run_checks() for _ in range(RUNS - 1)]
    assert all(status == "passed" for _, status, _ in first), first
    assert all(r == first for r in again), _differences([first] + again)


def _differences(runs: list[tuple]) -> str:
    """The checks whose outcome changed between runs, for the failure message."""
    changed = {}
    for run in runs:
        for check_id, status, points in run:
            changed.setdefault(check_id, set()).add((status, points))
    return "; ".join(f"{cid}: {sorted(v)}" for cid, v in changed.items() if len(v) > 1) or "no difference"


def test_the_open_shop_judges_the_same_idle_and_under_load(grader):
    """Whether a file blocked the open shop is read from the locks its statements waited for,
    not from timings: a plain CREATE/DROP INDEX is caught, a CONCURRENTLY clean-up is not, on
    an idle machine and with both cores busy alike."""
    submissions = [("techshop-4-1-indexes", Path(__file__).parent / "data" / "submissions" / "techshop-4-1-indexes"
                    / "plain-create-and-drop-index"),
                   ("techshop-4-2-cleanup", REFERENCE / "techshop-4-2-cleanup")]
    runs = {s: [scores(grader.grade_exercise(spec_of(s[0]), s[1]).checks)] for s in submissions}
    with busy_cores():
        for _ in range(2):
            for s in submissions:
                runs[s].append(scores(grader.grade_exercise(spec_of(s[0]), s[1]).checks))
    for (exercise, _), results in runs.items():
        assert len(set(results)) == 1, (exercise, _differences(results))
    shop = {exercise: dict((cid, status) for cid, status, _ in results[0])["shop-stayed-open"]
            for (exercise, _), results in runs.items()}
    assert shop == {"techshop-4-1-indexes": "failed", "techshop-4-2-cleanup": "passed"}
