"""`pytest exercises/` grades too: every check of an exercise.yaml is a test item."""

from __future__ import annotations

import os
import re
import subprocess
import sys
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
