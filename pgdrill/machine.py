"""What this machine offers a grader: the cores and memory it may use, and from them how many
grader processes (each with a PostgreSQL of its own) grade by default — the exercises of one
submission, or the submissions of a batch.

A container reports the host's cores and memory through ``os.cpu_count()`` and
``/proc/meminfo``; what it may really use is capped by its control group (Gradescope's default
autograder: 0.5 CPU and 768 MB on a host with many more). So the cgroup's limits count too —
cgroup v2 (``cpu.max``, ``memory.max``) and v1 (``cpu.cfs_quota_us``/``cpu.cfs_period_us``,
``memory.limit_in_bytes``), in the process's own group and every group above it, as the kernel
applies them.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

#: A second grader process is started only with at least this much memory: two servers
#: (256 MB shared buffers each, 128 MB for an index build) beside two Python processes, with
#: room for the page cache that the template copies go through.
MEMORY_FOR_TWO_WORKERS = 4 * 1024**3
#: Two processes are what was measured (docs/classroom.md): on 2 cores the whole course in
#: about 60 % of the time one process takes. More would hold more servers for a course whose
#: longest exercise (Task 4.1) bounds it anyway.
MOST_DEFAULT_WORKERS = 2


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _own_groups(root: Path) -> dict[str, str]:
    """The process's cgroup path per controller ("" is cgroup v2's unified hierarchy)."""
    groups: dict[str, str] = {}
    for line in (_read(root / "proc/self/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(",") if parts[1] else [""]:
            groups[controller] = parts[2]
    return groups


def _group_dirs(mount: Path, group: str | None) -> list[Path]:
    """The folders of ``group`` and of every group above it under ``mount``, own first. In a
    container with its own cgroup namespace the group is "/" and the mount is its own."""
    dirs = []
    parts = [p for p in (group or "/").split("/") if p]
    for depth in range(len(parts), -1, -1):
        folder = mount.joinpath(*parts[:depth])
        if folder.is_dir():
            dirs.append(folder)
    return dirs or [mount]


def _cgroup_cpu_limit(root: Path) -> float | None:
    groups = _own_groups(root)
    limits = []
    for folder in _group_dirs(root / "sys/fs/cgroup", groups.get("")):
        fields = (_read(folder / "cpu.max") or "").split()
        if len(fields) == 2 and fields[0] != "max" and fields[0].isdigit() and fields[1].isdigit() and int(fields[1]):
            limits.append(int(fields[0]) / int(fields[1]))
    for name in ("cpu", "cpu,cpuacct"):
        for folder in _group_dirs(root / "sys/fs/cgroup" / name, groups.get("cpu")):
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
            if quota and period and quota.lstrip("-").isdigit() and period.isdigit() and int(quota) > 0 and int(period):
                limits.append(int(quota) / int(period))
    return min(limits) if limits else None


def _cgroup_memory_limit(root: Path) -> int | None:
    groups = _own_groups(root)
    limits = []
    for folder in _group_dirs(root / "sys/fs/cgroup", groups.get("")):
        value = _read(folder / "memory.max")
        if value and value.isdigit():
            limits.append(int(value))
    for folder in _group_dirs(root / "sys/fs/cgroup/memory", groups.get("memory")):
        value = _read(folder / "memory.limit_in_bytes")
        if value and value.isdigit():
            limits.append(int(value))  # "no limit" is a huge number: min() leaves it out
    return min(limits) if limits else None


def _pinned_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def usable_cpus(root: Path = Path("/"), pinned: int | None = None) -> int:
    """The cores this process may run on: those it is pinned to (``pinned``, default: asked
    of the kernel), capped by a cgroup's CPU quota (0.5 CPU counts as 1)."""
    cpus = _pinned_cpus() if pinned is None else pinned
    quota = _cgroup_cpu_limit(root)
    if quota is not None:
        cpus = min(cpus, max(1, math.floor(quota)))
    return max(1, cpus)


def usable_memory(root: Path = Path("/")) -> int | None:
    """Bytes of memory this process's group may use: the machine's, capped by a cgroup's
    limit; None when neither can be read."""
    total = None
    for line in (_read(root / "proc/meminfo") or "").splitlines():
        name, _, rest = line.partition(":")
        if name == "MemTotal" and rest.split() and rest.split()[0].isdigit():
            total = int(rest.split()[0]) * 1024
    limit = _cgroup_memory_limit(root)
    known = [value for value in (total, limit) if value is not None]
    return min(known) if known else None


def default_workers(root: Path = Path("/"), pinned: int | None = None) -> int:
    """Grader processes when ``--workers`` is not given (one submission's exercises, or a
    batch's submissions): two on a machine with two usable cores and the memory for two
    servers, else one.
    (``root`` and ``pinned`` stand in for the machine in tests.)"""
    memory = usable_memory(root)
    if memory is None or memory < MEMORY_FOR_TWO_WORKERS:
        return 1
    return max(1, min(MOST_DEFAULT_WORKERS, usable_cpus(root, pinned)))
