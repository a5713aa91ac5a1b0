"""The throwaway server: private, configured for the incident, and gone afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from pgdrill.fixtures.server import INCIDENT_SETTINGS, REMOVING_PREFIX, Server, _runtime_root, reap_stale_clusters, start_server

ROOT = Path(__file__).resolve().parents[1]


def _postmaster_pid(base: Path) -> int:
    return int((base / "data" / "postmaster.pid").read_text().split()[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def _wait_gone(pid: int, base: Path, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid) and not base.exists():
            return True
        time.sleep(0.2)
    return False


def test_server_has_the_incident_settings(pg_server):
    if pg_server.kind == "dsn":
        pytest.skip("an existing server keeps its own configuration")
    with pg_server.connect() as conn:
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_catalog.pg_settings WHERE name = ANY(%s)",
            (["shared_preload_libraries", "track_commit_timestamp", "logging_collector",
              "max_connections", "listen_addresses", "log_min_duration_statement", "temp_file_limit",
              "maintenance_work_mem", "autovacuum_work_mem", "max_parallel_maintenance_workers"],),
        ).fetchall())
    assert settings["shared_preload_libraries"] == "pg_stat_statements"
    assert settings["track_commit_timestamp"] == "on"
    assert settings["logging_collector"] == "on"
    assert int(settings["max_connections"]) == int(INCIDENT_SETTINGS["max_connections"])
    assert settings["listen_addresses"] == ""  # no TCP at all
    assert int(settings["log_min_duration_statement"]) > 0
    # More than PostgreSQL's 64 MB: room for an index build's leader and two parallel workers
    # (32 MB each); autovacuum keeps the default's 64 MB.
    assert int(settings["maintenance_work_mem"]) >= 3 * 32 * 1024
    assert int(settings["max_parallel_maintenance_workers"]) >= 1
    assert int(settings["autovacuum_work_mem"]) == 64 * 1024


def test_socket_directory_is_private_and_server_is_not_root(pg_server):
    if pg_server.kind == "dsn":
        pytest.skip("not our cluster")
    mode = pg_server.socket_dir.stat().st_mode & 0o777
    assert mode == 0o700
    pid = _postmaster_pid(pg_server.base_dir)
    uid = int(next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("Uid:")).split()[1])
    assert uid != 0, "PostgreSQL must run as an unprivileged user"
    assert uid == pg_server.socket_dir.stat().st_uid


def test_connection_burst_is_refused_and_logged(pg_server):
    """max_connections is low on purpose: past it the server refuses, and the log says so."""
    if pg_server.kind == "dsn":
        pytest.skip("not our cluster")
    conns, refused = [], None
    try:
        for _ in range(int(INCIDENT_SETTINGS["max_connections"]) + 5):
            try:
                conns.append(psycopg.connect(**pg_server.connect_params("postgres")))
            except psycopg.OperationalError as exc:
                refused = str(exc)
                if "too many clients" in refused or "remaining connection slots" in refused:
                    break
    finally:
        for conn in conns:
            conn.close()
    assert refused is not None and "too many clients" in refused
    deadline = time.monotonic() + 10
    while "too many clients" not in pg_server.read_log() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "too many clients" in pg_server.read_log()


def test_stop_removes_everything(tmp_path):
    server = start_server("embedded")
    base, pid = server.base_dir, _postmaster_pid(server.base_dir)
    assert _alive(pid)
    server.stop()
    assert not base.exists()
    assert _wait_gone(pid, base, 10)
    server.stop()  # idempotent


def test_stop_can_leave_the_removal_to_a_process_of_its_own():
    server = start_server("embedded")
    base, pid = server.base_dir, _postmaster_pid(server.base_dir)
    server.stop(remove_in_background=True)
    assert not base.exists() and not _alive(pid)  # stopped, and its folder moved aside at once
    trash = base.with_name(f"{REMOVING_PREFIX}{base.name}")
    deadline = time.monotonic() + 30
    while trash.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not trash.exists()


def test_a_cluster_left_where_clusters_went_before_is_reaped_too(tmp_path, monkeypatch):
    """runtime_parent may choose /tmp one day and /var/tmp another ($TMPDIR, a moved cache):
    a cluster whose grader died in the other folder is reaped all the same."""
    import pgdrill.fixtures.server as server_module

    other = tmp_path / "var-tmp"
    monkeypatch.setattr(server_module, "VAR_TMP", other)
    assert server_module.runtime_parent() != other  # clusters go elsewhere now
    stale = other / f"{server_module.RUNTIME_ROOT_NAME}-{os.geteuid()}" / f"cluster-test-{os.getpid()}"
    (stale / "data").mkdir(parents=True)
    (stale / "owner.json").write_text(json.dumps({"pid": 2**22 + 1, "start": "0"}))  # no such process
    assert stale in reap_stale_clusters()
    assert not stale.exists()


def test_a_removal_in_the_background_that_died_is_finished_by_the_next_session():
    trash = _runtime_root() / f"{REMOVING_PREFIX}cluster-test-{os.getpid()}"
    (trash / "data").mkdir(parents=True)
    (trash / "data" / "PG_VERSION").write_text("18\n")
    assert trash not in reap_stale_clusters()  # a removal that may still be under way
    os.utime(trash, (time.time() - 120, time.time() - 120))
    assert trash in reap_stale_clusters()
    assert not trash.exists()


def test_failed_start_leaves_nothing(monkeypatch):
    before = set(_runtime_root().glob("cluster-*"))
    server = Server(kind="embedded", settings={"shared_buffers": "'not a size'"})
    with pytest.raises(Exception):
        server.start()
    assert server.base_dir is None

    # Other processes (the other xdist worker) start clusters in the same folder meanwhile:
    # only ours must be gone.
    def ours(base: Path) -> bool:
        try:
            return json.loads((base / "owner.json").read_text())["pid"] == os.getpid()
        except (OSError, ValueError, KeyError):
            return False

    assert not [base for base in set(_runtime_root().glob("cluster-*")) - before if ours(base)]


def test_killed_grader_leaves_no_cluster(tmp_path):
    """SIGKILL runs no cleanup: the watchdog must stop the cluster and remove its files."""
    script = tmp_path / "grader.py"
    script.write_text(textwrap.dedent(f"""
        import json, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pgdrill.fixtures.server import start_server
        s = start_server("embedded")
        print(json.dumps({{"base": str(s.base_dir)}}), flush=True)
        time.sleep(600)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        base = Path(info["base"])
        pid = _postmaster_pid(base)
        assert _alive(pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert _wait_gone(pid, base, 30), "cluster survived its killed owner"


def test_stale_cluster_is_reaped(tmp_path):
    """A cluster whose owner died before any watchdog ran is reaped by the next session."""
    server = start_server("embedded")
    base, pid = server.base_dir, _postmaster_pid(server.base_dir)
    # Forget the watchdog and pretend the owner was a process that no longer exists.
    server._watchdog.kill()
    server._watchdog.wait()
    owner = json.loads((base / "owner.json").read_text())
    owner.update(pid=2**22 - 1, start="0")
    (base / "owner.json").write_text(json.dumps(owner))
    assert base in reap_stale_clusters()
    assert _wait_gone(pid, base, 10)


def test_system_binaries_work_too():
    bindir = Path(os.environ.get("PGDRILL_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
    if not (bindir / "postgres").exists():
        pytest.skip(f"no system PostgreSQL in {bindir}")
    with start_server("system", bindir=bindir) as server:
        with server.connect() as conn:
            assert conn.execute("SELECT pg_catalog.current_setting('server_version_num')::int").fetchone()[0] == server.version_num
            conn.execute("CREATE EXTENSION pg_stat_statements")
            conn.execute("CREATE EXTENSION amcheck")


@pytest.mark.server_independent
def test_clusters_go_where_the_cached_templates_can_be_linked(tmp_path, monkeypatch):
    """A RAM-backed /tmp under a cache in the home folder: hard links cannot cross, so
    clusters go to /var/tmp when it lies with the cache (and stay in /tmp otherwise)."""
    from pgdrill.fixtures.server import runtime_parent

    ram = Path("/dev/shm")
    if not ram.is_dir() or ram.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on a file system of its own")
    disk_temp, var_tmp, cache = tmp_path / "tmp", tmp_path / "var-tmp", tmp_path / "home" / ".cache" / "pgdrill"
    disk_temp.mkdir(), var_tmp.mkdir()
    with tempfile.TemporaryDirectory(dir=ram) as ram_temp:
        # /tmp in memory, the cache (not made yet: its nearest folder counts) and /var/tmp on disk
        assert runtime_parent(Path(ram_temp), cache, var_tmp) == var_tmp
        # /var/tmp in memory too: nothing better than the temp folder
        assert runtime_parent(Path(ram_temp), cache, Path(ram_temp)) == Path(ram_temp)
        # the cache in memory as well: linking works in the temp folder
        assert runtime_parent(Path(ram_temp), Path(ram_temp) / "cache", var_tmp) == Path(ram_temp)
    # /tmp on the cache's file system: stays
    assert runtime_parent(disk_temp, cache, var_tmp) == disk_temp
    # $TMPDIR set: the user's choice, wherever it is
    monkeypatch.setenv("TMPDIR", str(disk_temp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads $TMPDIR again
    assert runtime_parent() == disk_temp
