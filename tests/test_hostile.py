"""Hostile and broken submissions: none can crash, hang, escape or fool the grader.

Every attack is one small file in ``tests/data/hostile/`` (the 50 MB file is made at test
time), graded by the real grader on ``demo-first-fix`` — backup scripts on
``course-10-backup-restore``. After each grading, in the same grading session, the next
exercise (``course-01-create-tables``) is graded with its reference solution and must still
score full marks, and the grader role must be as the sandbox made it. For each attack the
test shows that the grader finished, that the attempt scores nothing on what it broke, and
that the report says why in one line.

Expected scores are never written down. Attacks that change nothing are graded together,
each in its own lines of one file: refused statements around the reference solution, which
must then score exactly what it scores alone; runaway statements before the orphan query,
which must still run. An attack that changes the database is graded on its own and may
score no more than the untouched starter does (both graded here, on the same seed).

docs/security.md lists every attack, what stops it, and the test below that proves it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
from kit import by_id

from pgdrill import checks
from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR, Grader, fixture_keys
from pgdrill.report import Status
from pgdrill.spec import load_spec

EXERCISE = "demo-first-fix"
NEXT = "course-01-create-tables"
BACKUP_EXERCISE = "course-10-backup-restore"
DATA = Path(__file__).parent / "data" / "hostile"
REFERENCE_FOLLOWS = "-- pgdrill-test: the reference solution follows"
REFERENCE = (SOLUTIONS_DIR / EXERCISE / "solution.sql").read_text()
NOTES = (SOLUTIONS_DIR / EXERCISE / "notes.md").read_text()
# How long the grader lets one of its own statements run in the test of its watchdog (90 s
# by default).
CHECK_STATEMENT_LIMIT = 5
AS_ROOT = os.geteuid() == 0


# ------------------------------------------------------------------------------ helpers


def spec_of(exercise: str, **timeouts):
    spec = load_spec(EXERCISES_DIR / exercise / "exercise.yaml", checks.load_all())
    if timeouts:
        spec = dataclasses.replace(spec, timeouts=dataclasses.replace(spec.timeouts, **timeouts))
    return spec


def passed(result) -> set[str]:
    return {c.check_id for c in result.checks if c.status is Status.PASSED}


def problems(result) -> list:
    return [s for s in result.statements if s.status != "ok"]


def sql_attack(name: str, canaries: dict | None = None) -> str:
    text = (DATA / "sql" / f"{name}.sql").read_text()
    for key, value in (canaries or {}).items():
        text = text.replace(key, str(value))
    return text.replace(REFERENCE_FOLLOWS, REFERENCE)


def assert_one_line_reasons(result) -> None:
    """Every failed check and every statement that did not run says why, in one line."""
    for check in result.checks:
        if check.status is not Status.PASSED:
            assert check.message.strip() and "\n" not in check.message.strip(), (check.check_id, check.message)
            assert check.status is not Status.ERROR, (check.check_id, check.message)  # blamed on the attempt
    for stmt in problems(result):
        assert stmt.message.strip() and "\n" not in stmt.message.strip(), stmt


def grader_role_is_clean(pg_server) -> None:
    """The grader role is as the sandbox made it: no superuser, no settings anyone added."""
    with pg_server.connect(purpose="test-inspect") as conn:
        row = conn.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_catalog.pg_roles "
                           "WHERE rolname = 'pgdrill_grader'").fetchone()
        assert row == (False, False, False)
        stored = conn.execute(
            "SELECT r.rolname, s.setdatabase, s.setconfig FROM pg_catalog.pg_db_role_setting s "
            "JOIN pg_catalog.pg_roles r ON r.oid = s.setrole "
            "WHERE r.rolname IN ('learner', 'pgdrill_grader', 'techshop_app')").fetchall()
    names = {(role, db, item.split("=", 1)[0]) for role, db, config in stored for item in config}
    assert names <= {("learner", 0, "statement_timeout"), ("learner", 0, "lock_timeout"),
                     ("pgdrill_grader", 0, "statement_timeout"), ("pgdrill_grader", 0, "lock_timeout"),
                     ("pgdrill_grader", 0, "search_path"), ("pgdrill_grader", 0, "log_min_duration_statement"),
                     ("pgdrill_grader", 0, "log_statement")}, stored


@pytest.fixture(scope="module")
def attack_spec():
    return spec_of(EXERCISE)


@pytest.fixture(scope="module")
def next_spec():
    return spec_of(NEXT)


@pytest.fixture(scope="module")
def reference_passes(grader, attack_spec) -> set[str]:
    result = grader.grade_exercise(attack_spec, SOLUTIONS_DIR / EXERCISE)
    assert result.points == result.max_points, [(c.check_id, c.message) for c in result.checks]
    return passed(result)


@pytest.fixture(scope="module")
def starter_passes(grader, attack_spec) -> set[str]:
    """What the untouched starter earns (plus the notes, which every attack below hands in)."""
    return passed(grader.grade_exercise(attack_spec, EXERCISES_DIR / EXERCISE)) | {"notes"}


@pytest.fixture
def attempt(grader, next_spec, tmp_path, pg_server):
    """``attempt(files, spec=…, using=…)`` grades a submission (with the session's grader, or
    ``using``), then the next exercise's reference with the session's grader.

    ``files`` maps a path to its text or bytes. Returns the attack's ExerciseResult after
    checking that the grader finished and that the next exercise still scores full marks.
    """
    counter = iter(range(1000))

    def run(files: dict, *, spec, using=None):
        folder = tmp_path / f"submission-{next(counter)}"
        folder.mkdir()
        for rel, content in files.items():
            (folder / rel).write_bytes(content if isinstance(content, bytes) else content.encode())
        result = (using or grader).grade_exercise(spec, folder)
        assert not result.error, result.error  # graded, not "could not be graded"
        assert_one_line_reasons(result)
        after = grader.grade_exercise(next_spec, SOLUTIONS_DIR / NEXT)
        assert after.points == after.max_points, [(c.check_id, c.message) for c in after.checks
                                                  if c.status is not Status.PASSED]
        grader_role_is_clean(pg_server)
        return result

    return run


# ------------------------------------------------------------------------------ composing attacks

def compose(*names: str, canaries: dict | None = None) -> tuple[str, dict[str, range]]:
    """One submission made of several attacks (those that change nothing, or only their own
    session) around the reference solution, and the lines each attack occupies in it.

    An attack file that ends with the placeholder comes before the reference; one that starts
    with it comes after (it needs the reference's work done, or must be last, like a lock left
    open at the end of the file).
    """
    before, after = [], []
    for name in names:
        text = (DATA / "sql" / f"{name}.sql").read_text()
        for key, value in (canaries or {}).items():
            text = text.replace(key, str(value))
        (after if text.lstrip().startswith(REFERENCE_FOLLOWS) else before).append(
            (name, text.replace(REFERENCE_FOLLOWS + "\n", "").rstrip("\n") + "\n"))
    parts = before + [("reference", REFERENCE.rstrip("\n") + "\n")] + after
    lines, out, line = {}, [], 1
    for name, text in parts:
        count = text.count("\n")
        lines[name] = range(line, line + count)
        out.append(text)
        line += count
    return "".join(out), lines


def outcomes_of(result, lines: range) -> list:
    return [s for s in result.statements if s.line in lines]


# ------------------------------------------------------------------------------ broken files

def test_empty_solution_and_missing_notes(attempt, attack_spec, starter_passes):
    result = attempt({"solution.sql": ""}, spec=attack_spec)
    assert passed(result) <= starter_passes - {"notes"}
    found = by_id(result)["orphan-items-found"]
    assert found.points == 0 and "-- name: orphan_items" in found.message  # says what to write
    assert "notes.md" in by_id(result)["notes"].message


def test_missing_solution(attempt, attack_spec, starter_passes):
    result = attempt({"notes.md": NOTES}, spec=attack_spec)
    assert [s.message for s in result.statements] == ["missing file: solution.sql was not submitted"]
    assert passed(result) <= starter_passes


def test_bytes_that_are_not_utf8_cost_their_statement(attempt, attack_spec, reference_passes):
    data = (DATA / "sql" / "non_utf8.sql").read_bytes() + b"\n" + REFERENCE.split("ORDER BY oi.id;", 1)[1].encode()
    result = attempt({"solution.sql": data, "notes.md": NOTES}, spec=attack_spec)
    (refused,) = problems(result)
    assert refused.status == "refused" and refused.line == 3 and "line 3: bytes that are not UTF-8" in refused.message
    assert passed(result) == reference_passes - {"orphan-items-found", "orphan-items-columns"}


def test_a_50_mb_file_is_refused_unread(attempt, attack_spec, starter_passes):
    filler = ("-- " + "x" * 1021 + "\n").encode() * (50 * 1024)
    result = attempt({"solution.sql": REFERENCE.encode() + filler, "notes.md": NOTES}, spec=attack_spec)
    (refused,) = result.statements
    assert refused.status == "refused" and "limit" in refused.message
    assert passed(result) <= starter_passes  # not one statement of it ran


# ------------------------------------------------------------------------------ refused statements

REFUSED = {  # attack: the SQLSTATEs its statements fail with
    "syntax_error": {"42601"},
    "drop_database": {"25001", "42501", "55006"},
    "alter_system": {"42501"},
    "copy_program": {"42501"},
    "read_server_files": {"42501"},
    "dblink": {"42501", "42883", "0A000"},
    "untrusted_extension": {"42501", "0A000", "42704", "58P01"},
    "set_role": {"42501"},
    "prepared_transaction": {"55000"},
    "terminate_backends": {"42501", "57P01"},
    "meta_commands": {""},
}


def test_refused_statements_change_nothing(attempt, attack_spec, reference_passes, tmp_path):
    """Privileged, destructive or out-of-reach statements fail one by one with their reason;
    the reference solution in the same file, the same session after them, still scores full
    marks; the learner's session keeping a lock or its own search_path at the end of the file
    does not reach the checks."""
    canary = tmp_path / "canary"
    canary.mkdir(mode=0o777)
    canary.chmod(0o777)  # writable by anyone: only a refused command keeps it empty
    server_canary = Path(f"/tmp/pgdrill-hostile-{uuid.uuid4().hex}")  # where COPY … PROGRAM would write
    text, lines = compose(*REFUSED, "search_path_session", "lock_left_open",
                          canaries={"CANARY_DIR": canary, "/tmp/pgdrill-hostile-copy-program": server_canary})
    result = attempt({"solution.sql": text, "notes.md": NOTES}, spec=attack_spec)
    assert passed(result) == reference_passes
    for name, states in REFUSED.items():
        outcomes = [s for s in outcomes_of(result, lines[name]) if s.status != "ok"]
        assert outcomes and {s.sqlstate for s in outcomes} <= states, (name, [(s.line, s.message) for s in outcomes])
    assert [s.status for s in outcomes_of(result, lines["meta_commands"])] == ["refused"] * 7
    assert list(canary.iterdir()) == [] and not server_canary.exists()
    *_, self_kill = [s for s in outcomes_of(result, lines["terminate_backends"]) if s.status != "ok"]
    assert "session was lost" in self_kill.message  # its own session only; the next statement reconnects
    (unfinished,) = [s for s in outcomes_of(result, lines["lock_left_open"]) if s.status != "ok"]
    assert "ended inside a transaction" in unfinished.message
    assert not [s for s in outcomes_of(result, lines["search_path_session"]) if s.status != "ok"]


# ------------------------------------------------------------------------------ time and memory

RUNAWAY = ["pg_sleep", "statement_timeout_off", "statement_timeout_reset", "recursive_cte", "cross_join",
           "cancel_swallowed"]


def test_runaway_statements_are_stopped_from_outside(attempt, starter_passes):
    """Sleeping, recursing forever, cross-joining, with the server's timeout switched off or
    the cancel request caught: each statement is stopped at its limit (cancelled, or its
    session terminated), and the next statement runs — here the orphan query, last."""
    parts = [(DATA / "sql" / f"{name}.sql").read_text().replace(REFERENCE_FOLLOWS + "\n", "") for name in RUNAWAY]
    named = REFERENCE[REFERENCE.index("-- name: orphan_items"):REFERENCE.index("ORDER BY oi.id;") + 15]
    result = attempt({"solution.sql": "".join(parts) + named + "\n", "notes.md": NOTES},
                     spec=spec_of(EXERCISE, statement=1, file=90))
    stopped = problems(result)
    assert [s.status for s in stopped] == ["timeout"] * len(RUNAWAY), [(s.line, s.message) for s in stopped]
    assert all(s.duration_s < 30 for s in stopped)  # cancelled at 1 s, or terminated a few seconds later
    assert "terminated" in stopped[-1].message  # cancel_swallowed caught the cancel request
    assert passed(result) == starter_passes | {"orphan-items-found", "orphan-items-columns"}


def test_a_billion_rows_and_rows_of_20_mb_are_not_kept(attempt, attack_spec):
    text = sql_attack("cross_join_rows") + "\n" + sql_attack("huge_cells")
    result = attempt({"solution.sql": text, "notes.md": NOTES}, spec=attack_spec)
    found = by_id(result)["orphan-items-found"]
    assert found.points == 0 and "more than" in found.message
    rows, huge = [s for s in result.statements if s.sql.lstrip().startswith("SELECT")]
    assert rows.status == "ok" and "cap" in rows.message
    assert huge.status == "error" and "larger than 1 MiB" in huge.message, huge  # stopped at the first row


def test_a_named_query_of_huge_values_fails_with_the_cap(attempt, attack_spec, reference_passes):
    """Item 8 for the learner's own query: the check that grades it fails and names the cap;
    every other check scores as with the reference alone, and the next exercise (graded by
    ``attempt``) is untouched. Memory: tests/test_runner.py measures it."""
    result = attempt({"solution.sql": sql_attack("huge_values"), "notes.md": NOTES}, spec=attack_spec)
    lost = reference_passes - passed(result)
    assert lost == {"orphan-items-found", "orphan-items-columns"}  # the two checks of that query
    for check_id in lost:
        message = by_id(result)[check_id].message
        assert "failed" in message and "a row of its result is larger than 1 MiB" in message, message
    (huge,) = problems(result)
    assert huge.status == "error" and huge.sqlstate == "54000"


def test_catalog_definitions_too_large_to_read_are_the_learners_doing(attempt, attack_spec, monkeypatch):
    """Catalog definitions reach the grader cut to 64 KiB each; a row of the grader's catalog
    read that is still larger than its byte cap (lowered here to 100 KB: the bloated index's
    predicate and definition, 64 KiB each) is stopped by the server before the grader
    receives it. The check that reads products' indexes fails, blamed on the attempt."""
    import pgdrill.checks.sql
    monkeypatch.setattr(pgdrill.checks.sql, "READ_ROW_BYTES", 100_000)
    result = attempt({"solution.sql": sql_attack("huge_catalog_value"), "notes.md": NOTES}, spec=attack_spec)
    if any(s.sqlstate == "54000" for s in problems(result)):  # "row is too big": pg_index without TOAST
        pytest.skip("this server cannot store a 3 MB index predicate, so the attack cannot be planted")
    trigram = by_id(result)["trigram-index"]
    assert trigram.status is Status.FAILED and "larger than 97 KiB" in trigram.message, (trigram.message,
                                                                                      problems(result))


def test_more_catalog_rows_than_the_grader_reads(attempt, attack_spec, monkeypatch):
    import pgdrill.checks.sql
    monkeypatch.setattr(pgdrill.checks.sql, "READ_ROW_CAP", 10)
    result = attempt({"solution.sql": sql_attack("many_indexes"), "notes.md": NOTES}, spec=attack_spec)
    trigram = by_id(result)["trigram-index"]
    assert trigram.status is Status.FAILED and "more than 10 rows" in trigram.message, trigram.message


# ------------------------------------------------------------------------------ fooling the checks

def test_catalog_look_alikes_in_public_fool_nothing(attempt, attack_spec, starter_passes):
    result = attempt({"solution.sql": sql_attack("fake_catalog"), "notes.md": NOTES}, spec=attack_spec)
    assert not problems(result)  # the learner may create them…
    assert passed(result) <= starter_passes  # …and they change no check


def test_functions_shadowing_builtins(attempt, attack_spec, reference_passes):
    result = attempt({"solution.sql": sql_attack("shadow_builtins"), "notes.md": NOTES}, spec=attack_spec)
    lost = reference_passes - passed(result)
    assert lost and lost <= {"search-uses-index", "orphan-items-found"}  # the checks that run SQL on public
    for check_id in lost:
        assert "named like built-ins" in by_id(result)[check_id].message


def test_stored_search_path_cannot_aim_a_probe_at_a_decoy(attempt, attack_spec, starter_passes):
    result = attempt({"solution.sql": sql_attack("search_path_role"), "notes.md": NOTES}, spec=attack_spec)
    assert by_id(result)["negative-stock-prevented"].points == 0
    assert passed(result) <= starter_passes
    (refused,) = problems(result)
    assert refused.sqlstate == "42501"  # ALTER ROLE pgdrill_grader


def test_indexes_that_cannot_serve_and_faked_plans(attempt, attack_spec):
    """A partial trigram index (WHERE false), a btree, and stored settings that would make any
    plan avoid sequential scans — in the learner's sessions, never in the grader's."""
    text = sql_attack("partial_index") + "\n" + sql_attack("plan_faking")
    result = attempt({"solution.sql": text, "notes.md": NOTES}, spec=attack_spec)
    checks_ = by_id(result)
    assert checks_["trigram-index"].points == 0 and "partial" in checks_["trigram-index"].message
    assert checks_["search-uses-index"].points == 0 and "Seq Scan" in checks_["search-uses-index"].message
    refused = [s.sqlstate for s in problems(result)]
    assert refused == ["42501", "42501"]  # ALTER DATABASE (not the owner), ALTER ROLE pgdrill_grader


def test_stored_planner_settings_are_named(attempt):
    """The indexing task has a check for exactly this: settings stored on the learner's role
    fail it, and its plan checks still see the missing indexes."""
    spec = spec_of("techshop-4-1-indexes")
    (sql_file,) = [f.path for f in spec.files if f.run == "sql"]
    result = by_id(attempt({sql_file: sql_attack("plan_faking")}, spec=spec))
    faking = result["no-plan-faking"]
    assert faking.points == 0 and "enable_seqscan" in faking.message
    assert "ALTER ROLE learner RESET enable_seqscan;" in "".join(e.body for e in faking.evidence)
    assert result["order-lines-uses-index"].points == 0


def test_an_invalid_index_does_not_count(attempt, attack_spec):
    result = by_id(attempt({"solution.sql": sql_attack("invalid_index"), "notes.md": NOTES}, spec=attack_spec))
    assert result["trigram-index"].points == 0 and "INVALID" in result["trigram-index"].message
    assert result["search-uses-index"].points == 0


def test_a_view_in_place_of_a_table(attempt, attack_spec):
    result = by_id(attempt({"solution.sql": sql_attack("view_for_table"), "notes.md": NOTES}, spec=attack_spec))
    assert result["trigram-index"].points == 0 and "view" in result["trigram-index"].message
    assert result["search-uses-index"].points == 0
    # The view hides the orphans; the table still holds them.
    assert result["no-orphans-left"].points == 0 and "now a view" in result["no-orphans-left"].message


def test_deleting_data_to_go_fast(attempt, attack_spec):
    result = by_id(attempt({"solution.sql": sql_attack("delete_to_speed_up"), "notes.md": NOTES},
                           spec=attack_spec))
    assert result["items-preserved"].points == 0 and result["nothing-else-lost"].points == 0
    assert "destroyed" in result["nothing-else-lost"].message


def test_dropping_schema_public(attempt, attack_spec):
    result = attempt({"solution.sql": sql_attack("drop_schema_public"), "notes.md": NOTES}, spec=attack_spec)
    assert passed(result) <= {"notes"}
    for check_id in ("items-preserved", "nothing-else-lost", "no-orphans-left", "trigram-index"):
        message = by_id(result)[check_id].message
        assert "no longer exists" in message or "does not exist" in message, message


# ------------------------------------------------------------------------------ trojan horses

def test_policies_and_triggers_do_not_act_for_the_grader(attempt, attack_spec, reference_passes):
    """Row security that sleeps 1 s per row (the grader bypasses it: over 60 000 rows it would
    take most of a day), and a trigger that tries to make the grader a superuser when a probe
    fires it (as the learner, who may not)."""
    started = time.monotonic()
    text, _ = compose("trojan_rls_sleep", "trojan_trigger")
    result = attempt({"solution.sql": text, "notes.md": NOTES}, spec=attack_spec)
    assert time.monotonic() - started < 300
    assert passed(result) == reference_passes  # grader_role_is_clean: no escalation either


def test_a_view_whose_function_turns_off_the_grader_timeout(attempt, attack_spec, grader):
    """Planned by the grader, the view's IMMUTABLE function switches statement_timeout off for
    the session, tries to escalate, stores a search_path on the grader role, then sleeps: the
    grader's watchdog stops the statement from outside."""
    quick = Grader(grader.server, grader.templates,
                   dataclasses.replace(grader.options, check_statement_limit=CHECK_STATEMENT_LIMIT))
    started = time.monotonic()
    result = attempt({"solution.sql": sql_attack("trojan_view"), "notes.md": NOTES}, spec=attack_spec, using=quick)
    assert time.monotonic() - started < 120  # the sleep is 11 days long
    search = by_id(result)["search-uses-index"]
    assert search.points == 0 and f"its own query after {CHECK_STATEMENT_LIMIT} s" in search.message


# ------------------------------------------------------------------------------ backup scripts

@pytest.fixture(scope="module")
def backup_spec():
    spec = spec_of(BACKUP_EXERCISE)
    # Containment is tested here: every run of a hostile script is short, and it is not re-run
    # under injected failures (tests/test_checks_files_failures.py tests those).
    short = {"backup_restores": {"timeout": 3, "failures": []}, "runbook_restore_consistent": {"timeout": 3}}
    chks = tuple(dataclasses.replace(c, args={**dict(c.args or {}), **short[c.check]}) if c.check in short
                 else c for c in spec.checks)
    return dataclasses.replace(spec, checks=chks)


RUNBOOK = (SOLUTIONS_DIR / BACKUP_EXERCISE / "RUNBOOK.md").read_text()


def backup_attack(name: str, canaries: dict | None = None) -> str:
    text = (DATA / "backup" / f"{name}.sh").read_text()
    for key, value in (canaries or {}).items():
        text = text.replace(key, str(value))
    return text


@pytest.fixture
def loopback_listener():
    """A TCP port on 127.0.0.1 that records whether anything connected to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.settimeout(0.2)
    seen: list = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            seen.append(conn.recv(100))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1], seen
    stop.set()
    thread.join()
    sock.close()


@pytest.mark.skipif(not AS_ROOT, reason="the backup script runs as another OS user only when the grader is root")
@pytest.mark.server_independent
def test_a_backup_script_cannot_harm_the_machine(attempt, backup_spec, next_spec, grader, pg_server, tmp_path,
                                                 loopback_listener):
    if pg_server.kind == "dsn" or os.environ.get("PGDRILL_SANDBOX_USER") == "":
        pytest.skip("no sandbox user on this server (--pg-server dsn, or PGDRILL_SANDBOX_USER is empty)")
    assert pg_server.sandbox is not None, "the grader is root: backup scripts must run as another OS user"
    # Both exercises' templates exist before the postmaster's PID is read: building one lazily
    # restarts the session's server with the build settings (Server.building), a new postmaster
    # that no script could have signalled.
    for spec in (backup_spec, next_spec):
        for key in fixture_keys(spec, grader.options):
            grader.templates.template(key)
    port, connections = loopback_listener
    canary = tmp_path / "canary"  # root's: 0755, like any folder outside the sandbox
    (canary / "keep-me").mkdir(parents=True)
    tmp_canary = Path(f"/tmp/pgdrill-hostile-{uuid.uuid4().hex}")
    postmaster = int((pg_server.data_dir / "postmaster.pid").read_text().split()[0])
    script = backup_attack("escape", {"CANARY_DIR": canary, "CANARY_TMP": tmp_canary, "POSTMASTER_PID": postmaster,
                                      "LISTENER_PORT": port, "MAIN_SOCKET": pg_server.socket_dir})
    result = attempt({"backup.sh": script, "RUNBOOK.md": RUNBOOK}, spec=backup_spec)
    backup = by_id(result)["backup-restores"]
    assert backup.points == 0 and "exited with status 1" in backup.message
    output = backup.evidence[0].body
    assert "running as nobody" in output or "running as " in output and "running as root" not in output
    assert "could not read /etc/shadow" in output and "root:" not in output
    assert "could not signal the postmaster" in output and "no network" in output
    assert (canary / "keep-me").is_dir() and not (canary / "written").exists()
    assert connections == []
    os.kill(postmaster, 0)  # still running
    # The settings it stored on pgdrill_grader are gone (attempt's grader_role_is_clean).
    if tmp_canary.exists():  # world-writable /tmp is the sandbox user's too: nothing more
        assert tmp_canary.stat().st_uid != 0
        tmp_canary.unlink()


@pytest.mark.server_independent
def test_a_backup_script_that_forks_forever_leaves_nothing_behind(attempt, backup_spec):
    marker = f"pgdrill-hostile-{uuid.uuid4().hex[:12]}"
    result = attempt({"backup.sh": backup_attack("fork_bomb", {"MARKER": marker}), "RUNBOOK.md": RUNBOOK},
                     spec=backup_spec)
    backup = by_id(result)["backup-restores"]
    assert backup.points == 0 and "did not finish within 3 s" in backup.message
    left = []
    for entry in Path("/proc").iterdir():
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                left.append(entry.name)
        except OSError:
            continue
    assert left == []


def test_a_dump_that_links_out_of_backup_dir_is_not_followed(attempt, backup_spec):
    result = attempt({"backup.sh": backup_attack("link_out"), "RUNBOOK.md": RUNBOOK}, spec=backup_spec)
    backup = by_id(result)["backup-restores"]
    assert backup.points == 0 and "symbolic link" in backup.message
    assert "root:" not in backup.message + "".join(e.body for e in backup.evidence)


@pytest.mark.skipif(not AS_ROOT, reason="the restore script runs as another OS user only when the grader is root")
@pytest.mark.server_independent
def test_a_restore_script_is_learner_only_in_its_scratch_database(attempt, pg_server):
    if pg_server.kind == "dsn" or os.environ.get("PGDRILL_SANDBOX_USER") == "":
        pytest.skip("no sandbox user on this server")
    exercise = "techshop-5-2-backup"
    files = {p.name: p.read_text() for p in (SOLUTIONS_DIR / exercise).iterdir() if p.name != "NOTES.md"}
    files["restore.sh"] = backup_attack("restore_elsewhere", {"# REFERENCE_RESTORE": files["restore.sh"]})
    result = by_id(attempt(files, spec=spec_of(exercise)))
    (restore,) = [c for c in result.values() if c.check == "restore_script_restores"]
    assert restore.status is Status.PASSED, restore.message  # its own database: restored in full
    output = next(e.body for e in restore.evidence if e.title.startswith("Output of restore.sh"))
    assert "restore runs as root" not in output and "kept out of postgres" in output
    assert "kept out of pgdrill_" in output  # the graded clone
    assert "got into" not in output, output


def _sandboxed(pg_server) -> None:
    if not AS_ROOT or pg_server.kind == "dsn" or os.environ.get("PGDRILL_SANDBOX_USER") == "":
        pytest.skip("learner programs are sandboxed only when the grader is root with a sandbox user")


def _program_sessions_and_roles(pg_server) -> tuple[list, list]:
    with pg_server.connect(purpose="test-inspect") as conn:
        sessions = conn.execute("SELECT usename, state FROM pg_catalog.pg_stat_activity "
                                "WHERE usename LIKE 'pgdrill\\_prog\\_%'").fetchall()
        roles = conn.execute("SELECT rolname FROM pg_catalog.pg_roles WHERE rolname LIKE 'pgdrill\\_prog\\_%'").fetchall()
    return sessions, roles


@pytest.mark.server_independent
def test_a_backup_script_reads_no_answer_key_and_leaves_no_files(attempt, backup_spec, pg_server, tmp_path):
    """Items 1 and 5: the checkout, another submission and the grader's command line are out of
    sight; what it writes to /tmp, /dev/shm and /var/tmp is gone afterwards."""
    _sandboxed(pg_server)
    other = tmp_path / "other-learner"
    other.mkdir()
    (other / "solution.sql").write_text("SELECT 'ANOTHER-LEARNERS-ANSWER';\n")
    other.chmod(0o755)  # even where the folder is readable by all
    (other / "solution.sql").chmod(0o644)
    marker = f"pgdrill-hostile-{uuid.uuid4().hex[:12]}"
    canary = Path("/tmp") / f"{marker}-host"
    canary.write_text("the host's /tmp")
    root = Path(__file__).resolve().parents[1]
    script = backup_attack("read_keys", {"REPO_ROOT": root, "OTHER_SUBMISSION": other, "MARKER": marker})
    try:
        result = attempt({"backup.sh": script, "RUNBOOK.md": RUNBOOK}, spec=backup_spec)
    finally:
        canary.unlink()
    backup = by_id(result)["backup-restores"]
    assert backup.status is Status.PASSED, backup.message  # its own backup is still right
    output = next(e.body for e in backup.evidence if e.title.startswith("Output of backup.sh"))
    assert "READ " not in output and "ANOTHER-LEARNERS-ANSWER" not in output
    assert "could not read" in output and "SEEN" not in output, output
    assert int(output.split("processes seen: ")[1].split()[0]) < 10  # its own PID namespace
    # /tmp is its own: the host's (this canary) is out of sight; only the mount points of
    # what it was given show (its folders, the client binaries, the database socket).
    seen = [line.split("IN TMP: ", 1)[1] for line in output.splitlines() if line.startswith("IN TMP: ")]
    assert canary.name not in seen
    assert all(name.startswith(("pgdrill-backup-", "pgdrill-pginstall-", "pgdrill-clusters-")) for name in seen), seen
    for folder in ("/tmp", "/dev/shm", "/var/tmp"):
        assert not (Path(folder) / marker).exists(), folder


@pytest.mark.server_independent
def test_a_backup_script_cannot_sabotage_the_next_learner(attempt, backup_spec, pg_server):
    """Item 2: its role reaches one database with a few sessions, cannot end anyone else's,
    and every session it started ends with the check (``attempt`` then grades the next
    exercise, which must score full marks)."""
    _sandboxed(pg_server)
    result = attempt({"backup.sh": backup_attack("sabotage"), "RUNBOOK.md": RUNBOOK}, spec=backup_spec)
    backup = by_id(result)["backup-restores"]
    output = next(e.body for e in backup.evidence if e.title.startswith("Output of backup.sh"))
    assert "kept out of postgres" in output and "kept out of template1" in output, output
    assert "got into" not in output
    mine = output.split("sessions of mine: ")[1].split()[0]
    assert "too many connections for role" in output or int(mine) <= 8, output  # the role's connection limit
    assert backup.points == 0  # its own sessions used up its limit: pg_dump could not connect
    assert _program_sessions_and_roles(pg_server) == ([], [])


@pytest.mark.server_independent
def test_a_backup_script_cannot_reach_another_cluster(attempt, backup_spec, pg_server):
    """Item 3: a second grader's cluster on the same machine is neither visible (its socket is
    outside the sandbox) nor open to the sandbox user (no peer mapping, no role of this run)."""
    _sandboxed(pg_server)
    from pgdrill.fixtures.server import start_server

    other = start_server(pg_server.kind, bindir=pg_server.bindir if pg_server.kind == "system" else None)
    try:
        script = backup_attack("other_cluster", {"OTHER_SOCKET": other.sandbox_socket_dir})
        result = attempt({"backup.sh": script, "RUNBOOK.md": RUNBOOK}, spec=backup_spec)
        backup = by_id(result)["backup-restores"]
        assert backup.status is Status.PASSED, backup.message
        output = next(e.body for e in backup.evidence if e.title.startswith("Output of backup.sh"))
        assert "got into" not in output and output.count("kept out of the other cluster") == 4, output
        # And were the socket visible: the sandbox user is no role there.
        import subprocess

        psql = Path(other.bindir) / "psql"
        for role in ("pgdrill_grader", "learner", "postgres"):
            proc = subprocess.run(["runuser", "-u", pg_server.sandbox.pw_name, "--", str(psql), "-X", "-w",
                                   "-h", str(other.sandbox_socket_dir), "-U", role, "-d", "postgres", "-c", "SELECT 1"],
                                  capture_output=True, text=True, timeout=60, cwd="/")
            assert proc.returncode != 0 and "authentication failed" in proc.stderr, (role, proc.stderr)
    finally:
        other.stop()


def test_a_dump_whose_toc_names_a_file_outside_it_is_not_restored(attempt, backup_spec, pg_server, tmp_path):
    """Item 4: a directory-format dump pointing its data at a root-only file."""
    _sandboxed(pg_server)
    secret = tmp_path / "secret"
    secret.write_text("TOPSECRET-" + uuid.uuid4().hex + "\n")
    secret.chmod(0o600)
    result = attempt({"backup.sh": backup_attack("toc_escape", {"SECRET_PATH": secret}), "RUNBOOK.md": RUNBOOK},
                     spec=backup_spec)
    backup = by_id(result)["backup-restores"]
    assert backup.points == 0 and "outside the dump" in backup.message, backup.message
    shown = backup.message + "".join(e.body for e in backup.evidence)
    assert "TOPSECRET" not in shown


@pytest.mark.server_independent
def test_without_a_sandbox_programs_are_not_run_unless_the_instructor_allows_it(grader, backup_spec, pg_server,
                                                                              monkeypatch, tmp_path):
    """Where bubblewrap cannot start, the check is not graded (an error that says why); with
    the instructor's flag it runs, and the report says it ran without the sandbox."""
    _sandboxed(pg_server)
    from pgdrill.fixtures import learner_programs

    learner_programs.bwrap_problem.cache_clear()
    no_bwrap = tmp_path / "bin"  # a PATH with a shell and no bubblewrap
    no_bwrap.mkdir()
    (no_bwrap / "bash").symlink_to(shutil.which("bash"))
    monkeypatch.setenv("PATH", str(no_bwrap))
    try:
        submission = SOLUTIONS_DIR / BACKUP_EXERCISE
        refused = by_id(grader.grade_exercise(backup_spec, submission))["backup-restores"]
        assert refused.status is Status.ERROR and refused.message.startswith("Not graded"), refused.message
        assert "bubblewrap" in refused.message and "--allow-unsandboxed-programs" in refused.message
        allowed = Grader(pg_server, grader.templates, dataclasses.replace(grader.options, unsandboxed_programs=True))
        ran = by_id(allowed.grade_exercise(backup_spec, submission))["backup-restores"]
        assert ran.status is Status.PASSED, ran.message
        assert any("WITHOUT the sandbox" in e.body for e in ran.evidence)
    finally:
        monkeypatch.undo()
        learner_programs.bwrap_problem.cache_clear()


# ------------------------------------------------------------------------------ broken specs

def validate(*args):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    return subprocess.run([sys.executable, str(root / "grade.py"), "validate", *args], capture_output=True, text=True,
                          timeout=600, cwd=root)


@pytest.fixture
def course(tmp_path):
    """A temp copy of the demo exercise and its reference solution: exercises/ and solutions/."""
    import shutil

    shutil.copytree(EXERCISES_DIR / EXERCISE, tmp_path / "exercises" / EXERCISE)
    shutil.copytree(SOLUTIONS_DIR / EXERCISE, tmp_path / "solutions" / EXERCISE)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> int:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return text[: text.index(old)].count("\n") + 1  # the line the edit is on


@pytest.mark.parametrize("old,new,cause", [
    ("check: no_orphans\n", "check: no_orphanz\n", "no_orphans"),                   # unknown check
    ("points: 2\n", "points: two\n", "points"),                                     # wrong type
    ("timeouts:\n", "timeouts: [\n", "yaml"),                                       # malformed YAML
    ("with: {child: order_items", "with: {kid: order_items", "kid"),                # argument the check has not
])
def test_validate_names_file_line_and_cause(course, old, new, cause):
    spec = course / "exercises" / EXERCISE / "exercise.yaml"
    line = _edit(spec, old, new)
    proc = validate("--exercises-dir", str(course / "exercises"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "exercise.yaml:" in proc.stderr and cause.lower() in proc.stderr.lower()
    if cause != "yaml":  # a YAML error is reported where the parser noticed it
        assert f"exercise.yaml:{line}" in proc.stderr, (line, proc.stderr)


@pytest.mark.server_independent
def test_validate_solutions_names_the_reference_that_fails(course, request):
    sol = course / "solutions" / EXERCISE / "solution.sql"
    _edit(sol, "CHECK (stock_quantity >= 0) NOT VALID;", "CHECK (stock_quantity >= -5) NOT VALID;")
    line = _edit(sol, "ANALYZE products;", "ANALYZE productz;")
    opt = request.config.getoption
    server = ["--server", opt("--pg-server")] + (["--dsn", opt("--pg-dsn")] if opt("--pg-dsn") else []) + \
        (["--bindir", opt("--pg-bindir")] if opt("--pg-bindir") else [])
    proc = validate("--exercises-dir", str(course / "exercises"), "--solutions", "--scale", "0.1", "--seed", "1",
                    *server)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"solution.sql:{line}: error [42P01]" in proc.stdout  # the statement that failed, with its line
    assert "check negative-stock-prevented" in proc.stdout and "exercise.yaml:" in proc.stdout
    assert "FAIL demo-first-fix" in proc.stdout


@pytest.mark.server_independent
def test_validate_solutions_accepts_the_error_a_proof_wants(tmp_path, request):
    """3.2's reference proves the corruption with a statement that must fail (amcheck's
    error is the finding): validate counts that error as the proof, not as a broken
    reference; a reference whose proof is taken out fails, naming the check."""
    import shutil

    exercise = "techshop-3-2-constraints"
    shutil.copytree(EXERCISES_DIR / exercise, tmp_path / "exercises" / exercise)
    shutil.copytree(SOLUTIONS_DIR / exercise, tmp_path / "solutions" / exercise)
    opt = request.config.getoption
    server = ["--server", opt("--pg-server")] + (["--dsn", opt("--pg-dsn")] if opt("--pg-dsn") else []) + \
        (["--bindir", opt("--pg-bindir")] if opt("--pg-bindir") else [])
    args = ("--exercises-dir", str(tmp_path / "exercises"), "--solutions", "--scale", "0.1", "--seed", "1", *server)
    proc = validate(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"ok   {exercise}" in proc.stdout
    sol = tmp_path / "solutions" / exercise / "constraints.sql"
    _edit(sol, "SELECT bt_index_check('customers_email_key', heapallindexed => true);", "SELECT 1;")
    proc = validate(*args)
    assert proc.returncode == 2 and f"FAIL {exercise}" in proc.stdout, proc.stdout + proc.stderr
    assert "check " in proc.stdout and "query_fails" in proc.stdout
