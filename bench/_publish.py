"""Shared by the bench scripts: print a section and append it to a Markdown results file."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path


def heading(title: str, script: str, machine: str) -> list[str]:
    """A section's first lines: the title with the time and the command, then the machine."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [f"### {title} — {stamp} (`python bench/{script}`)", "",
            f"Machine: {platform.node() or 'unknown'}, {platform.machine()}, {os.cpu_count()} cores; {machine}", ""]


def publish(lines: list[str], markdown: Path | None) -> None:
    text = "\n".join(lines) + "\n"
    print(text)
    if markdown:
        with open(markdown, "a") as fh:
            fh.write("\n" + text)


# ---------------------------------------------------------------- two ways of grading, compared
# A grading run: (wall seconds, seconds spent in checks, points per exercise).
Run = tuple[float, float, dict]


def grading_figures(out: Path, wall: float, failure: str) -> Run:
    """The figures of one grade.py run from its JSON report ``out`` (instructor audience)."""
    if not out.exists():
        raise SystemExit(failure)
    report = json.loads(out.read_text())
    checks = sum(c.get("duration_s", 0) for ex in report["exercises"] for c in ex["checks"])
    points = {ex["exercise"]: sum(c["points"] for c in ex["checks"]) for ex in report["exercises"]}
    return wall, checks, points


def alternate(sides: Sequence[tuple[str, Callable[[Path], Run]]], rounds: int, tmp: Path) -> dict[str, list[Run]]:
    """Each side once uncounted (it fills the template and page caches), then ``rounds`` rounds
    of every side in turn, so that a change in the machine's load falls on both sides."""
    for name, run in sides:
        print(f"warm-up: {name} {run(tmp / f'{name}-warm-up.json')[0]:.1f} s", file=sys.stderr, flush=True)
    runs: dict[str, list[Run]] = {name: [] for name, _ in sides}
    for i in range(rounds):
        for name, run in sides:
            runs[name].append(run(tmp / f"{name}-{i}.json"))
            print(f"round {i + 1}: {name} {runs[name][-1][0]:.1f} s", file=sys.stderr, flush=True)
    return runs


def comparison(runs: dict[str, list[Run]], rows: Sequence[tuple[str, str]], ratio: str) -> tuple[list[str], bool]:
    """The Markdown table of medians (yardstick first in ``rows``: (side, label)) and the ratio
    line of the second side to the first; and whether every run scored the same."""
    scores = {name: {json.dumps(r[2], sort_keys=True) for r in rs} for name, rs in runs.items()}
    wall = {name: statistics.median(r[0] for r in rs) for name, rs in runs.items()}
    checks = {name: statistics.median(r[1] for r in rs) for name, rs in runs.items()}

    def points(name: str) -> str:
        return " / ".join(f"{sum(json.loads(s).values()):g}" for s in sorted(scores[name]))

    lines = ["| code | grade.py run, wall (s) | fastest–slowest (s) | time in checks (s) | points |",
             "|---|---:|---:|---:|---:|"]
    for name, label in rows:
        fastest, slowest = min(r[0] for r in runs[name]), max(r[0] for r in runs[name])
        lines.append(f"| {label} | {wall[name]:.1f} | {fastest:.1f}–{slowest:.1f} | {checks[name]:.1f} | "
                     f"{points(name)} |")
    (base, _), (other, _) = rows[0], rows[1]
    lines += ["", f"Ratio ({ratio}): wall {wall[other] / wall[base]:.2f}, checks {checks[other] / checks[base]:.2f}."]
    same = len({frozenset(s) for s in scores.values()}) == 1
    return lines, same
