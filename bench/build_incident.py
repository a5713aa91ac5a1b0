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
step of the build took (where the time goes; not part of the ratio), then the shortest build
those steps allow on any number of connections: the longest chain of steps that wait for each
other plus the steps that run alone, once as measured and once with every table's rows
written at `pgbench -i`'s pace (what the incident's own work costs beyond writing rows).
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

from pgdrill.fixtures.incident.build import (  # noqa: E402
    RECENT_ORDER_STEPS, SIDE_BY_SIDE_STEP, build_incident, default_connections, history_dependencies)
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


def step_seconds(server, scale: float) -> tuple[list[tuple[str, float]], dict[str, int]]:
    """Build the incident straight into a scratch database, timing each step; also returns
    the rows of each table (the manifest's counts)."""
    dbname = "bench_incident_steps"
    server.drop_database(dbname)
    with server.connect(purpose="bench") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(dbname)))
    steps: list[tuple[str, float]] = []
    try:
        with server.connect(dbname, purpose="build") as conn:
            manifest = build_incident(conn, scale=scale, seed=1, on_step=lambda name, s: steps.append((name, s)))
    finally:
        server.drop_database(dbname)
    return steps, manifest["counts"]


def critical_path(seconds: dict[str, float], after: dict[str, tuple[str, ...]]) -> tuple[float, list[str]]:
    """The longest chain of steps that wait for each other: when the last of ``after``'s
    steps could finish with a connection free for every step the moment it may start."""
    finish: dict[str, float] = {}
    previous: dict[str, str | None] = {}

    def end(name: str) -> float:
        if name not in finish:
            start, via = max(((end(dep), dep) for dep in after[name]), default=(0.0, None))
            finish[name], previous[name] = start + seconds[name], via
        return finish[name]

    last = max(after, key=end)
    chain = [last]
    while (via := previous[chain[-1]]) is not None:
        chain.append(via)
    return finish[last], chain[::-1]


def shortest_builds(steps: list[tuple[str, float]], counts: dict[str, int], pgbench_seconds_per_row: float,
                    connections: int) -> list[tuple[str, float, float, list[tuple[str, float]], float]]:
    """How short a build these steps allow: ``(label, seconds on unlimited connections,
    seconds on ``connections``, chain, seconds alone)`` as measured, then with every table's
    rows written at ``pgbench -i``'s pace. ``chain`` is the longest chain of steps waiting for
    each other, with their seconds; on ``connections`` the side-by-side steps take at least
    that chain and at least their seconds shared evenly."""
    after = history_dependencies()
    measured = dict(steps)
    alone = [(name, s) for name, s in steps if name not in after and name != SIDE_BY_SIDE_STEP]
    # The recent orders' steps only load rows, which are in the tables' counts already.
    recent = set(RECENT_ORDER_STEPS)
    at_pace = {**measured, **{f"load {table}": rows * pgbench_seconds_per_row for table, rows in counts.items()}}
    shortest = []
    for label, seconds, skipped in (("as measured", measured, set()),
                                    ("with every row written at pgbench -i's pace", at_pace, recent)):
        chain_s, chain = critical_path(seconds, after)
        alone_s = sum(s for name, s in alone if name not in skipped)
        shared_s = sum(seconds[name] for name in after) / connections
        shortest.append((label, chain_s + alone_s, max(chain_s, shared_s) + alone_s,
                         [(name, seconds[name]) for name in chain], alone_s))
    return shortest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[1, 10])
    ap.add_argument("--server", default="embedded", choices=("embedded", "system"))
    ap.add_argument("--markdown", type=Path, help="append the table to this Markdown file")
    ap.add_argument("--steps", action="store_true", help="also print each build step's seconds")
    args = ap.parse_args()
    connections = default_connections()  # what build_incident uses here
    lines = [
        f"### Incident build vs `pgbench -i` — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {platform.node()}, {platform.machine()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
        f"server: {args.server}, with the builder's settings (pgdrill.fixtures.server.BUILD_SETTINGS) for both; "
        f"the build uses {connections} connections; "
        f"load average at start: {os.getloadavg()[0]:.1f}",
        "",
        "| incident scale | incident rows | incident build (s) | rows/s | pgbench -i scale | pgbench rows | pgbench -i (s) | rows/s | ratio (incident / pgbench) | CPU s incident / pgbench (ratio) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    bounds: list[str] = []  # with --steps: how short a build the steps allow
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
                steps, counts = step_seconds(server, scale)
                for name, seconds in steps:
                    print(f"    {seconds:6.2f} s  {name}", flush=True)
                pgbench_s = pg_s * rows / pg_rows  # pgbench -i for as many rows as the incident
                for label, unlimited, on_ours, chain, alone_s in shortest_builds(
                        steps, counts, pg_s / pg_rows, connections):
                    bounds.append(
                        f"- scale {scale:g}, shortest build {label}: **{unlimited:.2f} s on unlimited connections "
                        f"({unlimited / pgbench_s:.2f}× `pgbench -i` per row), {on_ours:.2f} s on "
                        f"{connections} ({on_ours / pgbench_s:.2f}×)** — the chain "
                        f"{' → '.join(f'{name} {s:.2f}' for name, s in chain)}, then {alone_s:.2f} s of "
                        "steps that run alone")
                    print(bounds[-1], flush=True)
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
    if bounds:
        lines += ["", "The shortest build each scale's steps allow (`--steps`): the steps that run side by side "
                  "cannot take less than their longest chain of steps waiting for each other, nor less than "
                  "their seconds shared evenly among the connections; the steps that run alone come on top. "
                  "Second line of each scale: the same with every table's rows written at `pgbench -i`'s "
                  "pace (what the incident's own work costs beyond writing rows).", "", *bounds]
    publish(lines, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
