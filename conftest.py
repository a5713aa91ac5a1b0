"""Shared pytest fixtures: a throwaway server per session, incident templates, fresh clones.

Options (declared by the plugin ``pgdrill.pytest_plugin``, which pyproject.toml loads with
``-p`` before any conftest.py, so that ``--submission DIR`` is read as an option — see there):
  --pg-server embedded|system|dsn   which PostgreSQL (default $PGDRILL_SERVER or embedded)
  --pg-dsn URI                      an existing server's superuser connection (with dsn)
  --pg-bindir DIR                   binaries for --pg-server system (default Debian's 15)
  --incident-scale S / --incident-seed N   the incident exercises are graded on
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pgdrill.fixtures.server import start_server
from pgdrill.fixtures.templates import FixtureKey, TemplateCache

_ROOT = Path(__file__).resolve().parent
HARNESS_TESTS = _ROOT / "tests"


def _grading_route_only(config) -> bool:
    """True for ``pytest exercises/ …`` (instructors grading), False for the test suite."""
    paths = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    exercises = _ROOT / "exercises"
    return bool(paths) and all(path == exercises or exercises in path.parents for path in paths)


def pytest_configure(config):
    # The test suite never touches the user's template cache: the session (and its xdist
    # workers, which inherit the environment) share one in a temp folder. Grading through
    # pytest (`pytest exercises/`) uses the user's cache like grade.py does.
    if os.environ.get("PYTEST_XDIST_WORKER") or "PGDRILL_CACHE_DIR" in os.environ or _grading_route_only(config):
        return
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="pgdrill-test-cache-")
    os.environ["PGDRILL_CACHE_DIR"] = folder

    def remove() -> None:
        os.environ.pop("PGDRILL_CACHE_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)

    config.add_cleanup(remove)


@pytest.fixture(scope="session")
def pg_server(request):
    """One throwaway PostgreSQL for the whole session, removed at the end."""
    opt = request.config.getoption
    server = start_server(opt("--pg-server"), dsn=opt("--pg-dsn"), bindir=opt("--pg-bindir"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def templates(pg_server):
    cache = TemplateCache(pg_server)
    try:
        yield cache
    finally:
        if pg_server.kind == "dsn":  # on a server we do not own, leave nothing behind
            cache.drop_templates()


@pytest.fixture(scope="session")
def incident_key(request) -> FixtureKey:
    opt = request.config.getoption
    return FixtureKey("techshop", opt("--incident-scale"), opt("--incident-seed"))


@pytest.fixture
def make_clone(templates, incident_key):
    """Factory: ``make_clone(scale=…, seed=…, fixture=…)`` returns a fresh clone, dropped after the test."""
    clones = []

    def make(fixture: str = "techshop", scale: float | None = None, seed: int | None = None, **kwargs):
        key = FixtureKey(fixture, scale if scale is not None else incident_key.scale,
                         seed if seed is not None else incident_key.seed)
        clone = templates.clone(key, **kwargs)
        clones.append(clone)
        return clone

    yield make
    for clone in clones:
        clone.drop()


@pytest.fixture
def incident(make_clone):
    """A fresh clone of the TechShop incident at the session's scale and seed."""
    return make_clone()


@pytest.fixture(scope="session")
def grader(pg_server, templates, incident_key):
    """A Grader on the session's server, grading at the session's scale and seed."""
    from pgdrill.grading import Grader, GradingOptions

    return Grader(pg_server, templates, GradingOptions(scale=incident_key.scale, seed=incident_key.seed))


@pytest.fixture
def grade(grader, tmp_path):
    """``grade(exercise_id, files, seed=None, scale=None) -> ExerciseResult``.

    ``files`` is a folder, or a dict {relative path: text} written to a temp folder; ``seed``
    is the grading seed (default: the session's --incident-seed).
    """
    from pgdrill import checks
    from pgdrill.grading import EXERCISES_DIR, Grader, GradingOptions
    from pgdrill.spec import load_spec

    def run(exercise_id, files, seed=None, scale=None):
        spec = load_spec(EXERCISES_DIR / exercise_id / "exercise.yaml", checks.load_all())
        if isinstance(files, dict):
            folder = tmp_path / f"sub-{exercise_id}-{len(list(tmp_path.iterdir()))}"
            folder.mkdir()
            for rel, text in files.items():
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_text(text)
            files = folder
        g = grader
        if seed is not None or scale is not None:
            g = Grader(grader.server, grader.templates, GradingOptions(
                scale=scale if scale is not None else grader.options.scale,
                seed=seed if seed is not None else grader.options.seed))
        return g.grade_exercise(spec, Path(files))

    return run


# ---------------------------------------------------------------------------------------
# Exercise specs as pytest items: `pytest exercises/ [--submission DIR] [-k check-id]`
# grades too. Each check of each exercise.yaml is one test item; the exercise is graded once
# (on its own clone) when its first item runs, and every item reports its own check.

# What one pytest run keeps for grading through exercise items: the grader (started on first
# use) and every collected spec (whose starting states are put in the cache first).
GRADER_KEY = pytest.StashKey["object"]()
SPECS_KEY = pytest.StashKey[list]()


def pytest_collect_file(parent, file_path):
    # Only real exercises (exercises/<id>/exercise.yaml), not the spec fixtures under tests/ (the
    # toy fixture kind's exercise there names a kind only its own test registers).
    is_test_data = HARNESS_TESTS in file_path.resolve().parents
    if file_path.name == "exercise.yaml" and file_path.parent.parent.name == "exercises" and not is_test_data:
        return ExerciseFile.from_parent(parent, path=file_path)
    return None


def _grader(config):
    """One grading session per pytest run, started on first use and stopped at exit."""
    grader = config.stash.get(GRADER_KEY, None)
    if grader is None:
        from pgdrill.grading import Grader, GradingOptions

        from pgdrill.fixtures.cache import ClusterCache, cache_disabled
        from pgdrill.grading import start_grading_server

        opt = config.getoption
        options = GradingOptions(scale=opt("--grade-scale"), seed=opt("--grade-seed"))
        specs = config.stash.get(SPECS_KEY, [])
        server = start_grading_server(specs, options, kind=opt("--pg-server"), dsn=opt("--pg-dsn"),
                                      bindir=opt("--pg-bindir"), cache=None if cache_disabled() else ClusterCache())
        config.add_cleanup(server.stop)
        grader = Grader(server, options=options)
        config.stash[GRADER_KEY] = grader
    return grader


class ExerciseFile(pytest.File):
    def collect(self):
        from pgdrill import checks
        from pgdrill.spec import load_spec

        spec = load_spec(self.path, checks.load_all())
        self.spec = spec
        # Every collected spec's starting state is put in the cache before the first is graded.
        self.config.stash.setdefault(SPECS_KEY, []).append(spec)
        for chk in spec.checks:
            yield CheckItem.from_parent(self, name=f"{spec.id}::{chk.id}", check_id=chk.id)

    def graded(self):
        if not hasattr(self, "_result"):
            from pgdrill.grading import submission_dir_for

            from pgdrill.submission import folder_and_root

            submission = self.config.getoption("--submission")
            folder, root = folder_and_root(submission) if submission else (self.path.parent.parent,) * 2
            files_dir = submission_dir_for(folder, self.spec, single=False)
            self._result = _grader(self.config).grade_exercise(self.spec, files_dir, root)
        return self._result


class CheckFailed(Exception):
    pass


class CheckItem(pytest.Item):
    def __init__(self, *, check_id, **kwargs):
        super().__init__(**kwargs)
        self.check_id = check_id
        spec_check = self.parent.spec.get_check(check_id)
        self.add_marker(getattr(pytest.mark, spec_check.check))
        self.user_properties.append(("points", spec_check.points))

    def runtest(self):
        result = self.parent.graded()
        check = next(c for c in result.checks if c.check_id == self.check_id)
        self.user_properties.append(("score", check.points))
        if check.status.value != "passed":
            raise CheckFailed(check)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CheckFailed):
            from pgdrill.report import ExerciseResult, GradeReport
            from pgdrill.render import render

            check = excinfo.value.args[0]
            # with the exercise's statement problems: a file that was not read says why here
            statements = self.parent.graded().statements
            one = GradeReport(submission="", exercises=(ExerciseResult(check.exercise, "", (check,), statements),))
            return render(one, "text", audience="instructor")
        return super().repr_failure(excinfo)

    def reportinfo(self):
        # pytest counts lines from 0; the spec's are 1-based (the line of the check's entry)
        return self.path, max(self.parent.spec.get_check(self.check_id).line - 1, 0), f"{self.name}"
