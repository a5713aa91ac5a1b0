#!/usr/bin/env python3
"""Grading with the template cache: the first run (builds the starting states) vs the next.

    python bench/warm_grading.py [--server embedded|system] [--only one|indexes|course|course-one-by-one|course-workers] [--rounds 3] [--markdown bench/results.md]
    python bench/warm_grading.py --against REV [--rounds 3] [--only one]   # REV's code vs this tree's, same run

Each row runs ``grade.py solutions/ …`` as a learner would, with a fresh, empty cache folder:
the first run is cold (it builds and caches what it needs: that is what every run cost before
the cache), the next are warm (they copy the cache). Wall time of the whole command, Python's
start included. Rows:

- ``one``     — one scale-1 exercise (techshop-3-1-orphans), goal ≤ 5 s warm;
- ``indexes`` — Task 4.1 at its own scale 10, goal ≤ 60 s warm;
- ``course``  — every exercise of the course as the README's first command grades it, goal
  ≤ 120 s warm: without ``--workers``, in as many processes as pgdrill.machine.default_workers
  gives this machine (two on 2 cores and 4 GB; the row says how many);
- ``course-one-by-one`` — the same with ``--workers 1`` (one process, one server);
- ``course-workers`` — the same with ``--workers 2`` (two processes, each with a server of its
  own, grading exercises side by side), whatever the machine.

Both runs must score the same, or the bench fails loudly. ``--rounds N`` (default 3) warm runs
follow the cold one; the median is reported with the fastest and slowest: one run says little
on a machine whose speed drifts.

Python runs as on a learner's machine, caching compiled bytecode (``__pycache__``): an
inherited ``PYTHONDONTWRITEBYTECODE`` (set in some sandboxes and containers, where every run
compiles pgdrill's modules again, about 0.35 s here) is removed for the runs, and the
section's header says so.

``--against REV`` compares this tree with the code of git revision ``REV`` (``git archive``
unpacked into a temporary folder) in one run, each with a cache of its own: after both cold
runs, the warm runs alternate between the two trees ``--rounds`` times and the median is
reported, so both sides see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _publish import publish  # noqa: E402  (bench/ is on sys.path as the script's folder)
from pgdrill.machine import default_workers  # noqa: E402

ROWS = {
    "one": (["-e", "techshop-3-1-orphans"], "one scale-1 exercise (techshop-3-1-orphans)", 5),
    "indexes": (["-e", "techshop-4-1-indexes"], "Task 4.1 at scale 10 (techshop-4-1-indexes)", 60),
    "course": ([], f"the whole course (every exercise), as the README's first command runs it: "
                   f"{default_workers()} process(es) here", 120),
    "course-one-by-one": (["--workers", "1"], "the whole course one by one (`--workers 1`)", 120),
    "course-workers": (["--workers", "2"], "the whole course in two processes (`--workers 2`)", 120),
}


# What the runs do not inherit: a learner's Python writes its bytecode cache.
UNSET = ("PYTHONDONTWRITEBYTECODE",)


def python_note() -> str:
    dropped = [name for name in UNSET if name in os.environ]
    return (f"Python {platform.python_version()}, bytecode cached as on a learner's machine"
            + (f" ({', '.join(dropped)} of this environment removed for the runs)" if dropped else ""))


def grade(selection: list[str], cache_dir: Path, server: str, code: Path = ROOT) -> tuple[float, float, float]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env["PGDRILL_CACHE_DIR"] = str(cache_dir)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "grade.py", "solutions/", *selection, "--format", "json", "--quiet",
                           "--server", server], cwd=code, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"grade.py failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    return seconds, report["points"], report["max_points"]


def against(rev: str, names: list[str], server: str, rounds: int, markdown: Path | None) -> None:
    """``rev``'s code and this tree's, side by side: cold once each, then warm alternately."""
    with tempfile.TemporaryDirectory(prefix="pgdrill-bench-") as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True)
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        sides = {f"{rev} (yardstick)": code, f"this tree ({head}{', modified' if _dirty() else ''})": ROOT}
        rows = []
        loads = [os.getloadavg()[0]]
        for name in names:
            selection, what, goal = ROWS[name]
            caches = {label: Path(tmp) / f"cache-{i}" for i, label in enumerate(sides)}
            cold = {label: grade(selection, caches[label], server, tree) for label, tree in sides.items()}
            warm: dict[str, list[float]] = {label: [] for label in sides}
            for _ in range(rounds):
                for label, tree in sides.items():
                    result = grade(selection, caches[label], server, tree)
                    if result[1:] != cold[label][1:]:
                        raise SystemExit(f"{name}: {label} scored {result[1]}/{result[2]} warm, "
                                         f"{cold[label][1]}/{cold[label][2]} cold")
                    warm[label].append(result[0])
            loads.append(os.getloadavg()[0])
            for label in sides:
                runs = sorted(warm[label])
                rows.append(f"| {what} | {label} | {cold[label][0]:.1f} | {statistics.median(runs):.1f} | "
                            f"{runs[0]:.1f}–{runs[-1]:.1f} | ≤ {goal} | {cold[label][1]:g}/{cold[label][2]:g} |")
                print(rows[-1], flush=True)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    publish([
        f"### Warm grading, {rev} vs this tree — {when} (`python bench/warm_grading.py --against {rev}`)",
        "",
        f"Machine: {platform.node() or 'unknown'}, {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {' → '.join(f'{x:.1f}' for x in loads)} (start → after each row); server: {server}; "
        f"wall time of `grade.py solutions/ …`, each side with a cache of its own: one cold run, then "
        f"{rounds} warm run{'s' if rounds != 1 else ''} alternating between the sides; {python_note()}",
        "",
        "| what | code | cold (s) | warm, median (s) | warm, fastest–slowest (s) | goal warm (s) | score |",
        "|---|---|---:|---:|---:|---:|---:|",
        *rows,
    ], markdown)


def _dirty() -> bool:
    return bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="embedded", choices=("embedded", "system"))
    parser.add_argument("--only", action="append", choices=sorted(ROWS), help="rows to run (default: all)")
    parser.add_argument("--markdown", type=Path, help="append the section to this Markdown file")
    parser.add_argument("--against", metavar="REV", help="also run git revision REV's code, alternating with this tree's")
    parser.add_argument("--rounds", type=int, default=3, help="warm runs (per side with --against; default 3)")
    args = parser.parse_args()
    if args.against:
        against(args.against, args.only or list(ROWS), args.server, args.rounds, args.markdown)
        return
    rows = []
    rounds = max(1, args.rounds)
    for name in args.only or list(ROWS):
        selection, what, goal = ROWS[name]
        cache_dir = Path(tempfile.mkdtemp(prefix="pgdrill-bench-cache-"))
        try:
            cold = grade(selection, cache_dir, args.server)
            warm = [grade(selection, cache_dir, args.server) for _ in range(rounds)]
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)
        for run in warm:
            if cold[1:] != run[1:]:
                raise SystemExit(f"{name}: a warm run scored {run[1]}/{run[2]}, the cold one {cold[1]}/{cold[2]}")
        runs = sorted(run[0] for run in warm)
        median = statistics.median(runs)
        rows.append(f"| {what} | {cold[0]:.1f} | {median:.1f} | {runs[0]:.1f}–{runs[-1]:.1f} | "
                    f"{cold[0] / median:.1f}× | ≤ {goal} | {'yes' if median <= goal else 'no'} | {cold[1]:g}/{cold[2]:g} |")
        print(rows[-1], flush=True)
    load = os.getloadavg()[0]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    publish([
        f"### Warm grading with the template cache — {when} (`python bench/warm_grading.py`)",
        "",
        f"Machine: {platform.node() or 'unknown'}, {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load:.1f} at the end; server: {args.server}; wall time of `grade.py solutions/ …`, "
        f"first run on an empty cache (cold: builds and caches), then {rounds} warm run{'s' if rounds != 1 else ''} (copy it); "
        f"{python_note()}",
        "",
        "| what | cold (s) | warm, median (s) | warm, fastest–slowest (s) | speed-up | goal warm (s) | met (median) "
        "| score (all runs) |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
        *rows,
    ], args.markdown)


if __name__ == "__main__":
    main()
