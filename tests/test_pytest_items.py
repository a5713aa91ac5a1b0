"""`pytest exercises/` grades too: every check of an exercise.yaml is a test item."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from xml.etree import ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_pytest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "--grade-scale", "0.1", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env=dict(os.environ))


def _counts(output: str) -> dict[str, int]:
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|deselected)", output)}


def test_reference_solution_passes_every_item():
    proc = run_pytest("exercises/demo-first-fix", "--submission", "solutions")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert _counts(proc.stdout) == {"passed": 12}


def test_starter_fails_items_with_the_graders_feedback_and_k_selects():
    proc = run_pytest("exercises/demo-first-fix", "-k", "orphan or preserved")
    counts = _counts(proc.stdout)
    assert proc.returncode == 1
    # the guards of good data pay only once a fix does: nothing passes for doing nothing
    assert counts.get("passed", 0) == 0 and counts["failed"] == 5 and counts["deselected"] == 7
    assert "counts only once no-orphans-left earns points" in proc.stdout
    assert "You did not run a query named 'orphan_items'" in proc.stdout


def test_check_markers_are_registered_and_items_point_at_their_spec_line(tmp_path):
    # Every check carries a marker named after its function; pytest knows them all, so
    # collection is clean under -W error and --strict-markers, and -m selects by check kind.
    proc = run_pytest("exercises/course-02-querying", "--collect-only", "-W", "error::pytest.PytestUnknownMarkWarning", "--strict-markers",
                      "-m", "value_matches")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "course-02-querying::tracks-without-composer" in proc.stdout
    assert "course-02-querying::love-songs" not in proc.stdout  # a rows_match check
    # Each item is located at the line of its entry in exercise.yaml (pytest's locations are
    # 0-based, so JUnit's line is the entry's line minus one), not at line 0.
    spec_lines = (ROOT / "exercises" / "course-02-querying" / "exercise.yaml").read_text().splitlines()
    entry = next(n for n, text in enumerate(spec_lines, 1) if text.strip() == "- id: tracks-without-composer")
    report = tmp_path / "junit.xml"
    run_pytest("exercises/course-02-querying", "-k", "tracks-without-composer", f"--junitxml={report}",
               "-o", "junit_family=xunit1")  # xunit1 carries file and line
    case = ElementTree.parse(report).getroot().find(".//testcase")
    assert case is not None and case.get("name").endswith("tracks-without-composer")
    assert int(case.get("line")) == entry - 1, (case.attrib, entry)
