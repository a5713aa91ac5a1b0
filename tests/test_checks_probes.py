"""Probe checks: the statement's verdict, and that no probe ever leaves anything behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks import probes
from checks.base import CheckContext

DATA = """
CREATE TABLE orders (id serial PRIMARY KEY, total numeric(10,2));
CREATE TABLE order_items (id serial PRIMARY KEY, order_id int REFERENCES orders (id),
                          quantity int NOT NULL CHECK (quantity > 0), sku text UNIQUE);
INSERT INTO orders (total) VALUES (10), (20);
INSERT INTO order_items (order_id, quantity, sku) VALUES (1, 1, 'A'), (2, 2, 'B');
"""

SNAPSHOT = """
SELECT (SELECT pg_catalog.string_agg(t::text, ';' ORDER BY id) FROM public.orders t),
       (SELECT pg_catalog.string_agg(t::text, ';' ORDER BY id) FROM public.order_items t),
       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'),
       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_constraint c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public')
"""


@pytest.fixture(scope="module")
def db(templates):
    from fixtures.templates import FixtureKey

    clone = templates.clone(FixtureKey("empty"))
    learner = clone.connect("learner", purpose="test-probe")
    grader = clone.connect("pgdrill_grader", purpose="test-grader")
    learner.execute(DATA)
    ctx = CheckContext(exercise_id="t", exercise_dir=Path("."), submission_dir=Path("."), manifest={"faults": []},
                       grader=lambda: grader, learner=lambda: learner)
    before = grader.execute(SNAPSHOT).fetchone()
    try:
        yield ctx
        # Whatever the probes did, the database is as it was (checked through another session).
        assert grader.execute(SNAPSHOT).fetchone() == before
        assert learner.info.transaction_status.name == "IDLE"
        assert learner.execute("SHOW statement_timeout").fetchone()[0] == "10s"  # the role's, not the probe's
    finally:
        learner.close()
        grader.close()
        clone.drop()


@pytest.mark.parametrize("statement, sqlstate", [
    ("INSERT INTO order_items (order_id, quantity) VALUES (99, 1)", "23503"),
    ("INSERT INTO order_items (order_id, quantity) VALUES (1, 0)", "23514"),
    ("INSERT INTO order_items (order_id, quantity, sku) VALUES (1, 1, 'A')", "23505"),
    ("INSERT INTO order_items (order_id, quantity) VALUES (1, NULL)", "23502"),
    ("INSERT INTO order_items (order_id, quantity) VALUES (1, NULL)", "not_null_violation"),
    ("DELETE FROM orders WHERE id = 1", ["23503", "23001"]),
    ("UPDATE order_items SET quantity = -1", "check_violation"),
])
def test_statement_fails_with_the_expected_sqlstate(db, statement, sqlstate):
    out = probes.statement_fails(db, sql=statement, sqlstate=sqlstate)
    assert out.passed, out.message
    assert out.evidence[0].body == statement and "ERROR" in out.evidence[1].body


def test_statement_fails_when_it_succeeds(db):
    out = probes.statement_fails(db, sql="INSERT INTO orders (total) VALUES (-5)", sqlstate="23514")
    assert not out.passed
    assert "it succeeded, so nothing prevents this any more" in out.message and "23514 check_violation" in out.message


def test_statement_fails_with_another_error(db):
    out = probes.statement_fails(db, sql="INSERT INTO order_items (order_id, quantity) VALUES (99, 0)", sqlstate="23503")
    assert not out.passed and "failed with 23514 check_violation instead" in out.message
    out = probes.statement_fails(db, sql="INSERT INTO nowhere VALUES (1)", sqlstate="23503")
    assert not out.passed and "42P01" in out.message


def test_statement_fails_cannot_smuggle_a_commit(db):
    out = probes.statement_fails(db, sql="INSERT INTO orders (total) VALUES (1); COMMIT", sqlstate="23514")
    assert not out.passed and "42601" in out.message
    with pytest.raises(ValueError):
        probes.statement_fails(db, sql="COMMIT", sqlstate="23514")
    with pytest.raises(ValueError):
        probes.statement_fails(db, sql="SELECT 1", sqlstate="23514", as_role="postgres")
    with pytest.raises(ValueError):
        probes.statement_fails(db, sql="SELECT 1", sqlstate="not_a_condition")


def test_statement_times_out_instead_of_hanging(db):
    out = probes.statement_fails(db, sql="SELECT pg_catalog.pg_sleep(5)", sqlstate="23514", timeout="200ms")
    assert not out.passed and "did not finish within 200ms" in out.message


def test_statement_succeeds(db):
    out = probes.statement_succeeds(db, sql="INSERT INTO order_items (order_id, quantity, sku) VALUES (1, 3, 'Z')")
    assert out.passed and "rolled back" in out.message
    assert probes.statement_succeeds(db, sql="UPDATE orders SET total = total + 1", min_rows=2).passed
    out = probes.statement_succeeds(db, sql="UPDATE orders SET total = total + 1 WHERE id = 1", min_rows=2)
    assert not out.passed and "touched 1 rows" in out.message
    out = probes.statement_succeeds(db, sql="INSERT INTO order_items (order_id, quantity) VALUES (99, 1)")
    assert not out.passed and "23503 foreign_key_violation" in out.message
    assert "order_items_order_id_fkey" in out.evidence[1].body


def test_probes_leave_nothing_behind(db):
    """DDL, settings and data changes inside a probe are all rolled back."""
    grader = db.grader()
    assert probes.statement_succeeds(db, sql="DROP TABLE order_items").passed
    assert probes.statement_succeeds(db, sql="ALTER TABLE orders DROP CONSTRAINT orders_pkey CASCADE").passed
    assert probes.statement_succeeds(db, sql="TRUNCATE orders CASCADE").passed
    assert probes.statement_succeeds(db, sql="SET statement_timeout = 0").passed
    assert probes.statement_succeeds(db, sql="CREATE TABLE leftover (a int)").passed
    assert grader.execute("SELECT pg_catalog.to_regclass('public.leftover')").fetchone()[0] is None
    assert grader.execute("SELECT pg_catalog.count(*) FROM public.order_items").fetchone()[0] == 2
    assert db.learner().execute("SHOW statement_timeout").fetchone()[0] == "10s"
