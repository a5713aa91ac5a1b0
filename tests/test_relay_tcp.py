"""An existing server reached over TCP (``--server dsn``): the learner's sessions still pass the
relay, which then speaks TCP to the server with ``sslmode=disable`` on that loopback link.

The other relay tests use our own clusters, reached by unix socket. Here a throwaway cluster
listens on 127.0.0.1 and is used only through a ``postgresql://…@127.0.0.1`` URI, as an
instructor's existing server would be: a course exercise grades at full marks through it, and
a learner's named query whose row is over the cap fails with SQLSTATE 54000 while the rest of
the file runs.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from pgdrill.fixtures.server import PORT, start_server
from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR, Grader, GradingOptions
from pgdrill.report import Status
from pgdrill.spec import load_spec

EXERCISE = "course-02-querying"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def tcp_dsn(request):
    """A URI of a throwaway cluster listening on 127.0.0.1 only, stopped and removed after."""
    if request.config.getoption("--pg-server") == "dsn":
        pytest.skip("the suite already runs against an existing server")
    if not _port_free(PORT):
        pytest.skip(f"127.0.0.1:{PORT} is taken; this test listens there")
    own = start_server(request.config.getoption("--pg-server"), bindir=request.config.getoption("--pg-bindir"),
                       settings={"listen_addresses": "'127.0.0.1'"})
    try:
        assert own.data_dir is not None
        hba = Path(own.data_dir) / "pg_hba.conf"
        # loopback TCP for every role, beside the unix-socket lines the cluster was made with
        hba.write_text(hba.read_text() + "host all all 127.0.0.1/32 trust\n")
        with own.connect() as conn:
            conn.execute("SELECT pg_catalog.pg_reload_conf()")
        yield f"postgresql://{own.superuser}@127.0.0.1:{PORT}/postgres"
    finally:
        own.stop()


@pytest.fixture(scope="module")
def tcp_grader(tcp_dsn):
    server = start_server("dsn", dsn=tcp_dsn)
    try:
        yield Grader(server, options=GradingOptions())
    finally:
        server.stop()


@pytest.fixture
def relay_targets(monkeypatch):
    """Where each learner session's relay connected (the real relay, watched, not replaced)."""
    from pgdrill import relay

    seen: list = []
    real = relay.Relay.for_server.__func__

    def watched(cls, server, dbname):
        made = real(cls, server, dbname)
        seen.append(made.target)
        return made

    monkeypatch.setattr(relay.Relay, "for_server", classmethod(watched))
    return seen


def test_grading_through_a_server_reached_over_tcp(tcp_grader, relay_targets, tmp_path):
    """One test, not two: each pytest-xdist worker would start its own listener on the port."""
    spec = load_spec(EXERCISES_DIR / EXERCISE / "exercise.yaml")
    # the reference, at full marks, every learner session relayed over TCP
    result = tcp_grader.grade_exercise(spec, SOLUTIONS_DIR / EXERCISE)
    assert relay_targets and set(relay_targets) == {("127.0.0.1", PORT)}, relay_targets
    assert result.error == ""
    assert result.points == result.max_points, [(c.check_id, c.message) for c in result.checks
                                                  if c.status is not Status.PASSED]
    assert result.statements and all(s.status == "ok" for s in result.statements)

    # two MiB in one row of a named query: cancelled on the server, 54000, the rest runs
    files = tmp_path / EXERCISE
    shutil.copytree(SOLUTIONS_DIR / EXERCISE, files)
    sql = next(p for p in sorted(files.glob("*.sql")))
    sql.write_text("-- name: one_huge_row\nSELECT repeat('x', 2 * 1024 * 1024) AS v;\n"
                   "-- name: after_it\nSELECT 1 AS one;\n" + sql.read_text())
    result = tcp_grader.grade_exercise(spec, files)
    huge = [s for s in result.statements if "repeat('x'" in s.sql]
    assert len(huge) == 1 and huge[0].status == "error" and huge[0].sqlstate == "54000", huge
    assert "larger than 1 MiB" in huge[0].message
    after = [s for s in result.statements if s.sql.strip().startswith("SELECT 1 AS one")]
    assert after and after[0].status == "ok"
    # the exercise's own queries, after the refused one, still earn every point
    assert result.points == result.max_points
