"""The learner's playground: a persistent, broken TechShop database to explore with psql.

    python grade.py lab up [--scale S] [--seed N]   build (once) and start; prints how to connect
    python grade.py lab up --no-activity            … without the background sessions (--activity
                                                    brings them back; reset remembers the choice)
    python grade.py lab psql [PSQL ARGS…]           psql as role learner on database techshop
    python grade.py lab dsn                         the connection URI, for scripts and GUI tools
    python grade.py lab reset                       back to the planted state, from the template
    python grade.py lab status                      is it running, which scale and seed
    python grade.py lab logs [-n LINES]             the server log (connection errors, slow queries)
    python grade.py lab down                        stop the server, keep the files
    python grade.py lab destroy                     stop and delete everything

The lab runs on the same kind of server as grading (embedded PostgreSQL by default) in
``$PGDRILL_LAB_DIR`` (default ``/var/tmp/pgdrill-lab-<uid>``), with the background activity
of Phase 1 (a long-running report, a stuck transaction holding a row lock, a blocked stock
update) kept alive by a small daemon process. The manifest of planted faults is never
printed unless an instructor asks for it (``lab status --manifest``, refused outside pgdrill's
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

from fixtures.server import Server, ServerError, _readable_by_all, server_user
from fixtures.templates import FixtureKey, TemplateCache

ROOT = Path(__file__).resolve().parents[1]

LAB_DB = "techshop"
DEFAULT_SCALE = 1.0


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
        return json.loads(_state_path().read_text())
    except (OSError, ValueError):
        return {}


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


def _learner_uri(server: Server) -> str:
    return f"postgresql://learner@/{LAB_DB}?host={server.socket_dir}&port=5432"


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


def _start_activity(server: Server, state: dict) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgdrill.lab_activity", str(server.base_dir), LAB_DB, str(state["seed"])],
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


def _clone_lab_db(server: Server, state: dict) -> None:
    cache = TemplateCache(server, progress=_say)
    key = FixtureKey("techshop", state["scale"], state["seed"])
    with _Timer(f"preparing the TechShop incident (scale {state['scale']:g}, seed {state['seed']})"):
        cache.template(key)
    with _Timer("cloning a fresh techshop database from the template"):
        server.drop_database(LAB_DB)
        cache.clone(key, name=LAB_DB)


def cmd_up(args) -> int:
    state = _read_state()
    lab_dir().mkdir(parents=True, exist_ok=True)
    os.chmod(lab_dir(), 0o755)
    if server_user() is not None and not _readable_by_all(lab_dir()):
        raise ServerError(f"{lab_dir()} is not reachable by the server's user (a parent folder is private); "
                          "set PGDRILL_LAB_DIR to a folder under /var/tmp")
    wanted = {"scale": args.scale if args.scale is not None else state.get("scale", DEFAULT_SCALE),
              "seed": args.seed if args.seed is not None else state.get("seed", 1)}
    server = _server(state, args.server, args.bindir)
    with _Timer("starting PostgreSQL"):
        server.start()
    state.update(server=server.kind, bindir=str(server.bindir))
    changed = (state.get("scale"), state.get("seed")) != (wanted["scale"], wanted["seed"])
    state.update(wanted)
    with server.connect(purpose="lab") as conn:
        exists = conn.execute("SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s", (LAB_DB,)).fetchone()
    if changed or not exists:
        _stop_activity(state)
        _clone_lab_db(server, state)
    if getattr(args, "activity", None) is not None:
        state["activity"] = args.activity
    if not state.get("activity", True):
        _stop_activity(state)
    elif not _activity_alive(state):
        with _Timer("starting the application's background activity"):
            _start_activity(server, state)
    _write_state(state)
    print(f"The TechShop incident is up (PostgreSQL {server.version_num // 10000}, scale {state['scale']:g}, "
          f"seed {state['seed']}).")
    print("  explore it:       python grade.py lab psql")
    print(f"  connection URI:   {_learner_uri(server)}")
    print("  back to broken:   python grade.py lab reset      stop: python grade.py lab down")
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
    server, _ = _running_server()
    psql = server.bindir / "psql" if server.bindir and (server.bindir / "psql").exists() else "psql"
    os.execv(str(psql), [str(psql), "-d", _learner_uri(server), *args.psql_args])
    return 0  # not reached


def cmd_dsn(args) -> int:
    server, _ = _running_server()
    print(_learner_uri(server))
    return 0


def cmd_reset(args) -> int:
    server, state = _running_server()
    _stop_activity(state)
    _clone_lab_db(server, state)
    if state.get("activity", True):
        with _Timer("restarting the background activity"):
            _start_activity(server, state)
    _write_state(state)
    print("techshop is back to its planted state.")
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
    print(f"lab dir:    {lab_dir()}")
    print(f"server:     {state.get('server')} ({'running' if running else 'stopped'})")
    print(f"incident:   scale {state.get('scale'):g}, seed {state.get('seed')}")
    print(f"activity:   {'running' if _activity_alive(state) else 'stopped'}")
    if running:
        print(f"connect:    {_learner_uri(server)}")
    if args.manifest:
        key = FixtureKey("techshop", state["scale"], state["seed"])
        sidecar = lab_dir() / "cluster" / "manifests" / f"{key.template_name}.json"
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
    up = sub.add_parser("up", help="build (once) and start the incident database")
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
    sub.add_parser("reset", help="back to the planted state").set_defaults(func=cmd_reset)
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
