"""Shared pytest fixtures: a throwaway server per session, incident templates, fresh clones.

Options:
  --pg-server embedded|system|dsn   which PostgreSQL (default $PGDRILL_SERVER or embedded)
  --pg-dsn URI                      an existing server's superuser connection (with dsn)
  --pg-bindir DIR                   binaries for --pg-server system (default Debian's 15)
  --incident-scale S / --incident-seed N   the incident exercises are graded on
"""

from __future__ import annotations

import os

import pytest

from fixtures.server import start_server
from fixtures.templates import FixtureKey, TemplateCache


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
