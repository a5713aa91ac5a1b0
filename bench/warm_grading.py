#!/usr/bin/env python3
"""Grading with the template cache: the first run (builds the starting states) vs the next.

    python bench/warm_grading.py [--server embedded|system] [--only one|indexes|course] [--markdown bench/results.md]

Each row runs ``grade.py solutions/ …`` twice as a learner would, with a fresh, empty cache
folder: the first run is cold (it builds and caches what it needs: that is what every run cost
before the cache), the second is warm (it copies the cache). Wall time of the whole command,
Python's start included. Rows:

- ``one``     — one scale-1 exercise (techshop-3-1-orphans), goal ≤ 5 s warm;
- ``indexes`` — Task 4.1 at its own scale 10, goal ≤ 60 s warm;
- ``course``  — every exercise of the course, goal ≤ 120 s warm.

Both runs must score the same, or the bench fails loudly.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _publish import publish  # noqa: E402  (bench/ is on sys.path as the script's folder)

ROWS = {
    "one": (["-e", "techshop-3-1-orphans"], "one scale-1 exercise (techshop-3-1-orphans)", 5),
    "indexes": (["-e", "techshop-4-1-indexes"], "Task 4.1 at scale 10 (techshop-4-1-indexes)", 60),
    "course": ([], "the whole course (every exercise)", 120),
}


def grade(selection: list[str], cache_dir: Path, server: str) -> tuple[float, float, float]:
    env = {**os.environ, "PGDRILL_CACHE_DIR": str(cache_dir)}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "grade.py", "solutions/", *selection, "--format", "json", "--quiet",
                           "--server", server], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"grade.py failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    return seconds, report["points"], report["max_points"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="embedded", choices=("embedded", "system"))
    parser.add_argument("--only", action="append", choices=sorted(ROWS), help="rows to run (default: all)")
    parser.add_argument("--markdown", type=Path, help="append the section to this Markdown file")
    args = parser.parse_args()
    rows = []
    for name in args.only or list(ROWS):
        selection, what, goal = ROWS[name]
        cache_dir = Path(tempfile.mkdtemp(prefix="pgdrill-bench-cache-"))
        try:
            cold = grade(selection, cache_dir, args.server)
            warm = grade(selection, cache_dir, args.server)
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)
        if cold[1:] != warm[1:]:
            raise SystemExit(f"{name}: the warm run scored {warm[1]}/{warm[2]}, the cold one {cold[1]}/{cold[2]}")
        rows.append(f"| {what} | {cold[0]:.1f} | {warm[0]:.1f} | {cold[0] / warm[0]:.1f}× | ≤ {goal} | "
                    f"{'yes' if warm[0] <= goal else 'no'} | {warm[1]:g}/{warm[2]:g} |")
        print(rows[-1], flush=True)
    load = os.getloadavg()[0]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    publish([
        f"### Warm grading with the template cache — {when} (`python bench/warm_grading.py`)",
        "",
        f"Machine: {platform.node() or 'unknown'}, {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load:.1f} at the end; server: {args.server}; wall time of `grade.py solutions/ …`, "
        "first run on an empty cache (cold: builds and caches) and the second (warm: copies)",
        "",
        "| what | cold (s) | warm (s) | speed-up | goal warm (s) | met | score (both) |",
        "|---|---:|---:|---:|---:|---|---:|",
        *rows,
    ], args.markdown)


if __name__ == "__main__":
    main()
