"""How many grader processes grade one submission by default: the machine's cores and memory,
capped by its control group as a container's are (pgdrill.machine), and how grade.py uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgdrill import cli, machine

GIB = 1024**3
SOLUTIONS = str(Path(__file__).resolve().parents[1] / "solutions")


def fake_machine(root: Path, *, mem_kib: int = 24 * 1024 * 1024, proc_cgroup: str = "0::/\n",
                 files: dict[str, str] | None = None) -> Path:
    """A folder that looks like / to pgdrill.machine: /proc/meminfo, /proc/self/cgroup and
    cgroup files."""
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/meminfo").write_text(f"MemTotal:       {mem_kib} kB\nMemFree:        1000 kB\n")
    (root / "proc/self/cgroup").write_text(proc_cgroup)
    (root / "sys/fs/cgroup").mkdir(parents=True)
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_a_machine_without_limits_gives_two_workers_on_two_cores_and_one_on_one(tmp_path):
    root = fake_machine(tmp_path)
    assert machine.usable_memory(root) == 24 * GIB
    assert machine.default_workers(root, pinned=2) == 2
    assert machine.default_workers(root, pinned=8) == machine.MOST_DEFAULT_WORKERS == 2
    assert machine.default_workers(root, pinned=1) == 1


def test_memory_below_what_two_servers_need_gives_one_worker(tmp_path):
    just_enough = machine.MEMORY_FOR_TWO_WORKERS // 1024
    assert machine.default_workers(fake_machine(tmp_path / "a", mem_kib=just_enough), pinned=2) == 2
    assert machine.default_workers(fake_machine(tmp_path / "b", mem_kib=just_enough - 1), pinned=2) == 1
    # Nothing readable: one, the safe side.
    (tmp_path / "c").mkdir()
    assert machine.usable_memory(tmp_path / "c") is None
    assert machine.default_workers(tmp_path / "c", pinned=4) == 1


def test_cgroup_v2_limits_cap_what_the_host_reports(tmp_path):
    # Gradescope's default machine: half a CPU and 768 MB on a big host.
    small = fake_machine(tmp_path / "small", files={"sys/fs/cgroup/cpu.max": "50000 100000\n",
                                                    "sys/fs/cgroup/memory.max": f"{768 * 1024**2}\n"})
    assert machine.usable_cpus(small, pinned=64) == 1
    assert machine.usable_memory(small) == 768 * 1024**2
    assert machine.default_workers(small, pinned=64) == 1
    # Two CPUs' quota and 8 GB: two; 1.9 CPUs is one core's worth of whole processes.
    two = fake_machine(tmp_path / "two", files={"sys/fs/cgroup/cpu.max": "200000 100000\n",
                                                "sys/fs/cgroup/memory.max": f"{8 * GIB}\n"})
    assert machine.default_workers(two, pinned=64) == 2
    under_two = fake_machine(tmp_path / "under", files={"sys/fs/cgroup/cpu.max": "190000 100000\n"})
    assert machine.usable_cpus(under_two, pinned=64) == 1
    # "max" is no limit.
    unlimited = fake_machine(tmp_path / "max", files={"sys/fs/cgroup/cpu.max": "max 100000\n",
                                                      "sys/fs/cgroup/memory.max": "max\n"})
    assert machine.usable_cpus(unlimited, pinned=4) == 4
    assert machine.usable_memory(unlimited) == 24 * GIB


def test_a_limit_of_the_group_above_counts_too(tmp_path):
    # The process's own group has no limit; its parent has 3 GB.
    root = fake_machine(tmp_path, proc_cgroup="0::/grading/job-7\n",
                        files={"sys/fs/cgroup/grading/memory.max": f"{3 * GIB}\n",
                               "sys/fs/cgroup/grading/job-7/memory.max": "max\n",
                               "sys/fs/cgroup/grading/job-7/cpu.max": "max 100000\n"})
    assert machine.usable_memory(root) == 3 * GIB
    assert machine.default_workers(root, pinned=2) == 1


def test_cgroup_v1_limits_count_as_well(tmp_path):
    # cgroup v1 as a container sees it: its group's folder under each controller's mount.
    root = fake_machine(tmp_path, proc_cgroup="4:memory:/box/1\n2:cpu,cpuacct:/box/1\n0::/\n",
                        files={"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
                               "sys/fs/cgroup/memory/box/1/memory.limit_in_bytes": f"{2 * GIB}\n",
                               "sys/fs/cgroup/cpu,cpuacct/box/1/cpu.cfs_quota_us": "-1\n",
                               "sys/fs/cgroup/cpu,cpuacct/box/1/cpu.cfs_period_us": "100000\n"})
    assert machine.usable_memory(root) == 2 * GIB
    assert machine.usable_cpus(root, pinned=4) == 4  # a quota of -1 is none
    assert machine.default_workers(root, pinned=4) == 1
    quota = fake_machine(tmp_path / "q", proc_cgroup="1:cpu:/\n",
                         files={"sys/fs/cgroup/cpu/cpu.cfs_quota_us": "100000\n",
                                "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"})
    assert machine.usable_cpus(quota, pinned=4) == 1


def test_this_machine_gives_an_answer():
    assert machine.usable_cpus() >= 1
    assert 1 <= machine.default_workers() <= machine.MOST_DEFAULT_WORKERS


@pytest.mark.parametrize("extra, machine_says, expected", [
    ([], 2, 2),                        # the machine's answer
    ([], 1, 1),
    (["--workers", "1"], 2, 1),        # asked for: as asked
    (["--no-cache"], 2, 1),            # each process would build every template
    (["--dsn", "postgresql://x@localhost/y"], 2, 1),  # one shared server
])
def test_grade_py_grades_one_submission_in_the_processes_the_machine_holds(monkeypatch, extra, machine_says, expected):
    """Without --workers, grade.py SUBMISSION (several exercises) takes its processes from
    pgdrill.machine; with a cache of templates, on servers of its own."""
    monkeypatch.setattr(machine, "default_workers", lambda: machine_says)
    chosen: list[int] = []

    def in_processes(args, specs, audience, workers):
        chosen.append(workers)
        return cli.EXIT_ALL_PASSED

    def in_process(args, specs, options, audience="instructor"):
        chosen.append(1)
        raise OSError("not started in this test")

    monkeypatch.setattr(cli, "_grade_in_processes", in_processes)
    monkeypatch.setattr(cli, "_start_server", in_process)
    monkeypatch.setattr(cli, "_emit", lambda report, args, audience: None)
    cli.cmd_grade([SOLUTIONS, "-e", "course-01-create-tables", "-e", "demo-first-fix", "--quiet", *extra])
    assert chosen == [expected]


def test_one_exercise_is_graded_in_this_process(monkeypatch):
    monkeypatch.setattr(machine, "default_workers", lambda: 2)
    started: list[bool] = []

    def in_process(args, specs, options, audience="instructor"):
        started.append(True)
        raise OSError("not started in this test")

    monkeypatch.setattr(cli, "_grade_in_processes", lambda *a: pytest.fail("one exercise needs no second process"))
    monkeypatch.setattr(cli, "_start_server", in_process)
    monkeypatch.setattr(cli, "_emit", lambda report, args, audience: None)
    assert cli.cmd_grade([SOLUTIONS, "-e", "demo-first-fix", "--quiet"]) == cli.EXIT_GRADER_ERROR
    assert started == [True]


@pytest.mark.parametrize("extra, machine_says, expected", [
    ([], 2, 2),
    ([], 1, 1),                  # a 1-core or small machine: two servers would compete
    (["--workers", "3"], 1, 3),  # asked for: as asked
])
def test_a_batch_takes_its_workers_from_the_machine_too(tmp_path, monkeypatch, extra, machine_says, expected):
    from pgdrill import batch

    monkeypatch.setattr(machine, "default_workers", lambda: machine_says)
    (tmp_path / "class" / "alice").mkdir(parents=True)
    chosen: list[int] = []

    def grade_batch(folder, options, **kwargs):
        chosen.append(options.workers)
        raise OSError("not graded in this test")

    monkeypatch.setattr(batch, "grade_batch", grade_batch)
    with pytest.raises(OSError, match="not graded in this test"):
        cli.cmd_grade(["--batch", str(tmp_path / "class"), "-e", "course-01-create-tables", *extra])
    assert chosen == [expected]
