"""A model of GitHub Classroom's grading reporter, for the tests.

``classroom-resources/autograding-grading-reporter@v1`` is the last step of a Classroom
workflow. What it does with a runner's result, as read in its source (src/main.js,
src/notify-classroom.js, src/console-results.js, src/aggregate-results.js,
src/helpers/test-helpers.js):

* the ``runners`` input is split on commas; for each runner id it reads the environment
  variable ``<id trimmed, upper-cased>_RESULTS``, base64-decodes it and parses the JSON (a
  missing variable or bad JSON fails the step);
* the points Classroom records (the "Points N/M" notice) are the sum of every runner's
  ``tests[].score`` over the sum of their ``max_score``; a runner whose ``max_score`` is
  falsy is left out of both;
* the console prints each test's name, its ``message`` only when ``status`` is ``error``,
  and ``test_code`` whenever it is set; its per-runner line and its table compute
  (tests with status ``pass`` / tests) × ``max_score`` — not the recorded points;
* the step fails when a runner's ``status`` is ``fail`` or ``error``.

And what the operating system does first: the runner starts the reporter as a new process
with the variables in its environment, and Linux refuses (E2BIG, "Argument list too long")
an environment string longer than MAX_ARG_STRLEN = 32 pages = 131072 bytes, counting
``NAME=``, the value and the terminating NUL.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import dataclass, field

LINUX_MAX_ARG_STRLEN = 131_072


@dataclass
class ReporterOutcome:
    recorded_points: float            # what Classroom records: sum of tests[].score
    recorded_max: float               # … over the sum of max_score
    console_points: dict = field(default_factory=dict)  # runner -> (passed / tests) × max_score
    printed: list = field(default_factory=list)         # the lines the console shows
    job_failed: bool = False


def oversized(env: dict) -> list[str]:
    """The names of the variables Linux would refuse to pass to a new process."""
    return [name for name, value in env.items()
            if len(name.encode()) + 1 + len(value.encode()) + 1 > LINUX_MAX_ARG_STRLEN]


def run_reporter(runners: str, env: dict) -> ReporterOutcome:
    """What the reporter would record and print for ``runners`` given ``env``."""
    if oversized(env):
        raise OSError(7, "Argument list too long", ", ".join(oversized(env)))
    results = []
    for runner in runners.split(","):
        encoded = env[f"{runner.strip().upper()}_RESULTS"]
        results.append((runner, json.loads(base64.b64decode(encoded).decode("utf-8"))))
    out = ReporterOutcome(0, 0)
    for runner, data in results:
        tests = data["tests"]
        passed = sum(1 for t in tests if t["status"] == "pass")
        maximum = data.get("max_score") or 0
        out.console_points[runner] = (passed / len(tests)) * maximum if tests else float("nan")
        for t in tests:
            out.printed.append(t["name"])
            if t["status"] == "error":
                out.printed.append(t.get("message") or f"Failed to run test '{t['name']}'")
            if t.get("test_code"):
                out.printed.append(t["test_code"])
        if maximum:
            out.recorded_max += maximum
            out.recorded_points += sum(t.get("score", 0) for t in tests)
    out.job_failed = any(data["status"] in ("fail", "error") for _, data in results)
    return out


def start_child(env: dict, name: str) -> str:
    """Start a real process with ``env`` as its whole environment; return ``name`` as it saw it.

    Raises OSError (E2BIG) exactly when the kernel refuses the environment.
    """
    proc = subprocess.run(
        [sys.executable, "-c", "import os, sys; sys.stdout.write(os.environ[sys.argv[1]])", name],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    return proc.stdout
