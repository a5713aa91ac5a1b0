"""Keeps the lab's background activity alive: ``python -m pgdrill.lab_activity CLUSTER_DIR DB SEED``.

Started detached by ``grade.py lab up`` and stopped by ``lab down``/``lab reset`` through the
PID it recorded. It plants the Phase 1 activity once, then waits; on SIGTERM it ends every
session it opened.
"""

import signal
import sys
import threading
from pathlib import Path

from pgdrill.fixtures.activity import PHASE1_KINDS, Activity
from pgdrill.fixtures.server import Server


def main() -> int:
    base, dbname, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    server = Server(kind="embedded", persistent=True, base_dir=base)
    server._set_paths()  # only the socket is needed to connect
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    activity = Activity(server, dbname, seed=seed)
    try:
        activity.start(PHASE1_KINDS)
        (base.parent / "activity.ready").write_text("ready\n")
        stop.wait()
    finally:
        activity.stop()
        (base.parent / "activity.ready").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
