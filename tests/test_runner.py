"""The learner's SQL runs like psql would, and nothing in it can stop the grader."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pgdrill.runner import run_sql_file, run_sql_text
from pgdrill.sqlsplit import split_sql


@pytest.fixture
def clone(make_clone):
    return make_clone(fixture="empty")


def run(clone, text, **kw):
    return run_sql_text(clone.server, clone.dbname, text, **kw)


def test_statements_run_one_by_one_and_errors_do_not_hide_the_rest(clone):
    result = run(clone, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nSELEC oops;\n\nINSERT INTO t VALUES (2);\n")
    statuses = [(s.line, s.status) for s in result.statements]
    assert statuses == [(1, "ok"), (2, "ok"), (3, "error"), (5, "ok")]
    assert result.statements[2].sqlstate == "42601"
    with clone.connect() as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 2


def test_runs_as_the_learner(clone):
    result = run(clone, "-- name: me\nSELECT current_user, pg_catalog.current_setting('is_superuser');")
    assert result.captured["me"].rows == (("learner", "off"),)


def test_psql_meta_commands(clone):
    result = run(clone, "\\timing on\n\\x\n\\d products\nSELECT 1;\n\\! rm -rf /tmp/x\n\\o /tmp/out.txt\n")
    by_line = {s.line: s.status for s in result.statements}
    assert by_line == {1: "skipped", 2: "skipped", 3: "skipped", 4: "ok", 5: "refused", 6: "refused"}


def test_statements_that_cannot_run_in_a_transaction(clone):
    result = run(clone, "CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY t_id ON t (id);\nVACUUM ANALYZE t;\n")
    assert [s.status for s in result.statements] == ["ok", "ok", "ok"], result.statements


def test_explicit_transactions_behave_like_psql(clone):
    result = run(clone, "CREATE TABLE t (id int);\nBEGIN;\nINSERT INTO t VALUES (1);\nSELECT 1/0;\n"
                        "INSERT INTO t VALUES (2);\nCOMMIT;\nINSERT INTO t VALUES (3);\nBEGIN;\nINSERT INTO t VALUES (4);\n")
    assert [s.status for s in result.statements][:7] == ["ok", "ok", "ok", "error", "error", "ok", "ok"]
    assert "transaction" in result.statements[-1].message  # the file ended inside BEGIN
    with clone.connect() as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM t ORDER BY id")] == [3]


def test_grader_enforces_time_even_when_the_learner_disables_the_timeout(clone):
    started = time.monotonic()
    result = run(clone, "SET statement_timeout = 0;\nSELECT pg_catalog.pg_sleep(1000);\nSELECT 42;\n",
                 statement_timeout=1.0)
    took = time.monotonic() - started
    assert [s.status for s in result.statements] == ["ok", "timeout", "ok"]
    assert took < 10


def test_infinite_loop_is_stopped(clone):
    result = run(clone, "SET statement_timeout = 0;\nDO $$ BEGIN LOOP END LOOP; END $$;\nSELECT 1;\n",
                 statement_timeout=1.0)
    assert [s.status for s in result.statements] == ["ok", "timeout", "ok"]


def test_file_time_limit(clone):
    result = run(clone, "SELECT pg_catalog.pg_sleep(0.6);\n" * 5, statement_timeout=5, file_timeout=1.5)
    statuses = [s.status for s in result.statements]
    assert statuses.count("ok") >= 2 and statuses[-1] == "timeout"


def test_rows_are_capped(clone):
    result = run(clone, "-- name: many\nSELECT g FROM generate_series(1, 1000000) g;\nSELECT 1;\n", row_cap=100)
    many = result.captured["many"]
    assert len(many.rows) == 100 and many.truncated
    assert [s.status for s in result.statements] == ["ok", "ok"]


def test_named_results_are_captured_with_columns(clone):
    result = run(clone, "-- name: answer\nSELECT 1 AS a, NULL::text AS b\n")
    answer = result.captured["answer"]
    assert answer.columns == ("a", "b") and answer.rows == ((1, None),)


def test_a_named_query_with_no_rows_still_has_its_columns(clone):
    # "No sessions are waiting" is an answer: the checks must see its columns (pid, …), not none.
    result = run(clone, "CREATE TABLE t (id int, note text);\n"
                        "-- name: waiting\nSELECT pid, state AS session_state FROM pg_stat_activity WHERE false;\n"
                        "-- name: removed\nDELETE FROM t WHERE id < 0 RETURNING id, note;\n"
                        "BEGIN;\nINSERT INTO t VALUES (1, 'kept');\n"
                        "-- name: inside\nSELECT id AS ident FROM t WHERE id > 5;\n"
                        "-- name: every_column\nSELECT * FROM t WHERE id > 5;\nCOMMIT;\n")
    assert all(s.status == "ok" for s in result.statements), result.statements
    waiting = result.captured["waiting"]
    assert waiting.rows == () and waiting.columns == ("pid", "session_state")
    assert waiting.type_oids == (23, 25)
    assert result.captured["removed"].columns == ("id", "note")
    # inside an open transaction: described without disturbing it (the INSERT is committed)
    assert result.captured["inside"].columns == ("ident",)
    assert result.captured["every_column"].columns == ("id", "note")
    with clone.connect() as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1


def test_bad_bytes_and_missing_files(clone, tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_bytes(b"SELECT 1;\nSELECT '\xff\xfe';\nSELECT 2;\n")
    result = run_sql_file(clone.server, clone.dbname, bad)
    assert [s.status for s in result.statements] == ["ok", "refused", "ok"]
    missing = run_sql_file(clone.server, clone.dbname, tmp_path / "nope.sql")
    assert missing.statements[0].status == "error"


def test_copy_to_or_from_the_client_is_refused_and_does_not_wedge_the_session(clone):
    """Item 6 of the red team: before, every statement after a COPY … FROM STDIN failed with
    "another command is already in progress"."""
    result = run(clone, "CREATE TABLE t (id int);\nBEGIN;\nCOPY t FROM STDIN;\nINSERT INTO t VALUES (1);\n"
                        "COPY t TO STDOUT;\nCOPY (SELECT 1) TO STDOUT;\nINSERT INTO t VALUES (2);\n"
                        "-- name: rows\nSELECT count(*) FROM t;\n")
    by_line = {s.line: s for s in result.statements}
    assert [by_line[n].status for n in (3, 5, 6)] == ["refused"] * 3
    assert "STDIN" in by_line[3].message and "replaced" in by_line[3].message
    assert by_line[4].status == by_line[7].status == "ok"
    assert result.captured["rows"].rows == ((2,),)
    assert not any("transaction" in s.message and s.status == "error" for s in result.statements)


def test_query_sending_commands_that_do_more_than_run_are_refused(clone, tmp_path):
    target = tmp_path / "out.txt"
    result = run(clone, f"CREATE TABLE t (id int);\nSELECT 1 \\g {target}\nSELECT 'INSERT INTO t VALUES (7)' \\gexec\n"
                        "SELECT 2 AS two \\gset\n-- name: rows\nSELECT count(*) FROM t;\n")
    assert [s.status for s in result.statements] == ["ok", "refused", "refused", "refused", "ok"]
    assert not target.exists() and result.captured["rows"].rows == ((0,),)


def test_statement_outcomes_are_capped_in_the_report(clone):
    """Item 7: 20,000 meta-command lines make 500 outcomes and one line counting the rest."""
    from pgdrill.runner import MAX_OUTCOMES

    result = run(clone, "\\timing on\n" * 20_000 + "SELECT 1/0;\n")
    assert len(result.statements) == MAX_OUTCOMES + 1
    last = result.statements[-1]
    assert last.status == "error" and f"{20_001 - MAX_OUTCOMES} more statements" in last.message
    assert "19500 skipped" in last.message and "1 error" in last.message


# ------------------------------------------------------------------------------ bytes of a learner's result

MEMORY_PROBE = """
import json, sys
import psycopg
from pgdrill.runner import run_sql_text

class Server:  # the two things the runner asks of a server, for a conninfo
    def __init__(self, conninfo):
        self.params = psycopg.conninfo.conninfo_to_dict(conninfo)
    def connect_params(self, dbname, user=None):
        return {**self.params, "dbname": dbname, **({"user": user} if user else {})}
    def connect(self, dbname, user=None, *, purpose="", autocommit=True, **kwargs):
        return psycopg.connect(autocommit=autocommit, **{**self.connect_params(dbname, user), **kwargs})

server = Server(sys.argv[1])
result = run_sql_text(server, server.params["dbname"], sys.stdin.read(), file_name="attack.sql",
                      statement_timeout=120, file_timeout=600)  # a busy machine is slow; time is not the point
# VmHWM is this program's peak (ru_maxrss would include the forking pytest worker's).
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"statements": [[s.line, s.status, s.message, s.rowcount] for s in result.statements],
                  "captured": {k: [len(v.rows), v.error] for k, v in result.captured.items()},
                  "max_rss_mb": peak_kb / 1024}))
"""

# Three values of 100 MB (libpq would hold one whole, psycopg a copy): repeat() of a 10 kB text,
# 10,000 copies instead of 100 million.
BYTE_BOMB = """\
-- name: huge
SELECT pg_catalog.repeat(pg_catalog.repeat('x', 10000), 10000) AS v FROM pg_catalog.generate_series(1, 3);
SELECT pg_catalog.repeat(pg_catalog.repeat('y', 10000), 10000) AS unnamed;
-- name: wide_rows
SELECT g, pg_catalog.repeat('zzzzzzzzzz', 1000) AS v FROM pg_catalog.generate_series(1, 100000000) AS g;
-- name: after
SELECT 42 AS answer;
"""


# What the grader holds of a result is the relay's and psycopg's doing; the server only sends the
# rows, the same on every version.
@pytest.mark.server_independent
def test_huge_values_and_many_rows_of_a_named_query_cost_the_grader_no_memory(clone):
    """Item 8 of the red team, for a learner's own named query: three 100 MB values (read
    whole before, by libpq, however the runner streamed), then ten thousand 10 kB rows. The
    relay stops both before the grader holds them; the statement fails and says why, an
    unnamed one keeps running with its row counted, and the next statement runs. Measured in
    a process of its own."""
    import json
    import subprocess
    import sys

    conninfo = clone.server.conninfo(clone.dbname, "learner")
    proc = subprocess.run([sys.executable, "-c", MEMORY_PROBE, conninfo], input=BYTE_BOMB, capture_output=True,
                          text=True, timeout=900, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    (_, huge, huge_message, _), (_, unnamed, _, unnamed_rows), (_, wide, wide_message, _), (_, after, _, _) = \
        report["statements"]
    assert huge == "error" and "a row of its result is larger than 1 MiB" in huge_message, report
    assert unnamed == "ok" and unnamed_rows == 1, report  # counted, not read
    # stopped by the bytes received or, first, by what the kept rows take as values
    assert wide == "error" and "32 MiB" in wide_message, report
    assert after == "ok" and report["captured"]["after"] == [1, ""]
    assert report["captured"]["huge"] == [0, huge_message]
    assert report["max_rss_mb"] < 150, report


def test_the_byte_caps_fail_a_named_result_and_the_rest_of_the_file_runs(clone, monkeypatch):
    """The caps (lowered here) fail a named query whichever way it returns rows, and the
    session goes on. The statement is cancelled; one that had already finished (an INSERT …
    RETURNING computes its rows before sending them) keeps its changes, and says so."""
    from pgdrill import relay

    monkeypatch.setattr(relay, "ROW_BYTES", 4096)
    monkeypatch.setattr(relay, "TOTAL_BYTES", 40960)
    result = run(clone, "CREATE TABLE t (id int, v text);\n"
                        "-- name: one_big_row\nSELECT repeat('x', 5000) AS v;\n"
                        "-- name: too_many_bytes\nSELECT g, repeat('x', 100) FROM generate_series(1, 1000) g;\n"
                        "-- name: inserted\nINSERT INTO t SELECT g, repeat('x', 5000) FROM generate_series(1, 3) g "
                        "RETURNING *;\n"
                        "PREPARE p AS SELECT repeat('x', 5000);\n-- name: executed\nEXECUTE p;\n"
                        "BEGIN;\nDECLARE c CURSOR FOR SELECT repeat('x', 5000);\n-- name: fetched\nFETCH ALL FROM c;\n"
                        "ROLLBACK;\n"
                        "-- name: explained\nEXPLAIN VERBOSE SELECT repeat('x', 5000);\n"
                        "-- name: after\nSELECT count(*) FROM t;\n")
    by_name = result.captured
    for name in ("one_big_row", "inserted", "executed", "fetched", "explained"):
        assert "a row of its result is larger than 4 KiB" in by_name[name].error, (name, by_name[name])
    assert "larger than 40 KiB in all" in by_name["too_many_bytes"].error
    kept = "changes were kept" in by_name["inserted"].error
    assert by_name["after"].rows == (((3,) if kept else (0,)),)
    errors = [s for s in result.statements if s.status != "ok"]
    assert len(errors) == 6 and {s.sqlstate for s in errors} == {"54000"}, result.statements
    # the relay is gone with the file: no thread, no socket folder left
    assert not [t for t in threading.enumerate() if t.name == "pgdrill-relay" and t.is_alive()]
    assert not list(Path(clone.server.base_dir).glob("pgdrill-relay-*"))


def test_many_small_values_are_measured_as_the_grader_holds_them(clone):
    """A numeric[] of one-digit values takes fifty times its text as Python objects: what the
    runner keeps is measured as values, not as bytes on the wire."""
    result = run(clone, "-- name: arrays\nSELECT (SELECT array_agg(1::numeric) FROM generate_series(1, 200000)) "
                        "FROM generate_series(1, 20);\n-- name: after\nSELECT 1 AS one;\n")
    assert "of the grader's memory" in result.captured["arrays"].error
    assert result.captured["after"].rows == ((1,),)


def test_an_unnamed_statement_keeps_running_with_rows_too_large_to_read(clone, monkeypatch):
    from pgdrill import relay

    monkeypatch.setattr(relay, "ROW_BYTES", 2048)
    result = run(clone, "CREATE TABLE t (id int);\n"
                        "INSERT INTO t SELECT g FROM generate_series(1, 5) g RETURNING id, repeat('x', 3000 * (id % 2));\n"
                        "-- name: kept\nSELECT count(*) FROM t;\n")
    insert = result.statements[1]
    assert insert.status == "ok" and insert.rowcount == 5 and "3 rows larger than" in insert.message, insert
    assert result.captured["kept"].rows == ((5,),)


def test_named_queries_of_every_form_are_read_as_they_are(clone):
    """The relay changes nothing of what a statement does: the server runs the learner's own
    text once (its session sees it as its query), and names, types, order and duplicates of
    columns, row order and side effects are the server's."""
    text = ("CREATE TABLE t (id int, v text);\nINSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');\n"
            "-- name: with_cte\nWITH x AS (SELECT id FROM t) SELECT id * 2 AS doubled FROM x ORDER BY id DESC;\n"
            "-- name: values_\nVALUES (2, 'two'), (1, 'one') ;  -- a comment after the semicolon\n"
            "-- name: table_\nTABLE t\n;\n"
            "-- name: dupes\nSELECT 1 AS a, 2 AS a, 'x' AS \"A\", NULL AS a /* trailing */;\n"
            "-- name: moved\nWITH d AS (DELETE FROM t WHERE id = 3 RETURNING *) SELECT id, v FROM d;\n"
            "-- name: into\nSELECT id INTO t_copy FROM t;\n"
            "-- name: locked\nSELECT id FROM t ORDER BY id FOR UPDATE;\n"
            "-- name: own_text\nSELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid();\n"
            "-- name: after\nSELECT (SELECT count(*) FROM t) AS t, (SELECT count(*) FROM t_copy) AS t_copy;\n")
    result = run(clone, text)
    assert all(s.status == "ok" for s in result.statements), result.statements
    c = result.captured
    assert c["with_cte"].rows == ((6,), (4,), (2,)) and c["with_cte"].columns == ("doubled",)
    assert c["values_"].rows == ((2, "two"), (1, "one")) and c["values_"].columns == ("column1", "column2")
    assert c["table_"].rows == ((1, "a"), (2, "b"), (3, "c")) and c["table_"].columns == ("id", "v")
    assert c["dupes"].columns == ("a", "a", "A", "a") and c["dupes"].rows == ((1, 2, "x", None),)
    assert c["dupes"].type_oids == (23, 23, 25, 25)
    assert c["moved"].rows == ((3, "c"),)
    assert c["into"].rows == () and c["locked"].rows == ((1,), (2,))
    own = next(s for s in split_sql(text) if s.name == "own_text")
    assert c["own_text"].rows == ((own.sql,),)  # not wrapped, not rewritten
    assert c["after"].rows == ((2, 2),)


def test_an_error_of_ten_megabytes_arrives_cut(clone):
    """RAISE EXCEPTION of a learner's text: its message is learner-controlled bytes too."""
    from pgdrill.relay import MESSAGE_BYTES

    result = run(clone, "DO $$ BEGIN RAISE NOTICE '%', repeat('n', 10000000); "
                        "RAISE EXCEPTION '%', repeat('x', 10000000) USING ERRCODE = '22012'; END $$;\n"
                        "-- name: after\nSELECT 1 AS one;\n")
    raised, after = result.statements
    assert raised.status == "error" and raised.sqlstate == "22012", raised.sqlstate
    assert raised.message.startswith("xxx") and len(raised.message) < MESSAGE_BYTES
    assert "cut: the message was longer than 64 KiB" in raised.message
    assert after.status == "ok" and result.captured["after"].rows == ((1,),)
