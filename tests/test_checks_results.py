"""The results family against a real server: small tables in an empty clone, the learner's
named queries captured by the real runner, the reference run by pgdrill_grader."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgdrill.checks.base import CheckContext
from pgdrill.checks.kit import REFERENCE_ROW_BYTES, TOO_LARGE_SQLSTATE
from pgdrill.checks.results import (ReferenceQueryError, columns_named, row_count_matches, rows_match, run_reference,
                            value_matches)
from pgdrill.fixtures.sandbox import GRADER, LEARNER
from pgdrill.runner import CapturedResult, run_sql_text

SETUP = """
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric(10,2));
CREATE TABLE order_items (id int PRIMARY KEY, order_id int, qty int, price numeric(10,2));
INSERT INTO orders VALUES (1, 10, 20.00), (2, 11, NULL), (3, NULL, 5.50);
INSERT INTO order_items VALUES (1, 1, 2, 10.00), (2, 1, 1, 5.00), (3, 99, 1, 7.25),
                               (4, 98, 3, 1.00), (5, 2, 1, NULL);
"""
ORPHANS = "SELECT oi.id, oi.order_id FROM order_items oi LEFT JOIN orders o ON o.id = oi.order_id WHERE o.id IS NULL"


@pytest.fixture
def db(make_clone):
    clone = make_clone(fixture="empty")
    with clone.connect(LEARNER) as conn:
        conn.execute(SETUP)
    opened = []

    def grader():
        if not opened:
            opened.append(clone.connect(GRADER, purpose="grader"))
        return opened[0]

    def context(learner_sql: str = "", captured: dict | None = None) -> CheckContext:
        if learner_sql:
            run = run_sql_text(clone.server, clone.dbname, learner_sql)
            captured = run.captured
        return CheckContext(exercise_id="t", exercise_dir=Path("."), submission_dir=Path("."), manifest={},
                            grader=grader, learner=lambda: None, captured=captured or {},
                            server=clone.server, dbname=clone.dbname)

    context.clone = clone
    yield context
    for conn in opened:
        conn.close()


# ------------------------------------------------------------------------------ rows_match

def test_rows_match_passes_for_the_same_rows_in_any_order(db):
    ctx = db("-- name: orphans\nSELECT oi.id, oi.order_id FROM order_items oi\n"
             "WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id) ORDER BY oi.id DESC;")
    out = rows_match(ctx, query="orphans", reference=ORPHANS)
    assert out.passed, out.message
    assert "2 row" in out.message


def test_rows_match_right_rows_wrong_order(db):
    ctx = db("-- name: totals\nSELECT id, total FROM orders ORDER BY id DESC;")
    out = rows_match(ctx, query="totals", reference="SELECT id, total FROM orders ORDER BY id", ordered=True)
    assert not out.passed
    assert "Right rows, wrong order" in out.message
    assert any("order" in e.title.lower() for e in out.evidence)


def test_rows_match_reports_missing_and_extra_rows_with_examples(db):
    ctx = db("-- name: orphans\nSELECT id, order_id FROM order_items WHERE order_id > 50 OR id = 1;")
    # learner: ids 1, 3, 4 — expected 3, 4
    ctx_missing = db("-- name: orphans\nSELECT id, order_id FROM order_items WHERE id = 3;")
    out = rows_match(ctx, query="orphans", reference=ORPHANS)
    assert not out.passed and "1 row(s) should not be there" in out.message
    extra = next(e for e in out.evidence if e.title.startswith("Unexpected"))
    assert extra.rows == (("1", "1"),)
    out = rows_match(ctx_missing, query="orphans", reference=ORPHANS)
    assert not out.passed and "1 expected row(s) are missing" in out.message
    missing = next(e for e in out.evidence if e.title.startswith("Missing"))
    assert missing.rows == (("4", "98"),)


def test_rows_match_with_nulls(db):
    ctx = db("-- name: people\nSELECT customer_id, total FROM orders;")
    assert rows_match(ctx, query="people", reference="SELECT customer_id, total FROM orders").passed
    out = rows_match(ctx, query="people", reference="SELECT coalesce(customer_id, 0), total FROM orders")
    assert not out.passed
    shown = [r for e in out.evidence if e.kind == "rows" for r in e.rows]
    assert ("NULL", "5.50") in shown  # NULL is shown as NULL, not as an empty cell


def test_rows_match_numeric_equals_bigint(db):
    # count(*) is bigint (Python int), sum(qty)::numeric is Decimal: same value, same answer.
    ctx = db("-- name: lines\nSELECT order_id, count(*) FROM order_items GROUP BY order_id;")
    out = rows_match(ctx, query="lines", reference="SELECT order_id, sum(1)::numeric FROM order_items GROUP BY 1")
    assert out.passed, out.message
    ctx = db("-- name: avg\nSELECT 1.0000001::float8;")
    assert rows_match(ctx, query="avg", reference="SELECT 1::numeric").passed
    assert not rows_match(ctx, query="avg", reference="SELECT 1::numeric", numeric_tolerance=0).passed


def test_rows_match_compares_named_columns_only(db):
    ctx = db("-- name: orphans\nSELECT order_id AS "
             "\"Order_ID\", id, 'extra' AS note FROM order_items WHERE order_id > 50;")
    out = rows_match(ctx, query="orphans", reference=ORPHANS, columns=["id", "order_id"])
    assert out.passed, out.message
    out = rows_match(ctx, query="orphans", reference=ORPHANS, columns=["id", "price"])
    assert not out.passed and "no column named 'price'" in out.message


def test_rows_match_column_count_mismatch(db):
    ctx = db("-- name: orphans\nSELECT id FROM order_items WHERE order_id > 50;")
    out = rows_match(ctx, query="orphans", reference=ORPHANS)
    assert not out.passed and "1 column(s)" in out.message and "has 2" in out.message


def test_rows_match_shows_the_first_rows_by_value_unless_the_order_was_asked_for(db):
    # Rows of an unordered comparison are shown sorted (an unordered result's order can change
    # from run to run), and which rows are shown does not depend on that order either: the
    # first ones by value. An ordered comparison shows the first ones the result returned.
    ctx = db("-- name: ids\nSELECT g AS id FROM generate_series(12, 1, -1) AS g;")
    reference = "SELECT g AS id FROM generate_series(1, 3) AS g"
    extra = next(e for e in rows_match(ctx, query="ids", reference=reference).evidence
                 if e.title.startswith("Unexpected"))
    assert extra.title == "Unexpected rows in your result (first 5 of 9)"
    assert extra.rows == (("4",), ("5",), ("6",), ("7",), ("8",))
    ordered = rows_match(db("-- name: ids\nSELECT g AS id FROM generate_series(12, 1, -1) AS g ORDER BY g DESC;"),
                         query="ids", reference=reference + " ORDER BY g", ordered=True)
    extra = next(e for e in ordered.evidence if e.title.startswith("Unexpected"))
    assert extra.rows == (("12",), ("11",), ("10",), ("9",), ("8",))
    wide = rows_match(db("-- name: ids\nSELECT g AS id, 0 AS n FROM generate_series(12, 1, -1) AS g;"),
                      query="ids", reference=reference)
    yours = next(e for e in wide.evidence if e.title.startswith("Yours"))
    assert yours.title == "Yours (first rows) (first 5 of 12)"
    assert yours.rows == tuple((str(i), "0") for i in range(1, 6))


def test_rows_match_query_not_run(db):
    ctx = db("-- name: something_else\nSELECT 1;")
    out = rows_match(ctx, query="orphans", reference=ORPHANS)
    assert not out.passed
    assert "did not run a query named 'orphans'" in out.message and "something_else" in out.message


def test_rows_match_query_that_timed_out(db):
    run = run_sql_text(db.clone.server, db.clone.dbname, "-- name: slow\nSELECT pg_sleep(3);", statement_timeout=0.3)
    ctx = db(captured=run.captured)
    ctx.statements = tuple(run.statements)
    out = rows_match(ctx, query="slow", reference="SELECT ''::text")
    assert not out.passed and "stopped for running too long" in out.message and "line 2" in out.message


def test_rows_match_shows_the_learners_error(db):
    ctx = db("-- name: orphans\nSELECT id, order_idd FROM order_items;")
    out = rows_match(ctx, query="orphans", reference=ORPHANS)
    assert not out.passed and "failed" in out.message and "order_idd" in out.message


def test_rows_match_truncated_result(db):
    captured = {"orphans": CapturedResult("orphans", "s.sql", 1, ("id", "order_id"), (23, 23),
                                          ((3, 99), (4, 98)), truncated=True)}
    out = rows_match(db(captured=captured), query="orphans", reference=ORPHANS)
    assert not out.passed and "more than 2 rows" in out.message


def test_reference_errors_and_timeouts_are_exercise_bugs(db):
    ctx = db("-- name: orphans\nSELECT 1, 2;")
    with pytest.raises(ReferenceQueryError, match="syntax error"):
        rows_match(ctx, query="orphans", reference="SELEC 1, 2")
    with pytest.raises(ReferenceQueryError, match="statement timeout"):
        run_reference(ctx.grader(), "SELECT pg_sleep(5)", timeout_s=0.2)
    # the grader's connection is still usable and outside any transaction
    assert ctx.grader().execute("SELECT 1").fetchone() == (1,)
    assert ctx.grader().info.transaction_status.name == "IDLE"


def test_reference_failing_because_the_learner_dropped_a_table(db):
    ctx = db("-- name: orphans\nSELECT 1, 2;\nDROP TABLE orders;")
    out = rows_match(ctx, query="orphans", reference=ORPHANS)
    assert not out.passed and 'relation "orders" does not exist' in out.message
    assert "drop or rename" in out.message


def test_reference_against_the_untouched_incident(db, make_clone):
    baseline = make_clone(fixture="empty")
    with baseline.connect(LEARNER) as conn:
        conn.execute(SETUP)
    ctx = db(f"-- name: orphans\n{ORPHANS};\nDELETE FROM order_items WHERE order_id > 50;")
    assert not rows_match(ctx, query="orphans", reference=ORPHANS).passed  # the orphans are gone now
    with baseline.connect(GRADER) as conn:
        ctx.baseline = lambda: conn
        assert rows_match(ctx, query="orphans", reference=ORPHANS, against="baseline").passed
        assert row_count_matches(ctx, query="orphans", reference=ORPHANS, against="baseline").passed


def test_reference_rows_are_capped(db):
    ref = run_reference(db().grader(), "SELECT g FROM generate_series(1, 100000) g", row_cap=10)
    assert ref.truncated and len(ref.rows) == 10


def test_a_reference_row_over_the_row_cap_in_bytes_is_stopped_by_the_server(db):
    conn = db().grader()
    with pytest.raises(ReferenceQueryError) as raised:
        run_reference(conn, f"SELECT g, repeat('x', {REFERENCE_ROW_BYTES + 10}) FROM generate_series(1, 3) g")
    assert raised.value.sqlstate == TOO_LARGE_SQLSTATE and "larger than 1 MiB" in str(raised.value.error)
    # Rows just under the cap pass whole.
    ref = run_reference(conn, f"SELECT repeat('y', {REFERENCE_ROW_BYTES - 100}) AS big")
    assert ref.columns == ("big",) and len(ref.rows[0][0]) == REFERENCE_ROW_BYTES - 100
    assert conn.info.transaction_status.name == "IDLE"


def test_a_reference_over_the_total_bytes_is_cancelled_and_the_connection_stays_usable(db):
    conn = db().grader()
    # 600 kB rows, endlessly: only the grader's byte count stops it (the rows fit the row cap).
    endless = "SELECT g, repeat('z', 600000) FROM generate_series(1, 100000000) g"
    with pytest.raises(ReferenceQueryError) as raised:
        run_reference(conn, endless)
    assert raised.value.sqlstate == TOO_LARGE_SQLSTATE and "exceed 32 MiB" in str(raised.value.error)
    assert conn.info.transaction_status.name == "IDLE"
    assert conn.execute("SELECT 1").fetchone() == (1,)
    with db.clone.connect(purpose="janitor") as other:  # the server stopped it, it is not still running
        running = other.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE %s AND state = 'active'",
                                ("%repeat('z', 600000)%",)).fetchone()
    assert running == (0,)


def test_reference_rows_keep_the_order_of_an_ordered_reference(db):
    ref = run_reference(db().grader(), "SELECT g FROM generate_series(1, 5000) g ORDER BY g DESC")
    assert [r[0] for r in ref.rows] == list(range(5000, 0, -1))


def test_reference_cannot_write(db):
    with pytest.raises(ReferenceQueryError):
        run_reference(db().grader(), "DELETE FROM orders RETURNING id")
    with db.clone.connect() as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (3,)


def test_a_learner_overload_of_a_builtin_stops_the_grader(db):
    with db.clone.connect(LEARNER) as conn:
        conn.execute("CREATE FUNCTION public.abs(integer) RETURNS integer LANGUAGE sql AS 'SELECT 42'")
    ctx = db("-- name: orphans\nSELECT id, order_id FROM order_items WHERE order_id > 50;")
    out = rows_match(ctx, query="orphans", reference=ORPHANS)
    assert not out.passed and "abs(integer)" in out.message and "will not run" in out.message


# ------------------------------------------------------------------------------ columns_named

def test_columns_named(db):
    ctx = db("-- name: sizes\nSELECT id AS Order_ID, total AS total_amount FROM orders;")
    assert columns_named(ctx, query="sizes", names=["order_id", "total_amount"]).passed
    out = columns_named(ctx, query="sizes", names=["order_id", "amount"])
    assert not out.passed and 'named "total_amount", expected "amount"' in out.message
    out = columns_named(db("-- name: sizes\nSELECT count(*) FROM orders;"), query="sizes", names=["orders"])
    assert not out.passed and "count" in out.message and "AS name" in out.message


# ------------------------------------------------------------------------------ row_count_matches

def test_row_count_matches(db):
    ctx = db("-- name: orphans\nSELECT * FROM order_items WHERE order_id IN (98, 99);\n"
             "-- name: wrong\nSELECT * FROM order_items;")
    assert row_count_matches(ctx, query="orphans", reference=ORPHANS + ";").passed
    out = row_count_matches(ctx, query="wrong", reference=ORPHANS)
    assert not out.passed and "returned 5 row(s); 2 were expected" in out.message


# ------------------------------------------------------------------------------ value_matches

def test_value_matches_numbers_and_tolerance(db):
    ctx = db("-- name: n\nSELECT count(*) FROM order_items;\n-- name: size\nSELECT 1050;")
    assert value_matches(ctx, query="n", reference="SELECT 5::numeric").passed
    out = value_matches(ctx, query="n", reference="SELECT 6")
    assert not out.passed and "returned 5, which is not the value on the graded database" in out.message
    assert "6" not in out.message  # the expected value is for instructors only
    assert [e.rows for e in out.evidence if e.kind == "rows" and not e.instructor_only] == [(("5",),)]
    assert [e.rows for e in out.evidence if e.kind == "rows" and e.instructor_only] == [(("6", "5"),)]
    assert value_matches(ctx, query="size", reference="SELECT 1000", relative_tolerance=0.1).passed
    assert not value_matches(ctx, query="size", reference="SELECT 1000", relative_tolerance=0.01).passed


def test_value_matches_database_size_pretty_or_bytes(db):
    reference = "SELECT pg_database_size(current_database())"
    ctx = db("-- name: pretty\nSELECT pg_size_pretty(pg_database_size(current_database()));\n"
             "-- name: bytes\nSELECT pg_database_size(current_database());\n"
             "-- name: wrong\nSELECT '1 kB';")
    assert value_matches(ctx, query="pretty", reference=reference, relative_tolerance=0.05).passed
    assert value_matches(ctx, query="bytes", reference=reference, relative_tolerance=0.05).passed
    assert not value_matches(ctx, query="wrong", reference=reference, relative_tolerance=0.05).passed


def test_value_matches_needs_a_single_value(db):
    ctx = db("-- name: many\nSELECT id FROM orders;\n-- name: two\nSELECT 1 AS a, 5 AS b;")
    out = value_matches(ctx, query="many", reference="SELECT 1")
    assert not out.passed and "3 row(s)" in out.message
    out = value_matches(ctx, query="two", reference="SELECT 5")
    assert not out.passed and "2 columns" in out.message
    assert value_matches(ctx, query="two", reference="SELECT 5", column="B").passed
    ctx = db("-- name: t\nSELECT 'on'::text;")
    assert value_matches(ctx, query="t", reference="SELECT 'on'").passed
    assert not value_matches(ctx, query="t", reference="SELECT 'off'").passed


MEMORY_PROBE = """
import json, sys
import psycopg
from pgdrill.checks.results import ReferenceQueryError, run_reference
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    try:
        run_reference(conn, "SELECT * FROM huge")
        outcome = "read"
    except ReferenceQueryError as exc:
        outcome = exc.sqlstate + " " + exc.error
# VmHWM is this program's peak (ru_maxrss would include the forking pytest worker's).
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"outcome": outcome, "max_rss_mb": peak_kb / 1024}))
"""


@pytest.mark.parametrize("sizes", [(64, 64, 64), tuple([0.5] * 100)], ids=["three 64 MB values", "100 half-MB rows"])
def test_a_view_of_huge_values_costs_the_grader_no_memory(db, sizes):
    """Item 8 of the red team: a view the grader's reference query reads returned three 300 MB
    values and the grader's memory reached 2 GB. Now the server stops at the first row over
    1 MiB (as text), and the grader stops reading after 32 MiB: measured in a process of its own."""
    import json
    import subprocess
    import sys

    values = ", ".join(f"({int(mb * 1024 * 1024)})" for mb in sizes)
    with db.clone.connect(LEARNER) as conn:
        conn.execute(f"CREATE VIEW huge AS SELECT pg_catalog.repeat('x', n) AS v FROM (VALUES {values}) AS s(n)")
    root = Path(__file__).resolve().parents[1]
    conninfo = db.clone.server.conninfo(db.clone.dbname, GRADER)
    proc = subprocess.run([sys.executable, "-c", MEMORY_PROBE, conninfo], capture_output=True, text=True,
                          timeout=300, cwd=root)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["outcome"].startswith("54000"), report
    assert ("larger than 1 MiB" if sizes[0] > 1 else "exceed 32 MiB") in report["outcome"]
    assert report["max_rss_mb"] < 150, report


# ------------------------------------------------------------------------------ feedback that does not mislead

def _graded_file(db, tmp_path, text: str, *, statement_timeout: float = 10.0) -> CheckContext:
    """A context as the grader builds it: the learner's file on disk, run by the real runner."""
    (tmp_path / "answer.sql").write_text(text)
    run = run_sql_text(db.clone.server, db.clone.dbname, text, file_name="answer.sql",
                       statement_timeout=statement_timeout)
    ctx = db(captured=run.captured)
    ctx.submission_dir = tmp_path
    ctx.statements = tuple(run.statements)
    return ctx


def test_a_named_query_that_timed_out_is_named_as_such(db, tmp_path):
    ctx = _graded_file(db, tmp_path, "-- name: other\nSELECT 1;\n\n-- name: orphans\nSELECT pg_sleep(3), 1 AS id;\n",
                       statement_timeout=0.5)
    out = rows_match(ctx, query="orphans", reference=ORPHANS)
    assert not out.passed
    assert out.message.startswith("Your query 'orphans' (answer.sql, line 5) was stopped for running too long")
    assert "did not run a query named" not in out.message
    # a name that really is missing still says so
    out = rows_match(ctx, query="nowhere", reference=ORPHANS)
    assert "You did not run a query named 'nowhere'" in out.message


def test_a_query_returning_no_rows_is_compared_by_count_not_by_missing_columns(db):
    ctx = db("-- name: orphans\nSELECT oi.id, oi.order_id FROM order_items oi WHERE false;")
    out = rows_match(ctx, query="orphans", reference=ORPHANS, columns=["id", "order_id"])
    assert not out.passed and "has no column" not in out.message
    assert "returned 0 row(s), the expected result has 2" in out.message
    out = rows_match(ctx, query="orphans", reference=ORPHANS + " AND false", columns=["id", "order_id"])
    assert out.passed, out.message
    # the columns of an empty result are known: one that lacks a column says so, naming the ones it has
    ctx = db("-- name: orphans\nSELECT oi.id AS item_id, oi.qty FROM order_items oi WHERE false;")
    out = rows_match(ctx, query="orphans", reference=ORPHANS + " AND false", columns=["id", "order_id"])
    assert not out.passed
    assert out.message == "Your query 'orphans' has no column named 'id' (its columns: item_id, qty)."


def test_columns_named_asks_for_a_missing_column_not_for_an_alias(db):
    ctx = db("-- name: lines\nSELECT id, order_id FROM order_items;")
    out = columns_named(ctx, query="lines", names=["id", "order_id", "qty"])
    assert not out.passed and "It lacks qty: select that column too" in out.message
    assert "Name each column" not in out.message
    ctx = db("-- name: lines\nSELECT id, order_id, qty * price FROM order_items;")
    out = columns_named(ctx, query="lines", names=["id", "order_id", "amount"])
    assert not out.passed and "Name each column with `AS name`" in out.message
