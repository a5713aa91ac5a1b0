#!/usr/bin/env python3
"""Grading the whole capstone for one submission: template clones vs rebuilding per exercise.

    python bench/grade_capstone.py [--scale 1] [--server embedded|system] [--markdown bench/results.md]

Two ways, each in its own child process so that time and peak memory (max RSS, read from
wait4) belong to that way alone:

- ``cached``  — pgdrill's way: the incident template is built once, every exercise grades on a
  fresh ``CREATE DATABASE … TEMPLATE`` clone;
- ``naive``   — the yardstick: the incident is rebuilt from scratch for every exercise.

Both grade the reference solutions (``solutions/``) of every ``techshop-*`` exercise with the
same seed, and both must score the same: the bench fails loudly if they do not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _publish import publish  # noqa: E402  (bench/ is on sys.path as the script's folder)


def child(mode: str, scale: float, server_kind: str) -> None:
    from pgdrill import checks
    from pgdrill.fixtures.server import start_server
    from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR, Grader, GradingOptions
    from pgdrill.spec import load_spec

    specs = [load_spec(p, checks.load_all()) for p in sorted(EXERCISES_DIR.glob("techshop-*/exercise.yaml"))]
    specs.sort(key=lambda s: s.sort_key)
    started = time.monotonic()
    points = 0.0
    max_points = 0.0
    with start_server(server_kind) as server:
        grader = Grader(server, options=GradingOptions(scale=scale, seed=42))
        for spec in specs:
            if mode == "naive":
                grader.templates.drop_templates()  # forget and drop: the next clone rebuilds
            result = grader.grade_exercise(spec, SOLUTIONS_DIR / spec.id)
            points += result.points
            max_points += result.max_points
    print(json.dumps({"seconds": time.monotonic() - started, "exercises": len(specs),
                      "points": points, "max_points": max_points}))


def run_child(mode: str, args) -> dict:
    proc = subprocess.Popen([sys.executable, __file__, "--child", mode, "--scale", str(args.scale),
                             "--server", args.server], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{mode} run failed")
    data = json.loads(out.strip().splitlines()[-1])
    data["max_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    return data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--server", default="embedded", choices=("embedded", "system"))
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--child", choices=("cached", "naive"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.scale, args.server)
        return 0
    cached = run_child("cached", args)
    naive = run_child("naive", args)
    if (cached["points"], cached["max_points"]) != (naive["points"], naive["max_points"]):
        raise SystemExit(f"the two ways scored differently: {cached} vs {naive}")
    lines = [
        f"### Grading the capstone for one submission — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
        "(`python bench/grade_capstone.py`)",
        "",
        f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores; server: {args.server}; "
        f"scale {args.scale:g}; {cached['exercises']} exercises; score {cached['points']:g}/{cached['max_points']:g} "
        "both ways",
        "",
        "| way | total (s) | per exercise (s) | grader peak RSS (MB) |",
        "|---|---:|---:|---:|",
        f"| template clone per exercise (pgdrill) | {cached['seconds']:.1f} | "
        f"{cached['seconds'] / max(1, cached['exercises']):.2f} | {cached['max_rss_mb']:.0f} |",
        f"| rebuild the incident per exercise (naive) | {naive['seconds']:.1f} | "
        f"{naive['seconds'] / max(1, naive['exercises']):.2f} | {naive['max_rss_mb']:.0f} |",
        "",
        f"Speed-up: {naive['seconds'] / cached['seconds']:.1f}× (peak RSS is the grader's Python process; "
        "the server's memory is PostgreSQL's shared_buffers).",
    ]
    publish(lines, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
