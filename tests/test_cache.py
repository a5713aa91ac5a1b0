"""The template cache (fixtures/cache.py): built starting states kept between runs.

Each test uses a cache folder of its own and real servers; graders run as separate processes
(tests/data/cache_client.py) where the test is about what another run finds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from psycopg import sql

from pgdrill.fixtures.cache import ClusterCache
from pgdrill.fixtures.server import start_server
from pgdrill.fixtures.templates import FixtureKey, TemplateCache, ensure_cached, prepared_name

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "tests" / "data" / "cache_client.py"
SMALL = FixtureKey("techshop", 0.05, 7)
EMPTY = FixtureKey("empty")


@pytest.fixture
def kind(request):
    kind = request.config.getoption("--pg-server")
    if kind == "dsn":
        pytest.skip("the cache holds clusters of our own; a dsn server keeps its templates itself")
    return kind


def client(cache_dir: Path, kind: str, keys, tree: Path = ROOT, wait: bool = True):
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PGDRILL_CACHE_DIR", None)
    args = [sys.executable, str(CLIENT), str(cache_dir), kind,
            json.dumps([{"fixture": k.fixture, "scale": k.scale, "seed": k.seed} for k in keys])]
    proc = subprocess.Popen(args, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return finish(proc) if wait else proc


def finish(proc) -> dict:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def copy_engine(tree: Path) -> None:
    """The package as the repository lays it out: pgdrill/checks and pgdrill/fixtures stay links to
    the top-level folders, so an edit to tree/fixtures is what the copied engine imports."""
    for part in ("fixtures", "checks", "pgdrill"):
        shutil.copytree(ROOT / part, tree / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    assert (tree / "pgdrill" / "fixtures").resolve() == (tree / "fixtures").resolve()


def built(result: dict) -> list[str]:
    return [line.split()[1] for line in result["progress"] if line.startswith("built ")]


def test_second_run_builds_nothing_and_finds_the_same_data(tmp_path, kind):
    first = client(tmp_path / "cache", kind, [SMALL, EMPTY])
    assert sorted(built(first)) == sorted([SMALL.template_name, EMPTY.template_name])
    second = client(tmp_path / "cache", kind, [SMALL, EMPTY])
    assert built(second) == []
    # …and the incident's prepared baseline (test_the_prepared_baseline_is_a_fresh_baseline_given_once).
    assert second["copied_with"] == sorted([SMALL.template_name, prepared_name(SMALL), EMPTY.template_name])
    assert second["rows"] == first["rows"] and first["rows"][SMALL.template_name] > 0


def test_a_grading_leaves_the_cached_files_untouched(tmp_path, kind):
    cache = ClusterCache(tmp_path / "cache")
    entry = ensure_cached(cache, [SMALL], kind=kind)
    oid = entry.templates[SMALL.template_name].oid
    template_files = [p for p in (entry.data_dir / "base" / str(oid)).iterdir() if p.is_file()]
    assert template_files and all(p.stat().st_mode & 0o777 == 0o400 for p in template_files)
    server = start_server(kind, cache=cache)
    try:
        assert server.cached is not None and SMALL.template_name in server.cached.templates
        templates = TemplateCache(server)
        with templates.clone(SMALL) as clone, clone.connect() as conn:
            conn.execute("DELETE FROM order_items")
            conn.execute("VACUUM FULL order_items")
        # Dropping the template in this cluster only unlinks this cluster's names for the files.
        server.drop_database(SMALL.template_name)
    finally:
        server.stop()
    again = cache.entry(entry.server_id)
    assert again is not None and again.damaged_files() == []
    assert SMALL.template_name in again.templates


@pytest.mark.server_independent
def test_a_changed_fixture_file_rebuilds_only_its_template(tmp_path, kind):
    tree = tmp_path / "tree"
    copy_engine(tree)
    first = client(tmp_path / "cache", kind, [SMALL, EMPTY], tree)
    assert len(built(first)) == 2
    fault = tree / "fixtures" / "incident" / "faults" / "null_stock.sql"
    fault.write_text(fault.read_text() + "\n-- an instructor's edit\n")
    second = client(tmp_path / "cache", kind, [SMALL, EMPTY], tree)
    assert built(second) == [SMALL.template_name]
    assert client(tmp_path / "cache", kind, [SMALL, EMPTY], tree)["progress"] == []


def _entry_path(cache_dir: Path) -> Path:
    (path,) = [p for p in (cache_dir / "v1").iterdir() if p.is_dir()]
    return path


@pytest.mark.server_independent
def test_a_damaged_template_file_is_rebuilt_not_trusted(tmp_path, kind):
    first = client(tmp_path / "cache", kind, [SMALL, EMPTY])
    entry = json.loads((_entry_path(tmp_path / "cache") / "entry.json").read_text())
    oid = next(t["oid"] for t in entry["templates"] if t["name"] == SMALL.template_name)
    victim = max((p for p in (_entry_path(tmp_path / "cache") / "data" / "base" / str(oid)).iterdir()),
                 key=lambda p: p.stat().st_size)
    time.sleep(1.1)  # modification times are compared to the second (archives keep no finer)
    with open(victim, "r+b") as fh:  # a disk error, a stray tool: same size, other bytes
        fh.seek(8192 * 3)
        fh.write(b"\xff" * 64)
    second = client(tmp_path / "cache", kind, [SMALL, EMPTY])
    assert built(second) == [SMALL.template_name]
    assert second["rows"] == first["rows"]


@pytest.mark.parametrize("damage", ["record", "catalog"])
@pytest.mark.server_independent
def test_a_damaged_entry_is_discarded_and_built_again(tmp_path, kind, damage):
    first = client(tmp_path / "cache", kind, [EMPTY])
    path = _entry_path(tmp_path / "cache")
    if damage == "record":
        (path / "entry.json").write_text("{ not json")
    else:
        control = path / "data" / "global" / "pg_control"
        os.utime(control, ns=(0, 0))
    second = client(tmp_path / "cache", kind, [EMPTY])
    assert any("discarding" in line for line in second["progress"])
    assert built(second) == [EMPTY.template_name]
    assert second["rows"] == first["rows"]


def test_a_template_recorded_by_another_version_is_rebuilt_not_a_crash(tmp_path, kind):
    # Another version of pgdrill (a branch, an upgrade) shares the user's cache and records a
    # key this version does not know: its template is not trusted, and nothing crashes.
    client(tmp_path / "cache", kind, [EMPTY])
    record = _entry_path(tmp_path / "cache") / "entry.json"
    entry = json.loads(record.read_text())
    for template in entry["templates"]:
        template["key"]["colour"] = "a field of a newer version"
    record.write_text(json.dumps(entry))
    second = client(tmp_path / "cache", kind, [EMPTY, SMALL])
    assert SMALL.template_name in built(second)
    assert json.loads(record.read_text())["templates"] and all(
        "colour" not in t["key"] for t in json.loads(record.read_text())["templates"])  # recorded anew
    assert client(tmp_path / "cache", kind, [EMPTY, SMALL])["progress"] == []


@pytest.mark.server_independent
def test_two_graders_at_once_build_each_template_once(tmp_path, kind):
    procs = [client(tmp_path / "cache", kind, [SMALL], wait=False) for _ in range(2)]
    results = [finish(proc) for proc in procs]
    assert sum(len(built(r)) for r in results) == 1
    assert results[0]["rows"] == results[1]["rows"]
    assert all(r["copied_with"] == sorted([SMALL.template_name, prepared_name(SMALL)]) for r in results)


def _server_code_version(tmp_path: Path, name: str) -> Path:
    """A copy of the engine whose server code differs (as after an update of pgdrill): its
    clusters have another identity, so they go into another cache entry."""
    tree = tmp_path / name
    copy_engine(tree)
    server_py = tree / "fixtures" / "server.py"
    server_py.write_text(server_py.read_text() + f"\n# {name}\n")
    return tree


def _age(cache_dir: Path, server_id: str, days: float, *, used: bool = True) -> None:
    """Make an entry look published ``days`` ago and, with ``used``, last copied then too."""
    then = time.time() - days * 86400
    record = cache_dir / "v1" / server_id / "entry.json"
    raw = json.loads(record.read_text())
    raw["created"] = then
    record.write_text(json.dumps(raw))
    if used:
        os.utime(cache_dir / "v1" / f"{server_id}.used", (then, then))


def _entry_ids(cache_dir: Path) -> set[str]:
    return {p.name for p in (cache_dir / "v1").iterdir() if p.is_dir()}


@pytest.mark.server_independent
def test_an_entry_unused_for_a_month_goes_when_another_is_built(tmp_path, kind):
    """An update of the server code leaves the old entry behind (another identity): it goes
    when a newer one is published, once nothing was copied from it for UNUSED_DAYS — not
    while it is still used (another checkout), nor while a grader holds its lock."""
    import fcntl

    from pgdrill.fixtures.cache import UNUSED_DAYS

    cache_dir = tmp_path / "cache"
    client(cache_dir, kind, [EMPTY])
    (unused,) = _entry_ids(cache_dir)
    client(cache_dir, kind, [EMPTY], _server_code_version(tmp_path, "update-1"))
    (still_used,) = _entry_ids(cache_dir) - {unused}
    _age(cache_dir, unused, UNUSED_DAYS + 1)
    _age(cache_dir, still_used, UNUSED_DAYS + 1, used=False)  # published long ago, copied today
    newest = client(cache_dir, kind, [EMPTY], _server_code_version(tmp_path, "update-2"))
    (current,) = _entry_ids(cache_dir) - {unused, still_used}
    assert _entry_ids(cache_dir) == {still_used, current}
    assert any(line.startswith(f"cache: removed {unused}, unused for") for line in newest["progress"])
    assert not (cache_dir / "v1" / f"{unused}.used").exists()
    # The other one, unused as long, stays while a grader holds its lock, and goes after.
    _age(cache_dir, still_used, UNUSED_DAYS + 1)
    cache = ClusterCache(cache_dir)
    with open(cache_dir / "v1" / f"{still_used}.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        assert cache.prune_unused(keep=current) == []
    assert _entry_ids(cache_dir) == {still_used, current}
    (removed,) = cache.prune_unused(keep=current)
    assert removed[0] == still_used and removed[1] > 1_000_000
    assert _entry_ids(cache_dir) == {current}
    # A day short of the limit is not enough.
    _age(cache_dir, current, UNUSED_DAYS - 1)
    assert cache.prune_unused(keep="none") == [] and _entry_ids(cache_dir) == {current}
    assert "last used" in _grade_py("cache", "status", cache_dir=cache_dir).stdout


def _grade_py(*args, cache_dir: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PGDRILL_CACHE_DIR": str(cache_dir)}
    proc = subprocess.run([sys.executable, str(ROOT / "grade.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.server_independent
def test_cache_status_and_clear_from_the_command_line(tmp_path, kind):
    client(tmp_path / "cache", kind, [EMPTY])
    status = _grade_py("cache", "status", cache_dir=tmp_path / "cache").stdout
    assert EMPTY.template_name in status and " MB" in status and str(tmp_path / "cache") in status
    cleared = _grade_py("cache", "clear", cache_dir=tmp_path / "cache").stdout
    freed = float(cleared.split(": ")[1].split()[0])
    assert "freed" in cleared and freed > 1
    assert "empty" in _grade_py("cache", "status", cache_dir=tmp_path / "cache").stdout
    assert not any(p.is_dir() for p in (tmp_path / "cache" / "v1").iterdir())


@pytest.mark.server_independent
def test_what_an_interrupted_build_left_is_shown_then_removed(tmp_path, kind):
    """A builder killed while publishing leaves its copy (``<id>.staging-<pid>``, its
    entry.json perhaps written already), a killed removal its trash. Neither is an entry; both
    are shown by `cache status` with their size and go when the next entry is built — a
    staging copy only once no builder holds the entry's lock (one may be publishing it)."""
    import fcntl

    cache_dir = tmp_path / "cache"
    client(cache_dir, kind, [EMPTY])
    (entry_id,) = _entry_ids(cache_dir)
    v1 = cache_dir / "v1"
    staging = v1 / f"{entry_id}.staging-4194999"
    shutil.copytree(v1 / entry_id, staging)  # entry.json included: killed at the very end
    trash = v1 / f"{entry_id}.trash-4194999-1"
    shutil.copytree(v1 / entry_id / "data" / "global", trash)
    cache = ClusterCache(cache_dir)
    assert [entry.path for entry in cache.entries()] == [v1 / entry_id]
    status = _grade_py("cache", "status", cache_dir=cache_dir).stdout
    assert f"  {staging.name}: " in status and f"  {trash.name}: " in status
    assert status.count("left by an interrupted build") == 2
    with open(v1 / f"{entry_id}.lock", "a+") as handle:  # a grader copying the entry: no builder
        fcntl.flock(handle, fcntl.LOCK_SH)
        assert cache.leftovers() == [staging, trash]
    with open(v1 / f"{entry_id}.lock", "a+") as handle:  # a builder publishing now
        fcntl.flock(handle, fcntl.LOCK_EX)
        assert cache.leftovers() == [trash]
        assert cache.prune_unused(keep=entry_id) == []
        assert staging.is_dir() and not trash.exists()
    (removed,) = cache.remove_leftovers()
    assert removed[0] == staging.name and removed[1] > 1_000_000
    assert _entry_ids(cache_dir) == {entry_id}
    assert "left by an interrupted" not in _grade_py("cache", "status", cache_dir=cache_dir).stdout


@pytest.mark.server_independent
def test_an_interrupted_publication_removes_its_copy(tmp_path, monkeypatch):
    """Ctrl-C (or a full disk) while an entry is being staged: no copy stays behind to hold
    its space, and no entry appears."""
    from pgdrill.fixtures import cache as cache_module

    data_dir = tmp_path / "cluster"
    (data_dir / "global").mkdir(parents=True)
    (data_dir / "global" / "pg_control").write_bytes(b"x" * 8192)
    copy_tree = cache_module._copy_tree

    def copy_then_interrupt(source, target, **kwargs):
        copy_tree(source, target, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_module, "_needed_wal_segment", lambda *args: "000000010000000000000001")
    monkeypatch.setattr(cache_module, "_copy_tree", copy_then_interrupt)
    cache = ClusterCache(tmp_path / "cache")
    with pytest.raises(KeyboardInterrupt):
        cache.publish("pg18-000000000000", 180000, data_dir, {}, bindir=tmp_path)
    assert not any(path.is_dir() for path in (tmp_path / "cache" / "v1").iterdir())
    monkeypatch.setattr(cache_module, "_copy_tree", copy_tree)
    assert cache.publish("pg18-000000000000", 180000, data_dir, {}, bindir=tmp_path).path.is_dir()


@pytest.mark.server_independent
def test_grade_py_twice_the_second_builds_nothing(tmp_path, kind):
    args = ["solutions/", "-e", "demo-first-fix", "--scale", "0.05", "--server", kind, "--format", "json", "--progress"]
    first = _grade_py(*args, cache_dir=tmp_path / "cache", check=False)
    second = _grade_py(*args, cache_dir=tmp_path / "cache", check=False)
    assert "built pgdrill_techshop" in first.stderr
    assert "building" not in second.stderr and "built " not in second.stderr
    assert "[1/1] demo-first-fix" in second.stderr
    scores = [json.loads(p.stdout)["points"] for p in (first, second)]
    assert scores[0] == scores[1] > 0


def test_the_cache_key_follows_the_sources(tmp_path):
    key = _grade_py("cache", "key", cache_dir=tmp_path).stdout.strip()
    assert key.startswith("pgdrill-templates-") and key == _grade_py("cache", "key", cache_dir=tmp_path).stdout.strip()


@pytest.mark.server_independent
def test_no_cache_leaves_no_cache_folder(tmp_path, kind):
    _grade_py("solutions/", "-e", "demo-first-fix", "--scale", "0.05", "--server", kind, "--no-cache", "-q",
              cache_dir=tmp_path / "cache", check=False)
    assert not (tmp_path / "cache").exists()


@pytest.mark.server_independent
def test_the_ci_cache_key_changes_with_a_fixture_file_only(tmp_path):
    tree = tmp_path / "tree"
    copy_engine(tree)
    shutil.copy(ROOT / "grade.py", tree / "grade.py")
    (tree / "docs").mkdir()

    def key() -> str:
        proc = subprocess.run([sys.executable, "grade.py", "cache", "key"], cwd=tree, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(tree)}, check=True)
        return proc.stdout.strip()

    first = key()
    (tree / "docs" / "notes.md").write_text("not a starting state")
    (tree / "pgdrill" / "render.py").write_text((tree / "pgdrill" / "render.py").read_text() + "\n# edit\n")
    assert key() == first
    schema = tree / "fixtures" / "incident" / "schema.sql"
    schema.write_text(schema.read_text() + "\n-- edit\n")
    assert key() != first


def test_the_workflow_keeps_the_cache_under_the_graders_key():
    import yaml

    job = next(iter(yaml.safe_load((ROOT / "pgdrill" / "templates" / "classroom.yml").read_text())["jobs"].values()))
    install = next(s for s in job["steps"] if s.get("id") == "install")
    assert "grade.py\" cache key" in install["run"] and "cache-key=" in install["run"]
    cached = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@"))
    assert cached["with"]["path"] == "${{ runner.temp }}/pgdrill-cache"
    grade = next(s for s in job["steps"] if s.get("id") == "pgdrill")
    assert grade["env"]["PGDRILL_CACHE_DIR"] == cached["with"]["path"]
    assert "--preserve-env=PGDRILL_CACHE_DIR" in grade["run"]  # grading runs as root through sudo
    assert "steps.install.outputs.cache-key" in cached["with"]["key"]
    order = [s.get("id") or s.get("uses", "") for s in job["steps"]]
    assert order.index("install") < order.index(cached["uses"]) < order.index("pgdrill")


@pytest.mark.server_independent
def test_gradescope_grading_after_setup_warm_builds_nothing(tmp_path, kind):
    """setup.sh runs `grade.py cache warm` into the image; run_autograder must then only copy."""
    cache_dir = tmp_path / "cache"
    warm = _grade_py("cache", "warm", "-e", "demo-first-fix", "--scale", "0.05", "--server", kind, cache_dir=cache_dir)
    assert "templates cached" in warm.stdout
    record = _entry_path(cache_dir) / "entry.json"
    before = record.read_bytes(), record.stat().st_mtime_ns
    graded = _grade_py("solutions/", "-e", "demo-first-fix", "--scale", "0.05", "--server", kind, "--progress",
                       cache_dir=cache_dir, check=False)
    assert "[1/1] demo-first-fix" in graded.stderr and "built " not in graded.stderr
    assert (record.read_bytes(), record.stat().st_mtime_ns) == before


# ------------------------------------------------------------------------------------------
# Built, then served: the build's settings never reach a server that grades

RECENT = "techshop-1-3-recent-changes"
_UNION = ("SELECT 'categories' AS table_name, max(pg_xact_commit_timestamp(xmin)) AS last_change FROM categories "
          "UNION ALL SELECT 'customers', max(pg_xact_commit_timestamp(xmin)) FROM customers "
          "UNION ALL SELECT 'products', max(pg_xact_commit_timestamp(xmin)) FROM products "
          "UNION ALL SELECT 'orders', max(pg_xact_commit_timestamp(xmin)) FROM orders "
          "UNION ALL SELECT 'order_items', max(pg_xact_commit_timestamp(xmin)) FROM order_items")
LAST_MODIFIED = f"SELECT table_name, last_change FROM ({_UNION}) AS t ORDER BY last_change DESC NULLS LAST, table_name"


def _served_settings(server) -> dict[str, str]:
    """Every setting as a session sees it, less the ones that name this run's folders."""
    with server.connect() as conn:
        rows = conn.execute("SELECT name, setting FROM pg_catalog.pg_settings").fetchall()
    return {name: value for name, value in rows
            if name not in ("unix_socket_directories", "log_directory", "data_directory", "config_file",
                            "hba_file", "ident_file", "external_pid_file")}


def test_a_server_copied_from_the_builder_serves_exactly_the_settings_of_a_fresh_one(tmp_path, kind):
    from pgdrill.fixtures.server import BUILD_SETTINGS

    cache = ClusterCache(tmp_path / "cache")
    ensure_cached(cache, [EMPTY], kind=kind)
    with start_server(kind) as fresh:
        want = _served_settings(fresh)
    served = start_server(kind, cache=cache)
    try:
        assert served.cached is not None and not served.build_mode
        assert _served_settings(served) == want
        # …and a lazy build on a serving server of ours goes back to them afterwards.
        templates = TemplateCache(served)
        templates.template(FixtureKey("techshop", 0.05, 3))
        assert _served_settings(served) == want
    finally:
        served.stop()
    assert want["track_commit_timestamp"] == "on"
    assert all(want[name] != value for name, value in BUILD_SETTINGS.items())


@pytest.mark.server_independent
def test_recent_changes_grades_no_time_of_the_build(tmp_path, kind):
    """Task 1.3 dates only the writes of the copy it grades: the template's rows (built with
    track_commit_timestamp off) have no time, the replay's are dated after the copy was made."""
    from pgdrill import checks
    from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR, Grader, GradingOptions, fixture_keys
    from pgdrill.spec import load_spec

    spec = load_spec(EXERCISES_DIR / RECENT / "exercise.yaml", checks.load_all())
    options = GradingOptions(scale=SMALL.scale, seed=SMALL.seed)
    cache = ClusterCache(tmp_path / "cache")
    ensure_cached(cache, fixture_keys(spec, options), kind=kind)
    time.sleep(1.0)  # whatever the build dated would now lie before the copy
    server = start_server(kind, cache=cache)
    try:
        templates = TemplateCache(server)
        with server.connect() as conn:
            before_clone = conn.execute("SELECT pg_catalog.clock_timestamp()").fetchone()[0]
        with templates.clone(SMALL, replay=False) as quiet, quiet.connect() as conn:
            assert [t for t, at in conn.execute(LAST_MODIFIED) if at is not None] == []
        with templates.clone(SMALL) as clone, clone.connect() as conn:
            rows = conn.execute(LAST_MODIFIED).fetchall()
        assert all(at > before_clone for _, at in rows if at is not None), rows
        # The story: new order lines after their orders, the repricing before them; customers
        # and categories were written by the build alone.
        assert [t for t, _ in rows] == ["order_items", "orders", "products", "categories", "customers"]
        assert [t for t, at in rows if at is None] == ["categories", "customers"]

        grader = Grader(server, templates, options)
        reference = grader.grade_exercise(spec, SOLUTIONS_DIR / RECENT)
        assert reference.points == reference.max_points > 0, [(c.check_id, c.message) for c in reference.checks]
        assert grader.grade_exercise(spec, EXERCISES_DIR / RECENT).points == 0

        def last_modified(query: str):
            folder = tmp_path / f"sub-{len(list(tmp_path.iterdir()))}"
            folder.mkdir()
            (folder / "changes.sql").write_text(f"-- name: last_modified\n{query};\n")
            result = grader.grade_exercise(spec, folder)
            return next(c for c in result.checks if c.check_id == "last-modified")

        # Correct, written differently: NULLs sorted last by hand.
        unusual = last_modified(f"SELECT * FROM ({_UNION}) AS t "
                                "ORDER BY last_change IS NULL, last_change DESC, table_name")
        assert unusual.points == unusual.max_points, unusual.message
        # Wrong: DESC alone puts the untouched tables first.
        assert last_modified(f"SELECT * FROM ({_UNION}) AS t ORDER BY last_change DESC, table_name").points == 0
        # Wrong: the story's order typed in (right on the graded copy, not on the contrast).
        typed = last_modified(
            "SELECT 'order_items' AS table_name, (SELECT max(pg_xact_commit_timestamp(xmin)) FROM order_items) AS last_change "
            "UNION ALL SELECT 'orders', (SELECT max(pg_xact_commit_timestamp(xmin)) FROM orders) "
            "UNION ALL SELECT 'products', (SELECT max(pg_xact_commit_timestamp(xmin)) FROM products) "
            "UNION ALL SELECT 'categories', NULL UNION ALL SELECT 'customers', NULL")
        assert typed.points == 0 and "second database" in typed.message, typed.message
    finally:
        server.stop()


BASELINE_COUNTERS = (
    "SELECT relname, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch, n_tup_ins, n_tup_upd, n_tup_del, "
    "n_tup_hot_upd, n_live_tup, n_dead_tup, n_mod_since_analyze, n_ins_since_vacuum, vacuum_count, "
    "analyze_count, pg_catalog.pg_relation_size(relid) FROM pg_catalog.pg_stat_user_tables ORDER BY relname")
BASELINE_LAYOUT = sql.SQL(
    "SELECT pg_catalog.md5(pg_catalog.string_agg(ctid::text, ',' ORDER BY id)) FROM public.{table} "
    "UNION ALL SELECT pg_catalog.count(*)::text FROM public.{table}")


def _baseline_state(server, dbname: str) -> tuple:
    time.sleep(1.1)  # counters of the replay's last statements are published within a second
    with server.connect(dbname, purpose="setup") as conn:
        counters = conn.execute(BASELINE_COUNTERS).fetchall()
        layout = [conn.execute(BASELINE_LAYOUT.format(table=sql.Identifier(t))).fetchall() for t in ("orders", "products", "order_items")]
    return counters, layout


def test_the_prepared_baseline_is_a_fresh_baseline_given_once(tmp_path, kind):
    """The cache keeps the grader's untouched, replayed baseline ready: the first baseline a
    server hands out is that database — its counters, sizes and row-version layout those of a
    baseline made there and then — and every later one is made afresh. Before it is claimed,
    no role but the superuser may connect to it."""
    from pgdrill.fixtures import sandbox

    cache = ClusterCache(tmp_path / "cache")
    entry = ensure_cached(cache, [SMALL, EMPTY], kind=kind)
    prepared = entry.templates[prepared_name(SMALL)]
    assert prepared.prepared and prepared_name(EMPTY) not in entry.templates
    # Copied at each start, never linked: the grader reads it where it lies.
    assert f"base/{prepared.oid}" not in entry.template_dirs()
    server = start_server(kind, cache=cache)
    try:
        with server.connect(purpose="setup") as conn:
            allowed = conn.execute(
                "SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.rolname = ANY(%s) "
                "AND pg_catalog.has_database_privilege(r.oid, %s, 'CONNECT')",
                ([sandbox.LEARNER, sandbox.GRADER, sandbox.APP], prepared_name(SMALL))).fetchall()
        assert allowed == []
        with server.connect(purpose="setup") as conn:
            assert conn.execute("SELECT datallowconn FROM pg_catalog.pg_database WHERE datname = %s",
                                (prepared_name(SMALL),)).fetchone() == (False,)
        templates = TemplateCache(server)
        first = templates.baseline(SMALL)
        second = templates.baseline(SMALL)
        try:
            assert first.dbname != prepared_name(SMALL) and second.dbname != first.dbname
            with server.connect(purpose="setup") as conn:
                names = [r[0] for r in conn.execute("SELECT datname FROM pg_catalog.pg_database")]
            assert prepared_name(SMALL) not in names  # claimed: renamed to a clone's name
            claimed, fresh = _baseline_state(server, first.dbname), _baseline_state(server, second.dbname)
            assert claimed == fresh
            assert any(row[10] > 0 for row in claimed[0])  # the replay's dead row versions are counted
        finally:
            first.drop()
            second.drop()
    finally:
        server.stop()


def test_a_prepared_baseline_whose_counters_were_lost_is_replaced_not_handed_out(tmp_path, kind):
    """A server that crashed and recovered has discarded every cumulative statistic, the
    prepared baseline's with them: its rows are right but its counters say nothing happened.
    The grader checks before it trusts it: the database is dropped and the baseline is made
    afresh, with the counters a replay leaves."""
    from pgdrill.fixtures.server import stop_cluster

    cache = ClusterCache(tmp_path / "cache")
    ensure_cached(cache, [SMALL], kind=kind)
    server = start_server(kind, cache=cache)
    try:
        assert server.base_dir is not None
        stop_cluster(server.base_dir, modes=("immediate",))  # a crash: the next start recovers
        server._pg_ctl_start()
        templates = TemplateCache(server)
        assert templates.has_prepared(SMALL)
        baseline = templates.baseline(SMALL)
        fresh = templates.baseline(SMALL)
        try:
            with server.connect(purpose="setup") as conn:
                names = [r[0] for r in conn.execute("SELECT datname FROM pg_catalog.pg_database")]
            assert prepared_name(SMALL) not in names and not templates.has_prepared(SMALL)
            state = _baseline_state(server, baseline.dbname)
            assert any(row[10] > 0 for row in state[0])  # replayed here: the dead row versions are counted
            assert state == _baseline_state(server, fresh.dbname)
        finally:
            baseline.drop()
            fresh.drop()
    finally:
        server.stop()


def test_the_prepared_baseline_goes_to_the_exercise_that_reads_its_counters(tmp_path, kind, monkeypatch):
    """A server copied with a prepared baseline hands it to an exercise that reads baseline
    counters (Task 2.3) when the run grades one; an exercise that does not (Task 3.1) then
    copies its graded clone instead (TemplateCache.snapshot), also when graded exercise by
    exercise after ``plan`` (validate). Graded alone, 3.1 claims it: a rename costs less than
    a copy. Either way every check passes."""
    from pgdrill import checks
    from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR, Grader, GradingOptions, fixture_key
    from pgdrill.spec import load_spec

    known = checks.load_all()
    orphans = load_spec(EXERCISES_DIR / "techshop-3-1-orphans" / "exercise.yaml", known)
    bloat = load_spec(EXERCISES_DIR / "techshop-2-3-statistics-bloat" / "exercise.yaml", known)
    options = GradingOptions(scale=SMALL.scale, seed=SMALL.seed)
    assert fixture_key(orphans, options) == fixture_key(bloat, options) == SMALL
    cache = ClusterCache(tmp_path / "cache")
    ensure_cached(cache, [SMALL], kind=kind)
    snapshots: list[str] = []
    original = TemplateCache.snapshot

    def counted(self, clone):
        snapshots.append(clone.dbname)
        return original(self, clone)

    monkeypatch.setattr(TemplateCache, "snapshot", counted)

    def grade(specs, submission: Path) -> tuple[list, set, int]:
        snapshots.clear()
        server = start_server(kind, cache=cache)
        try:
            grader = Grader(server, options=options)
            assert grader.templates is not None and grader.templates.has_prepared(SMALL)
            report = grader.grade(submission, specs)
            return list(report.exercises), grader.templates._claimed, len(snapshots)
        finally:
            server.stop()

    both = tmp_path / "both"
    for spec in (orphans, bloat):
        shutil.copytree(SOLUTIONS_DIR / spec.id, both / spec.id)
    # 3.1 comes first, yet leaves the prepared baseline to 2.3.
    results, claimed, copies = grade([orphans, bloat], both)
    assert claimed == {prepared_name(SMALL)} and copies == 1
    assert all(r.points == r.max_points for r in results), [(r.exercise, r.points) for r in results]
    alone, claimed, copies = grade([orphans], SOLUTIONS_DIR / orphans.id)
    assert claimed == {prepared_name(SMALL)} and copies == 0
    assert alone[0].points == alone[0].max_points
    # Exercise by exercise (validate): told the run's exercises first, 3.1 leaves it alone too.
    snapshots.clear()
    server = start_server(kind, cache=cache)
    try:
        grader = Grader(server, options=options)
        grader.plan([orphans, bloat])
        one = grader.grade_exercise(orphans, SOLUTIONS_DIR / orphans.id)
        assert grader.templates is not None and not grader.templates._claimed and len(snapshots) == 1
        assert one.points == one.max_points
    finally:
        server.stop()
