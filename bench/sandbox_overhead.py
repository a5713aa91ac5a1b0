#!/usr/bin/env python3
"""What the learner-program sandbox and the read caps cost: grading before and after, one run.

    python bench/sandbox_overhead.py [--base REV | --without-bubblewrap] [--rounds 2] [--scale 0.1]
                                     [-e EXERCISE]… [--markdown bench/results.md]

The yardstick is the same grading with the code of ``--base`` (default: where this branch
left ``main``), exported with ``git archive`` into a temp folder — or, with
``--without-bubblewrap``, this very tree with bubblewrap hidden (a ``bwrap`` on the front of
``PATH`` that refuses to start) and ``--allow-unsandboxed-programs``, so that the only
difference between the two sides is the sandbox itself. A course that has grown since
``--base`` cannot be compared that way; the same code with and without the sandbox can. Both grade the reference
solutions — of the whole course, or of the ``-e`` exercises (say, only those with backup and
restore scripts, which now run in bubblewrap, log in as a role made for the run, and have
the grader's restore sandboxed too) — alternately, ``--rounds`` times each; medians are
compared. The scores must be the same both ways. Run as root (the sandbox needs it) with
bubblewrap installed.
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

def export(rev: str, into: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def grade(tree: Path, scale: float, out: Path, exercises, no_bwrap_dir: Path | None = None
          ) -> Run:
    """(wall seconds, seconds spent in checks, points per exercise) of one grade.py run."""
    args = [sys.executable, str(tree / "grade.py"), str(tree / "solutions"), "--scale", str(scale),
            "--format", "json", "--audience", "instructor", "--out", str(out)]
    for exercise in exercises:
        args += ["-e", exercise]
    env = dict(os.environ)
    if no_bwrap_dir is not None:
        args.append("--allow-unsandboxed-programs")
        env["PATH"] = f"{no_bwrap_dir}{os.pathsep}{env.get('PATH', '')}"
    started = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, cwd=tree, timeout=1800, env=env)
    return grading_figures(out, time.monotonic() - started,
                           f"{tree}: grade.py wrote no report (exit {proc.returncode}): {proc.stderr[-2000:]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", help="git revision of the yardstick (default: merge-base of HEAD and main)")
    ap.add_argument("--without-bubblewrap", action="store_true",
                    help="yardstick: this tree with bubblewrap hidden and --allow-unsandboxed-programs")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--exercise", "-e", action="append", default=[], help="only these (default: the whole course)")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args()
    base = args.base or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], capture_output=True,
                                       text=True, check=True).stdout.strip()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pgdrill-bench-sandbox-") as tmp:
        no_bwrap_dir = None
        if args.without_bubblewrap:
            base_tree = ROOT
            no_bwrap_dir = Path(tmp) / "no-bwrap"
            no_bwrap_dir.mkdir()
            (no_bwrap_dir / "bwrap").write_text("#!/bin/sh\necho 'bubblewrap hidden by the benchmark' >&2\nexit 1\n")
            (no_bwrap_dir / "bwrap").chmod(0o755)
        else:
            base_tree = Path(tmp) / "base"
            base_tree.mkdir()
            export(base, base_tree)
        runs = alternate([(name, lambda out, tree=tree, hide=hide: grade(tree, args.scale, out, args.exercise, hide))
                          for name, tree, hide in (("base", base_tree, no_bwrap_dir), ("sandbox", ROOT, None))],
                         args.rounds, Path(tmp))
    yardstick = "this tree, bubblewrap hidden" if args.without_bubblewrap else base[:7]
    table, same = comparison(runs, [("base", f"yardstick: {yardstick} (no sandbox)"),
                                    ("sandbox", f"{head} (bubblewrap, per-run roles, caps)")], "after / before")
    lines = heading(
        "Learner-program sandbox and read caps: grading before and after", "sandbox_overhead.py",
        f"shared; embedded server; scale {args.scale:g}; reference solutions of "
        f"{', '.join(args.exercise) if args.exercise else 'the whole course'}; "
        f"median of {args.rounds} alternating runs each, after one warm-up run each; "
        f"load average {load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end") + table
    publish(lines, args.markdown)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
