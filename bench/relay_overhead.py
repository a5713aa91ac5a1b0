#!/usr/bin/env python3
"""What the learner session's relay costs: the same grading with and without it, one run.

    python bench/relay_overhead.py [--rounds 3] [--scale 0.1] [-e EXERCISE]… [--markdown bench/results.md]

Every learner session reaches the server through ``pgdrill.relay`` (a thread per direction
that reads the server's messages and caps what reaches the grader). The yardstick is this very
tree with the relay replaced, in the grading process only, by a direct connection — a stand-in
that exists in this script and nowhere in the product. Both sides start the same way (this
script re-runs itself as the grader's launcher) and grade the reference solutions of the
whole course, or of the ``-e`` exercises, alternately, ``--rounds`` times each, after one
uncounted warm-up run each; medians are compared. The scores must be the same both ways.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _publish import Run, alternate, comparison, grading_figures, heading, publish  # noqa: E402  (bench/ is on sys.path as the script's folder)


def _without_relay() -> None:
    """Give every learner session a direct connection (the yardstick side only)."""
    from pgdrill import relay as wire

    class Direct:
        def __init__(self) -> None:
            self.stats = wire.Stats()

        def params(self) -> dict:
            return {}

        def begin(self, named: bool) -> wire.Stats:
            self.stats = wire.Stats(named=named, row_bytes=wire.ROW_BYTES, total_bytes=wire.TOTAL_BYTES)
            return self.stats

        def close(self) -> None:
            pass

    wire.Relay.for_server = classmethod(lambda cls, server, dbname: Direct())  # type: ignore[assignment,method-assign]


def child(direct: bool, argv: list[str]) -> int:
    if direct:
        _without_relay()
    from pgdrill.cli import main

    return main(argv)


def grade(direct: bool, scale: float, out: Path, exercises) -> Run:
    """(wall seconds, seconds spent in checks, points per exercise) of one grading."""
    args = [sys.executable, str(Path(__file__).resolve()), "--child"] + (["--direct"] if direct else []) + [
        "--", str(ROOT / "solutions"), "--scale", str(scale), "--format", "json", "--audience", "instructor",
        "--out", str(out)]
    for exercise in exercises:
        args += ["-e", exercise]
    started = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    return grading_figures(out, time.monotonic() - started,
                           f"the grader wrote no report (exit {proc.returncode}): {proc.stderr[-2000:]}")


def main() -> int:
    if "--child" in sys.argv:
        rest = sys.argv[sys.argv.index("--") + 1:]
        return child("--direct" in sys.argv[:sys.argv.index("--")], rest)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--exercise", "-e", action="append", default=[], help="only these (default: the whole course)")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pgdrill-bench-relay-") as tmp:
        runs = alternate([(name, lambda out, direct=direct: grade(direct, args.scale, out, args.exercise))
                          for name, direct in (("direct", True), ("relay", False))], args.rounds, Path(tmp))
    table, same = comparison(runs, [("direct", f"yardstick: {head}, learner sessions connected directly"),
                                    ("relay", f"{head}, learner sessions through the relay")], "relay / direct")
    lines = heading(
        "The learner session's relay: grading with and without it", "relay_overhead.py",
        f"embedded server; scale {args.scale:g}; reference solutions of "
        f"{', '.join(args.exercise) if args.exercise else 'the whole course'}; median of {args.rounds} alternating "
        f"runs each, after one warm-up run each; load average {load_at_start:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end") + table
    publish(lines, args.markdown)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
