#!/usr/bin/env python3
"""Batch grading throughput: submissions per minute for 20 submissions, 1 and 2 workers.

    python bench/batch_throughput.py [--exercise demo-first-fix] [--scale 0.1] [--markdown bench/results.md]

The 20 submissions are made from the exercise's reference solution, its untouched starter, a
half-done version and a destructive one (5 of each), so the batch grades what a real class
hands in. Both runs grade the same folder in one invocation, side by side; the yardstick is
the 1-worker run (and grading one submission alone, for the fixed start-up cost).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _publish import publish  # noqa: E402  (bench/ is on sys.path as the script's folder)


def make_class(root: Path, exercise: str) -> int:
    reference = ROOT / "solutions" / exercise
    starter = ROOT / "exercises" / exercise
    kinds = {
        "reference": lambda d: shutil.copytree(reference, d, ignore=shutil.ignore_patterns("NOTES.md")),
        "starter": lambda d: shutil.copytree(starter, d, ignore=shutil.ignore_patterns("exercise.yaml", "README.md")),
        "half": lambda d: (shutil.copytree(reference, d, ignore=shutil.ignore_patterns("NOTES.md")),
                           (d / "solution.sql").write_text((d / "solution.sql").read_text().split("-- Quarantine")[0])),
        "destructive": lambda d: (shutil.copytree(reference, d, ignore=shutil.ignore_patterns("NOTES.md")),
                                  (d / "solution.sql").write_text((d / "solution.sql").read_text()
                                                                  + "\nTRUNCATE order_items;\n")),
    }
    n = 0
    for i in range(5):
        for kind, make in kinds.items():
            make(root / f"student-{kind}-{i:02d}" / exercise)
            n += 1
    return n


def main() -> int:
    from pgdrill.batch import BatchOptions, grade_batch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--exercise", default="demo-first-fix")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pgdrill-bench-batch-"))
    try:
        n = make_class(work / "class", args.exercise)
        one = work / "one"
        shutil.copytree(work / "class" / "student-reference-00", one / "student-reference-00")
        rows = []
        for label, folder, workers in (("1 submission, 1 worker", one, 1), ("20 submissions, 1 worker", work / "class", 1),
                                       ("20 submissions, 2 workers", work / "class", 2)):
            started = time.monotonic()
            book = grade_batch(folder, BatchOptions(workers=workers, scale=args.scale, exercises=(args.exercise,)))
            seconds = time.monotonic() - started
            count = len(book.entries)
            rows.append((label, count, seconds, count / seconds * 60, sorted({round(e.points, 2) for e in book.entries})))
            print(rows[-1], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        f"### Batch throughput — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC (`python bench/batch_throughput.py`)",
        "",
        f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores; exercise {args.exercise} "
        f"at scale {args.scale:g}; {n} submissions (5 × reference, starter, half-done, destructive)",
        "",
        "| run | submissions | seconds | submissions / minute | distinct scores |",
        "|---|---:|---:|---:|---|",
        *[f"| {label} | {count} | {sec:.1f} | {rate:.1f} | {', '.join(f'{p:g}' for p in scores)} |"
          for label, count, sec, rate, scores in rows],
        "",
        f"2 workers vs 1: {rows[1][2] / rows[2][2]:.2f}× faster (each worker starts its own server and builds "
        "its own template; the single-submission run shows that fixed cost).",
    ]
    publish(lines, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
