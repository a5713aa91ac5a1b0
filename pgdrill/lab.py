"""The learner's playground: a persistent database to explore with psql — TechShop or any exercise's.

    python grade.py lab up [--scale S] [--seed N]   build (once) and start; prints how to connect
    python grade.py lab up EXERCISE_ID              open that exercise's starting state instead
                                                    (its fixture, then its setup.sql if it has one)
    python grade.py lab up --fixture FIXTURE        open a fixture: techshop, sample:pagila,
                                                    sample:chinook, sample:northwind or empty
    python grade.py lab up --no-activity            … without the background sessions (--activity
                                                    brings them back; reset remembers the choice)
    python grade.py lab psql [PSQL ARGS…]           psql as role learner on the open database
    python grade.py lab dsn                         the connection URI, for scripts and GUI tools
    python grade.py lab reset                       the open database back to its starting state
    python grade.py lab status                      is it running, what is open
    python grade.py lab logs [-n LINES]             the server log (connection errors, slow queries)
    python grade.py lab down                        stop the server, keep the files
    python grade.py lab destroy                     stop and delete everything

One database is open at a time: ``lab up`` without a target reopens the last one. Databases
opened before stay on the server with their changes (``lab up`` on them again keeps them;
``lab reset`` rebuilds only the open one). The TechShop incident is database ``techshop``, a
sample is named after itself (``pagila``, ``chinook``, ``northwind``), the empty fixture is
``scratch``, and an exercise whose spec has a ``setup.sql`` gets a database of its own named
after the exercise (``course_06_update_delete``).

The lab runs on the same kind of server as grading (embedded PostgreSQL by default) in
``$PGDRILL_LAB_DIR`` (default ``/var/tmp/pgdrill-lab-<uid>``). With TechShop open, the
background activity of Phase 1 (a long-running report, a stuck transaction holding a row
lock, a blocked stock update) is kept alive by a small daemon process. The manifest of
planted faults is never printed unless an instructor asks for it (``lab status --manifest``, refused outside pgdrill's
own repository: the student template and the grading bundle have no ``solutions/``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pgdrill.fixtures import kinds
from pgdrill.fixtures.kinds import DEFAULT_FIXTURE, FixtureKey, listing
from pgdrill.fixtures.server import Server, ServerError, _readable_by_all, server_user
from pgdrill.fixtures.templates import TemplateCache

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCALE = 1.0
EXERCISES_DIR = Path(__file__).resolve().parents[1] / "exercises"


def instructor_checkout() -> bool:
    """Whether this is pgdrill's own repository (reference solutions next to the engine),
    where instructor views are allowed; student templates and grading bundles have none."""
    return (ROOT / "solutions").is_dir() and (ROOT / "pgdrill" / "cli.py").is_file()


def lab_dir() -> Path:
    # Not under $HOME: when the learner is root, /root is closed to the server's own user.
    return Path(os.environ.get("PGDRILL_LAB_DIR") or f"/var/tmp/pgdrill-lab-{os.geteuid()}")


def _state_path() -> Path:
    return lab_dir() / "lab.json"


def _read_state() -> dict:
    try:
        state = json.loads(_state_path().read_text())
    except (OSError, ValueError):
        return {}
    if state and "open" not in state:
        # A lab from before other databases could be opened: it holds TechShop only.
        state["open"] = "techshop"
        state["databases"] = {"techshop": {"fixture": "techshop", "exercise": None,
                                           "scale": state.get("scale", DEFAULT_SCALE), "seed": state.get("seed", 1)}}
    return state


def _write_state(state: dict) -> None:
    _state_path().write_text(json.dumps(state, indent=2))


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _Timer:
    """Prints what is happening and, for anything that takes over a second, how long it took."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self):
        self.t0 = time.monotonic()
        _say(f"… {self.what}")
        return self

    def __exit__(self, exc_type, *exc) -> None:
        took = time.monotonic() - self.t0
        if exc_type is None and took >= 1:
            _say(f"  done in {took:.1f} s")


def _server(state: dict, kind: str | None = None, bindir: str | None = None) -> Server:
    kind = kind or state.get("server") or os.environ.get("PGDRILL_SERVER") or "embedded"
    if kind not in ("embedded", "system"):
        raise ServerError("the lab runs its own server: --server embedded or system")
    server = Server(kind=kind, bindir=Path(bindir or state["bindir"]) if (bindir or state.get("bindir")) else None,
                    persistent=True, base_dir=lab_dir() / "cluster")
    return server


# ------------------------------------------------------------------ what is open
def _fixture_dbname(fixture: str) -> str:
    return kinds.kind_of(fixture).lab_dbname(fixture)


def _exercise_spec(exercise_id: str):
    from pgdrill.spec import SpecError, load_spec

    path = EXERCISES_DIR / exercise_id / "exercise.yaml"
    if not path.is_file():
        known = sorted(p.parent.name for p in EXERCISES_DIR.glob("*/exercise.yaml"))
        raise ServerError(f"no exercise named {exercise_id!r} (known: {', '.join(known)})")
    try:
        return load_spec(path)
    except SpecError as exc:
        raise ServerError(f"the spec of {exercise_id} is invalid:\n{exc}") from None


def _wanted(args, state: dict) -> tuple[str, dict]:
    """The database ``lab up`` opens, and what it is built from: ``(dbname, descriptor)``.

    A descriptor is ``{fixture, exercise, scale, seed}``; scale and seed matter for a seeded
    fixture only (TechShop: the learner's seed, so the planted rows differ from those an
    exercise is graded on).
    """
    databases = state.get("databases", {})
    if args.exercise and args.fixture:
        raise ServerError("give an exercise or --fixture, not both")
    if args.exercise:
        spec = _exercise_spec(args.exercise)
        fixture, exercise = spec.incident.fixture, spec.id
        dbname = spec.id.replace("-", "_") if spec.incident.setup else _fixture_dbname(fixture)
        spec_scale = spec.incident.scale
        # A seed the spec pins is the exercise's starting state; "learner" and "grading" mean
        # the lab's own seed (the grading seed is never shown).
        spec_seed = spec.incident.seed if type(spec.incident.seed) is int else None
    elif args.fixture:
        fixture, exercise, dbname, spec_scale, spec_seed = args.fixture, None, _fixture_dbname(args.fixture), None, None
    else:
        dbname = state.get("open", _fixture_dbname(DEFAULT_FIXTURE))
        previous = databases.get(dbname, {"fixture": DEFAULT_FIXTURE, "exercise": None})
        fixture, exercise = previous["fixture"], previous["exercise"]
        spec_scale, spec_seed = previous.get("scale"), previous.get("seed")
    if not kinds.kind_of(fixture).seeded:
        if args.scale is not None or args.seed is not None:
            seeded = listing([kinds.kind_of(f).title for f in kinds.seeded_fixtures()])
            raise ServerError(f"--scale and --seed are for {seeded}, not {fixture}")
        return dbname, {"fixture": fixture, "exercise": exercise, "scale": 1, "seed": 1}
    scale = args.scale if args.scale is not None else spec_scale if spec_scale is not None else state.get("scale", DEFAULT_SCALE)
    seed = args.seed if args.seed is not None else spec_seed if spec_seed is not None else state.get("seed", 1)
    return dbname, {"fixture": fixture, "exercise": exercise, "scale": scale, "seed": seed}


def _key(db: dict) -> FixtureKey:
    return kinds.key(db["fixture"], db.get("scale", DEFAULT_SCALE), db.get("seed", 1))


def _describe(dbname: str, db: dict) -> str:
    what = kinds.kind_of(db["fixture"]).describe(_key(db))
    return f"{what}, as {db['exercise']} starts" if db.get("exercise") else what


def _open(state: dict) -> tuple[str, dict]:
    dbname = state.get("open", _fixture_dbname(DEFAULT_FIXTURE))
    return dbname, state.get("databases", {}).get(dbname, {"fixture": DEFAULT_FIXTURE, "exercise": None,
                                                            "scale": DEFAULT_SCALE, "seed": 1})


def _learner_uri(server: Server, dbname: str) -> str:
    return f"postgresql://learner@/{dbname}?host={server.socket_dir}&port=5432"


# ------------------------------------------------------------------ background activity
def _activity_alive(state: dict) -> bool:
    pid = state.get("activity_pid")
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    return cmdline.exists() and b"lab_activity" in cmdline.read_bytes()


def _stop_activity(state: dict) -> None:
    if _activity_alive(state):
        os.kill(state["activity_pid"], signal.SIGTERM)
        for _ in range(50):
            if not _activity_alive(state):
                break
            time.sleep(0.1)
    state.pop("activity_pid", None)


def _wants_activity(state: dict) -> bool:
    """The Phase 1 sessions belong to a live fixture (the TechShop incident): they run only
    while one is open."""
    return state.get("activity", True) and kinds.kind_of(_open(state)[1]["fixture"]).live


def _start_activity(server: Server, state: dict) -> None:
    dbname, db = _open(state)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgdrill.lab_activity", str(server.base_dir), dbname, str(db["seed"])],
        cwd=str(Path(__file__).resolve().parents[1]), start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(lab_dir() / "activity.log", "ab"),
    )
    state["activity_pid"] = proc.pid
    ready = lab_dir() / "activity.ready"
    for _ in range(200):
        if ready.exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    if proc.poll() is not None:
        _say("warning: the background activity did not start; see " + str(lab_dir() / "activity.log"))


def _clone_lab_db(server: Server, dbname: str, db: dict) -> None:
    """(Re)create ``dbname`` from its template, then run its exercise's setup.sql, if any."""
    cache = TemplateCache(server, progress=_say)
    key = _key(db)
    with _Timer(f"preparing {_describe(dbname, {**db, 'exercise': None})}"):
        cache.template(key)
    with _Timer(f"cloning a fresh {dbname} database from the template"):
        server.drop_database(dbname)
        cache.clone(key, name=dbname)
    setup = _exercise_spec(db["exercise"]).incident.setup if db.get("exercise") else None
    if setup:
        with _Timer(f"running {db['exercise']}'s setup.sql"), server.connect(dbname, purpose="setup") as conn:
            conn.execute(Path(setup).read_text())


# ------------------------------------------------------------------ commands
def cmd_up(args) -> int:
    state = _read_state()
    dbname, wanted = _wanted(args, state)
    lab_dir().mkdir(parents=True, exist_ok=True)
    os.chmod(lab_dir(), 0o755)
    if server_user() is not None and not _readable_by_all(lab_dir()):
        raise ServerError(f"{lab_dir()} is not reachable by the server's user (a parent folder is private); "
                          "set PGDRILL_LAB_DIR to a folder under /var/tmp")
    server = _server(state, args.server, args.bindir)
    with _Timer("starting PostgreSQL"):
        server.start()
    state.update(server=server.kind, bindir=str(server.bindir))
    databases = state.setdefault("databases", {})
    if kinds.kind_of(wanted["fixture"]).seeded:
        state.update(scale=wanted["scale"], seed=wanted["seed"])  # the defaults of the next TechShop
    with server.connect(purpose="lab") as conn:
        exists = conn.execute("SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s", (dbname,)).fetchone()
    # The same fixture under another exercise's name (course-04 and course-09 both open
    # northwind as it is) keeps the database and the learner's changes in it.
    rebuild = not exists or dbname not in databases or _key(databases[dbname]) != _key(wanted)
    if dbname != state.get("open") or rebuild:
        _stop_activity(state)
    if rebuild:
        _clone_lab_db(server, dbname, wanted)
    databases[dbname] = wanted
    state["open"] = dbname
    if getattr(args, "activity", None) is not None:
        state["activity"] = args.activity
    if not _wants_activity(state):
        _stop_activity(state)
    elif not _activity_alive(state):
        with _Timer("starting the application's background activity"):
            _start_activity(server, state)
    _write_state(state)
    print(f"Database {dbname} is up: {_describe(dbname, wanted)} (PostgreSQL {server.version_num // 10000}).")
    print("  explore it:       python grade.py lab psql")
    print(f"  connection URI:   {_learner_uri(server, dbname)}")
    print("  starting state:   python grade.py lab reset      stop: python grade.py lab down")
    return 0


def _running_server() -> tuple[Server, dict]:
    state = _read_state()
    if not state:
        raise ServerError("no lab yet: run 'python grade.py lab up'")
    server = _server(state).attach()
    if not server.is_running():
        raise ServerError("the lab is stopped: run 'python grade.py lab up'")
    return server, state


def cmd_psql(args) -> int:
    server, state = _running_server()
    psql = server.bindir / "psql" if server.bindir and (server.bindir / "psql").exists() else "psql"
    os.execv(str(psql), [str(psql), "-d", _learner_uri(server, _open(state)[0]), *args.psql_args])
    return 0  # not reached


def cmd_dsn(args) -> int:
    server, state = _running_server()
    print(_learner_uri(server, _open(state)[0]))
    return 0


def cmd_reset(args) -> int:
    server, state = _running_server()
    dbname, db = _open(state)
    _stop_activity(state)
    _clone_lab_db(server, dbname, db)
    if _wants_activity(state):
        with _Timer("restarting the background activity"):
            _start_activity(server, state)
    _write_state(state)
    print(f"{dbname} is back to its starting state.")
    return 0


def cmd_status(args) -> int:
    if args.manifest and not instructor_checkout():
        print("lab status --manifest is an instructor view: it needs pgdrill's own repository (with its "
              "solutions/), not a student template or the grading bundle.", file=sys.stderr)
        return 2
    state = _read_state()
    if not state:
        print("no lab (run: python grade.py lab up)")
        return 1
    server = _server(state).attach()
    running = server.is_running()
    dbname, db = _open(state)
    print(f"lab dir:    {lab_dir()}")
    print(f"server:     {state.get('server')} ({'running' if running else 'stopped'})")
    print(f"open:       {dbname} — {_describe(dbname, db)}")
    others = sorted(set(state.get("databases", {})) - {dbname})
    if others:
        print(f"also kept:  {', '.join(others)} ('lab up' with their exercise or fixture opens them again)")
    print(f"activity:   {'running' if _activity_alive(state) else 'stopped'}")
    if running:
        print(f"connect:    {_learner_uri(server, dbname)}")
    if args.manifest:
        sidecar = lab_dir() / "cluster" / "manifests" / f"{_key(db).template_name}.json"
        print("\nINSTRUCTOR VIEW — the planted faults (do not show learners):")
        print(sidecar.read_text() if sidecar.exists() else "(no manifest yet)")
    return 0 if running else 1


def cmd_logs(args) -> int:
    log = lab_dir() / "cluster" / "log" / "postgresql.log"
    if not log.exists():
        print("no server log yet", file=sys.stderr)
        return 1
    lines = log.read_text(errors="replace").splitlines()
    print("\n".join(lines[-args.lines:]))
    return 0


def cmd_down(args) -> int:
    state = _read_state()
    if not state:
        print("no lab")
        return 0
    _stop_activity(state)
    _write_state(state)
    server = _server(state).attach()
    with _Timer("stopping PostgreSQL"):
        server.shutdown()
    print("lab stopped (files kept; 'lab up' starts it again, 'lab destroy' deletes it)")
    return 0


def cmd_destroy(args) -> int:
    import shutil

    state = _read_state()
    if state:
        cmd_down(args)
    shutil.rmtree(lab_dir(), ignore_errors=True)
    print(f"lab deleted ({lab_dir()})")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grade.py lab", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="build (once) and start the incident database, or the starting state of an exercise")
    up.add_argument("exercise", nargs="?", metavar="EXERCISE_ID",
                    help="open this exercise's starting state (its fixture and setup.sql), e.g. course-05-indexes")
    up.add_argument("--fixture", choices=kinds.fixture_names(),
                    help=f"open a fixture as it is (default: what was open last, at first {DEFAULT_FIXTURE})")
    up.add_argument("--scale", type=float, help=f"incident size (default {DEFAULT_SCALE:g}: 100,000 products)")
    up.add_argument("--seed", type=int, help="which rows the faults hit (default 1)")
    up.add_argument("--server", choices=("embedded", "system"), help="PostgreSQL binaries (default embedded)")
    up.add_argument("--bindir", help="binaries for --server system")
    up.add_argument("--activity", action=argparse.BooleanOptionalAction, default=None,
                    help="run the Phase 1 background sessions (default on; remembered by reset)")
    up.set_defaults(func=cmd_up)
    ps = sub.add_parser("psql", help="open psql as the learner (extra arguments go to psql)")
    ps.add_argument("psql_args", nargs=argparse.REMAINDER)
    ps.set_defaults(func=cmd_psql)
    sub.add_parser("dsn", help="print the connection URI").set_defaults(func=cmd_dsn)
    sub.add_parser("reset", help="the open database back to its starting state").set_defaults(func=cmd_reset)
    st = sub.add_parser("status", help="show what is running")
    st.add_argument("--manifest", action="store_true", help="instructors: also print the planted faults")
    st.set_defaults(func=cmd_status)
    lg = sub.add_parser("logs", help="print the end of the server log")
    lg.add_argument("-n", "--lines", type=int, default=100)
    lg.set_defaults(func=cmd_logs)
    sub.add_parser("down", help="stop the server, keep the files").set_defaults(func=cmd_down)
    sub.add_parser("destroy", help="stop and delete the lab").set_defaults(func=cmd_destroy)
    return p


def main(argv: list[str]) -> int:
    if argv[:1] == ["psql"] and not ({"-h", "--help"} & set(argv[1:2])):
        # Everything after "psql" belongs to psql (argparse would take "-c" for its own).
        rest = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        args = argparse.Namespace(func=cmd_psql, psql_args=rest)
    else:
        args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ServerError as exc:
        print(f"grade.py lab: {exc}", file=sys.stderr)
        return 3
