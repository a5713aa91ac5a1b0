"""The learner's SQL runs like psql would, and nothing in it can stop the grader."""

from __future__ import annotations

import time

import pytest

from pgdrill.runner import run_sql_file, run_sql_text


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
