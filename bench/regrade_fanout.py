#!/usr/bin/env python3
"""Class regrade fanned out: time per chunk and of the merge, beside one machine's batch.

    python bench/regrade_fanout.py [--students 12] [--chunks 3] [--exercise demo-first-fix] [--scale 0.1]
                                   [--markdown bench/results.md]

The class is made of git repositories (reference, starter, half-done, empty in turn) and a
roster, as the regrade workflow sees them. The yardstick is one `grade.py --batch` of the
whole class with one worker. Then autograder/regrade/regrade-chunk.sh runs once per chunk
with one worker each (what one job of the workflow's matrix does: clone its share, start a
server, build the templates, grade) and `grade.py gradebook merge` joins them. On GitHub
Actions the chunks run at the same time on separate machines, so the regrade's wall time is
about the slowest chunk plus the merge; here they run one after the other on one shared
machine, and the table says so. Both gradebooks are compared: they must be equal.
"""

from __future__ import annotations

import argparse
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

KINDS = ("reference", "starter", "half", "empty")


def make_class(root: Path, exercise: str, students: int) -> tuple[Path, Path]:
    """Students' git repositories under root/repos/course/, the same folders under
    root/submissions/, and root/roster.csv."""
    env = dict(os.environ, GIT_AUTHOR_NAME="s", GIT_AUTHOR_EMAIL="s@example.invalid",
               GIT_COMMITTER_NAME="s", GIT_COMMITTER_EMAIL="s@example.invalid")
    rows = ["folder,repo,student_id,email,name"]
    for i in range(students):
        name, kind = f"student-{i:03d}", KINDS[i % len(KINDS)]
        repo = root / "repos" / "course" / name
        target = repo / "exercises" / exercise
        target.mkdir(parents=True)
        if kind != "empty":
            source = ROOT / ("solutions" if kind in ("reference", "half") else "exercises") / exercise
            shutil.copyfile(source / "solution.sql", target / "solution.sql")
            if kind == "half":
                lines = (target / "solution.sql").read_text().splitlines(keepends=True)
                (target / "solution.sql").write_text("".join(lines[: len(lines) // 2]))
        (target / ".keep").write_text("")
        for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "work"]):
            subprocess.run(["git", *cmd], cwd=repo, check=True, env=env, capture_output=True)
        shutil.copytree(repo, root / "submissions" / name, ignore=shutil.ignore_patterns(".git"))
        rows.append(f"{name},course/{name},{1000 + i},{name}@uni.example,Student {i}")
    (root / "roster.csv").write_text("\n".join(rows) + "\n")
    return root / "submissions", root / "roster.csv"


def timed(cmd: list[str], **kw) -> float:
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.monotonic() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=12)
    ap.add_argument("--chunks", type=int, default=3)
    ap.add_argument("--exercise", default="demo-first-fix")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args()
    grade_py = [sys.executable, str(ROOT / "grade.py")]
    work = Path(tempfile.mkdtemp(prefix="pgdrill-bench-regrade-"))
    try:
        submissions, roster = make_class(work, args.exercise, args.students)
        options = ["-e", args.exercise, "--scale", str(args.scale), "--seed", "1"]
        single = timed([*grade_py, "--batch", str(submissions), "--workers", "1", "--roster", str(roster),
                        "--out", str(work / "single"), *options], cwd=ROOT)
        print(f"one batch: {single:.1f} s", flush=True)
        env = dict(os.environ, PGDRILL_CLONE_BASE=f"file://{work}/repos/", PGDRILL_GRADE_PY=str(ROOT / "grade.py"),
                   PYTHON=sys.executable, PGDRILL_EXERCISES=args.exercise, PGDRILL_WORKERS="1",
                   PGDRILL_SCALE=str(args.scale), PGDRILL_GRADING_SEED="1")
        chunks = []
        for i in range(1, args.chunks + 1):
            chunks.append(timed(["bash", str(ROOT / "autograder" / "regrade" / "regrade-chunk.sh"), str(roster), str(i),
                                 str(args.chunks), str(work / f"chunk-{i}")], env=env, cwd=work))
            print(f"chunk {i}: {chunks[-1]:.1f} s", flush=True)
        merge = timed([*grade_py, "gradebook", "merge", *[str(work / f"chunk-{i}") for i in range(1, args.chunks + 1)],
                       "-e", args.exercise, "--roster", str(roster), "--out", str(work / "merged")], cwd=ROOT)
        equal = all((work / "merged" / f).read_text() == (work / "single" / f).read_text()
                    for f in ("gradebook.csv", "checks.csv", "canvas.csv", "moodle.csv"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per = args.students / args.chunks
    lines = [
        f"### Class regrade fanned out — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"(`python bench/regrade_fanout.py`)",
        "",
        f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores (shared); exercise "
        f"{args.exercise} at scale {args.scale:g}; {args.students} students (reference, starter, half-done, empty "
        f"in turn) as git repositories; {args.chunks} chunks of about {per:.1f}; one worker everywhere",
        "",
        "| run | students | seconds | seconds / student |",
        "|---|---:|---:|---:|",
        f"| one batch on one machine (yardstick) | {args.students} | {single:.1f} | {single / args.students:.2f} |",
    ]
    for i, seconds in enumerate(chunks, 1):
        lines.append(f"| chunk {i} (clone, start a server, build, grade) | {per:.0f} | {seconds:.1f} | "
                     f"{seconds / per:.2f} |")
    lines += [
        f"| merge of {args.chunks} chunks | {args.students} | {merge:.1f} | {merge / args.students:.3f} |",
        f"| fanned out on {args.chunks} machines (slowest chunk + merge) | {args.students} | "
        f"{max(chunks) + merge:.1f} | {(max(chunks) + merge) / args.students:.2f} |",
        "",
        f"Speed-up over one machine: {single / (max(chunks) + merge):.2f}× with {args.chunks} jobs "
        f"(median chunk {statistics.median(chunks):.1f} s; each chunk pays its own server start and template "
        f"build, which the template cache shortens on Actions). Merged gradebook equal to the single batch: "
        f"{'yes' if equal else 'NO'}.",
    ]
    publish(lines, args.markdown)
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
