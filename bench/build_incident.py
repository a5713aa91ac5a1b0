#!/usr/bin/env python3
"""Time building the TechShop incident against `pgbench -i` for the same number of rows.

Both run on the same throwaway server in one process, side by side, so the yardstick sees
the same machine, disk and settings: those of the template cache's builder
(``pgdrill.fixtures.server.BUILD_SETTINGS`` on top of the serving settings, as ``ensure_cached`` runs it),
which help `pgbench -i` as much as the incident (wal_level minimal skips WAL for both loads). `pgbench -i` loads pgbench_accounts with 100,000 rows per
scale unit (plus a few tiny tables) using COPY, then adds primary keys and vacuums: a fair
yardstick for "how fast can this server load this many rows".

    python bench/build_incident.py [--scales 1 10] [--server embedded|system] [--steps]

Prints a table and, with --markdown FILE, appends it to FILE (bench/results.md). With --steps
it also builds each scale once more straight into a scratch database and prints how long each
step of the build took (where the time goes; not part of the ratio).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _publish import publish  # noqa: E402  (bench/ is on sys.path as the script's folder)

from pgdrill.fixtures.incident.build import default_connections, build_incident  # noqa: E402
from pgdrill.fixtures.server import start_server  # noqa: E402
from pgdrill.fixtures.templates import FixtureKey, TemplateCache  # noqa: E402


_TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(server) -> float:
    """CPU seconds used so far by the server: the postmaster, its live children, and the
    children it has reaped (a backend that exits hands its time to the postmaster's cutime).

    Wall-clock seconds on a shared machine depend on what else runs; CPU seconds much less.
    """
    postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry.name}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def client_cpu_seconds() -> float:
    """CPU seconds of this process plus its reaped children (pgbench)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def cpu_seconds(server) -> float:
    return server_cpu_seconds(server) + client_cpu_seconds()


def time_pgbench(server, rows: int) -> tuple[float, int, float]:
    scale = max(1, round(rows / 100_000))
    dbname = f"bench_pgbench_{scale}"
    server.drop_database(dbname)
    with server.connect(purpose="bench") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    params = server.connect_params(dbname)
    cpu = cpu_seconds(server)
    started = time.monotonic()
    subprocess.run([str(server.bindir / "pgbench"), "-i", "-q", "-s", str(scale), "-h", str(params["host"]),
                    "-p", str(params["port"]), "-U", params["user"], dbname],
                   check=True, capture_output=True)
    took = time.monotonic() - started
    cpu = cpu_seconds(server) - cpu
    server.drop_database(dbname)
    return took, scale * 100_000, cpu


def step_seconds(server, scale: float) -> list[tuple[str, float]]:
    """Build the incident straight into a scratch database, timing each step."""
    dbname = "bench_incident_steps"
    server.drop_database(dbname)
    with server.connect(purpose="bench") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(dbname)))
    steps: list[tuple[str, float]] = []
    try:
        with server.connect(dbname, purpose="build") as conn:
            build_incident(conn, scale=scale, seed=1, on_step=lambda name, s: steps.append((name, s)))
    finally:
        server.drop_database(dbname)
    return steps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[1, 10])
    ap.add_argument("--server", default="embedded", choices=("embedded", "system"))
    ap.add_argument("--markdown", type=Path, help="append the table to this Markdown file")
    ap.add_argument("--steps", action="store_true", help="also print each build step's seconds")
    args = ap.parse_args()
    lines = [
        f"### Incident build vs `pgbench -i` — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {platform.node()}, {platform.machine()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
        f"server: {args.server}, with the builder's settings (pgdrill.fixtures.server.BUILD_SETTINGS) for both; "
        f"the build uses {default_connections()} connections; "
        f"load average at start: {os.getloadavg()[0]:.1f}",
        "",
        "| incident scale | incident rows | incident build (s) | rows/s | pgbench -i scale | pgbench rows | pgbench -i (s) | rows/s | ratio (incident / pgbench) | CPU s incident / pgbench (ratio) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with start_server(args.server, build_mode=True) as server:
        cache = TemplateCache(server)
        for scale in args.scales:
            cpu = cpu_seconds(server)
            tmpl = cache.template(FixtureKey("techshop", scale, 1))
            inc_cpu = cpu_seconds(server) - cpu
            rows = sum(tmpl.manifest["counts"].values())
            inc_s = tmpl.build_seconds
            pg_s, pg_rows, pg_cpu = time_pgbench(server, rows)
            lines.append(f"| {scale:g} | {rows:,} | {inc_s:.1f} | {rows / inc_s:,.0f} | {pg_rows // 100_000} | "
                         f"{pg_rows:,} | {pg_s:.1f} | {pg_rows / pg_s:,.0f} | {inc_s / pg_s:.2f} | "
                         f"{inc_cpu:.1f} / {pg_cpu:.1f} ({inc_cpu / pg_cpu:.2f}) |")
            print(lines[-1], flush=True)
            cache.drop(tmpl.dbname)
            if args.steps:
                for name, seconds in step_seconds(server, scale):
                    print(f"    {seconds:6.2f} s  {name}", flush=True)
    lines.append("")
    lines.append(f"Load average at the end: {os.getloadavg()[0]:.1f} (2 cores shared with other engineers' runs "
                 "make wall-clock seconds noisy; CPU seconds much less so).")
    lines.append("")
    lines.append("The incident build also generates realistic values server-side (hash-seeded, the same "
                 "on every server version), plants 18 faults (two full-table rewrites that leave dead "
                 "row versions in heaps and indexes, orders deleted under replica role, a corrupted "
                 "unique index, a failed concurrent index build), validates four foreign keys and "
                 "runs VACUUM ANALYZE once; it works on several connections side by side. "
                 "pgbench -i copies constant-filled rows on one connection. CPU seconds are the "
                 "server's processes plus the client's (this script for the incident, pgbench for "
                 "pgbench -i): unlike wall-clock seconds they hardly depend on what else the machine "
                 "runs, but they do not show the gain from working on several cores at once.")
    publish(lines, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
