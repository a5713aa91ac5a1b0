"""pgdrill's pytest options, as a plugin loaded with ``-p pgdrill.pytest_plugin`` (pyproject.toml).

Why not in conftest.py: pytest parses the command line once *before* it reads any
conftest.py, to find the initial test paths — and loads the ``conftest.py`` of each of them.
An option declared only in conftest.py is unknown then, so in ``pytest exercises/
--submission DIR`` (the space form) ``DIR`` counts as a test path and ``DIR/conftest.py`` —
the learner's file — is imported and run as the instructor. Declared by a plugin that ``-p``
loads first, the option takes its value and DIR is never a test path. Without this plugin
the options do not exist and pytest stops with "unrecognized arguments": it fails closed.
"""

from __future__ import annotations

import os


def pytest_addoption(parser):
    group = parser.getgroup("pgdrill")
    group.addoption("--pg-server", default=os.environ.get("PGDRILL_SERVER", "embedded"),
                    choices=("embedded", "system", "dsn"), help="PostgreSQL to run against")
    group.addoption("--pg-dsn", default=os.environ.get("PGDRILL_DSN"), help="superuser URI for --pg-server dsn")
    group.addoption("--pg-bindir", default=os.environ.get("PGDRILL_PG_BINDIR"), help="binaries for --pg-server system")
    group.addoption("--incident-scale", type=float, default=float(os.environ.get("PGDRILL_SCALE", "0.1")),
                    help="scale of the TechShop incident used by tests and graded exercises")
    group.addoption("--incident-seed", type=int, default=int(os.environ.get("PGDRILL_SEED", "1")),
                    help="seed of the TechShop incident")
    group.addoption("--submission", default=None,
                    help="when collecting exercises/*/exercise.yaml: the submission to grade "
                         "(default: the exercise folders themselves, i.e. the learner's own files)")
    group.addoption("--grade-scale", type=float, default=None, help="override the exercises' incident scale")
    group.addoption("--grade-seed", type=int, default=None, help="seed for exercises graded on a hidden seed")


def pytest_configure(config):
    # Each check of an exercise.yaml collected as a test item carries a marker named after its
    # check function (`pytest exercises/ -m rows_match`): registered here, so that pytest knows
    # them (no PytestUnknownMarkWarning, and `--strict-markers` passes).
    from pgdrill import checks

    for name, definition in sorted(checks.load_all().items()):
        summary = (definition.func.__doc__ or "").strip().splitlines()[0] if definition.func.__doc__ else ""
        config.addinivalue_line("markers", f"{name}: an exercise check graded by {name}. {summary}".rstrip())
