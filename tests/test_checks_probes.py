"""Probe checks: the statement's verdict, and that no probe ever leaves anything behind."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from pathlib import Path

import pytest

from pgdrill.checks import probes
from pgdrill.checks.base import CheckContext

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


@contextlib.contextmanager
def empty_clone(templates, schema: str):
    """(context, learner, grader) on a fresh empty clone holding ``schema``; dropped afterwards."""
    from pgdrill.fixtures.templates import FixtureKey

    clone = templates.clone(FixtureKey("empty"))
    learner = clone.connect("learner", purpose="test-probe")
    grader = clone.connect("pgdrill_grader", purpose="test-grader")
    try:
        learner.execute(schema)
        yield (CheckContext(exercise_id="t", exercise_dir=Path("."), submission_dir=Path("."),
                            manifest={"faults": []}, grader=lambda: grader, learner=lambda: learner),
               learner, grader)
    finally:
        learner.close()
        grader.close()
        clone.drop()


@pytest.fixture(scope="module")
def db(templates):
    with empty_clone(templates, DATA) as (ctx, learner, grader):
        before = grader.execute(SNAPSHOT).fetchone()
        yield ctx
        # Whatever the probes did, the database is as it was (checked through another session).
        assert grader.execute(SNAPSHOT).fetchone() == before
        assert learner.info.transaction_status.name == "IDLE"
        assert learner.execute("SHOW statement_timeout").fetchone()[0] == "10s"  # the role's, not the probe's


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


# --- property probes: a rule tried on many values, a default in several contexts -------------

RULES = """
CREATE DOMAIN nonneg_int AS int CHECK (VALUE >= 0);
CREATE TABLE s_good (id int PRIMARY KEY, stock int NOT NULL CHECK (stock >= 0));
CREATE TABLE s_not_zero (id int PRIMARY KEY, stock int CHECK (stock <> 0));
CREATE TABLE s_gap (id int PRIMARY KEY, stock int CHECK (stock > -1 OR stock < -10));
CREATE TABLE s_spot (id int PRIMARY KEY, stock int CHECK (stock <> 0 AND stock <> -1));
CREATE TABLE s_strict (id int PRIMARY KEY, stock int CHECK (stock > 0));
CREATE TABLE s_not_valid (id int PRIMARY KEY, stock int, value int);
CREATE TABLE s_domain (id int PRIMARY KEY, stock nonneg_int);
CREATE TABLE s_trigger (id int PRIMARY KEY, stock int);
CREATE TABLE s_unusual (id int PRIMARY KEY, stock int CHECK (NOT stock < 0) CHECK (stock BETWEEN 0 AND 2147483647));
CREATE TABLE s_empty (id serial PRIMARY KEY, stock int CHECK (stock >= 0));
CREATE TABLE p_good (id int PRIMARY KEY, price numeric(10, 2) CHECK (price > -0.01));
CREATE TABLE p_loose (id int PRIMARY KEY, price numeric(10, 2) CHECK (price > -1));
INSERT INTO s_good VALUES (1, 5); INSERT INTO s_not_zero VALUES (1, 5); INSERT INTO s_gap VALUES (1, 5);
INSERT INTO s_spot VALUES (1, 5); INSERT INTO s_strict VALUES (1, 5); INSERT INTO s_domain VALUES (1, 5);
INSERT INTO s_trigger VALUES (1, 5); INSERT INTO s_unusual VALUES (1, 5);
INSERT INTO s_not_valid VALUES (1, 5), (2, -3), (3, -7);
ALTER TABLE s_not_valid ADD CONSTRAINT s_not_valid_stock CHECK (stock >= 0) NOT VALID;
INSERT INTO p_good VALUES (1, 9.99); INSERT INTO p_loose VALUES (1, 9.99);
CREATE FUNCTION s_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.stock < 0 THEN RAISE EXCEPTION 'negative stock' USING ERRCODE = 'check_violation'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER s_guard BEFORE INSERT OR UPDATE ON s_trigger FOR EACH ROW EXECUTE FUNCTION s_guard();

CREATE TABLE o_good (id serial PRIMARY KEY, status text NOT NULL DEFAULT 'pending',
                     placed timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, placed_tz timestamptz DEFAULT now(),
                     day date DEFAULT CURRENT_DATE);
CREATE TABLE o_frozen (id serial PRIMARY KEY, status text DEFAULT 'new',
                       placed timestamp DEFAULT '2026-01-01', placed_now timestamp DEFAULT 'now',
                       day date DEFAULT CURRENT_DATE);
"""
NOW = "value BETWEEN now() - interval '1 second' AND clock_timestamp() + interval '1 second'"


@pytest.fixture(scope="module")
def rules(templates):
    with empty_clone(templates, RULES) as (ctx, learner, _):
        # a date frozen at creation: today's date on Kiritimati (UTC+14), typed in. The probe's two
        # zones are 26 hours apart, so their dates always differ and this one fits in exactly one of
        # them. (The server zone's date would fit in neither between 10:00 and 12:00 UTC.)
        today = learner.execute("SELECT (pg_catalog.now() AT TIME ZONE 'Pacific/Kiritimati')::date::text").fetchone()[0]
        learner.execute(f"ALTER TABLE o_frozen ALTER COLUMN day SET DEFAULT '{today}'")
        yield ctx


def stock_rule(ctx, table, **kw):
    args = dict(table=table, column="stock", rule="value >= 0", boundaries=[0])
    args.update(kw)
    return probes.column_rule_enforced(ctx, **args)


@pytest.mark.parametrize("table", ["s_good", "s_domain", "s_trigger", "s_unusual"])
def test_rule_enforced_by_any_construct_passes(rules, table):
    out = stock_rule(rules, table)
    assert out.passed, out.message
    assert "each value the rule allows got in" in out.message
    assert out.evidence[2].instructor_only and not out.evidence[1].instructor_only


@pytest.mark.parametrize("table, got_in", [
    ("s_not_zero", "-1"),          # CHECK (stock <> 0): 0 refused, every negative in
    ("s_gap", "-2147483648"),      # CHECK (stock > -1 OR stock < -10): far negatives in
    ("s_spot", "-2"),              # refuses 0 and -1, accepts -2, -5 …
])
def test_a_rule_right_at_one_value_fails(rules, table, got_in):
    out = stock_rule(rules, table)
    assert not out.passed
    assert "got in although they break the rule" in out.message and got_in in out.message, out.message


def test_a_rule_too_strict_fails(rules):
    out = stock_rule(rules, "s_strict")
    assert not out.passed and "refused although the rule allows them: 0 (23514" in out.message, out.message


def test_bad_rows_left_behind_a_not_valid_constraint_fail(rules):
    out = stock_rule(rules, "s_not_valid")
    assert not out.passed and "2 row(s) already in public.s_not_valid break the rule" in out.message
    assert "-3" in out.message and "NOT VALID" in out.message
    assert "got in" not in out.message  # new values are refused all right
    assert stock_rule(rules, "s_not_valid", existing_rows=False).passed


def test_numeric_boundary_one_step_of_the_scale(rules):
    """numeric(10, 2): CHECK (price > -0.01) is price >= 0; CHECK (price > -1) lets -0.01 in."""
    args = dict(column="price", rule="value >= 0", boundaries=[0])
    assert probes.column_rule_enforced(rules, table="p_good", **args).passed
    out = probes.column_rule_enforced(rules, table="p_loose", **args)
    assert not out.passed and "-0.01" in out.message, out.message


def test_nulls_and_an_insert_probe_on_an_empty_table(rules):
    assert stock_rule(rules, "s_good", nulls="refuse").passed  # NOT NULL: 23502 for NULL
    # CHECK (stock <> 0) is right for the rule "not zero", and lets NULL in
    out = stock_rule(rules, "s_not_zero", rule="value <> 0", nulls="refuse")
    assert not out.passed and "NULL (accepted" not in out.message and "NULL" in out.message, out.message
    assert stock_rule(rules, "s_not_zero", rule="value <> 0", nulls="accept").passed
    out = stock_rule(rules, "s_empty")
    assert not out.passed and "changed no row" in out.message
    insert = "INSERT INTO {table} ({column}) VALUES ({value})"
    assert stock_rule(rules, "s_empty", probe_sql=insert).passed


def test_generated_values_are_the_same_on_every_run():
    first = probes.probe_values("int4", None, [0], [], 12)
    probes.generated_values.cache_clear()
    assert probes.probe_values("int4", None, [0], [], 12) == first
    assert {-2, -1, 0, 1, 2, -2 ** 31, 2 ** 31 - 1} <= set(first) and len(first) > 12
    decimals = probes.probe_values("numeric", (10 << 16 | 2) + 4, [0], [], 12)
    assert max(decimals) == Decimal("99999999.99") and Decimal("-0.01") in decimals


def test_default_follows_the_rule_in_every_context(rules):
    cases = [("status", "status = 'pending'"), ("placed", NOW.replace("value", "placed")),
             ("placed_tz", NOW.replace("value", "placed_tz")), ("day", "day = CURRENT_DATE")]
    for column, expect in cases:
        out = probes.defaults_follow_rule(rules, expect=expect,
                                          probe_sql=f"INSERT INTO o_good DEFAULT VALUES RETURNING {column}")
        assert out.passed, (column, out.message)
    both = probes.defaults_follow_rule(rules, expect="status = 'pending' AND " + NOW.replace("value", "placed"),
                                       probe_sql="INSERT INTO o_good DEFAULT VALUES RETURNING status, placed")
    assert both.passed, both.message
    # a probe that makes the rows it needs first (a data-modifying WITH, which cannot be nested)
    out = probes.defaults_follow_rule(rules, expect="status = 'pending'", probe_sql=(
        "WITH s AS (INSERT INTO s_empty (stock) VALUES (1) RETURNING id) "
        "INSERT INTO o_good (id) SELECT id + 1000 FROM s RETURNING status"))
    assert out.passed, out.message


@pytest.mark.parametrize("column, expect, hint", [
    ("status", "status = 'pending'", False),
    ("placed", NOW.replace("value", "placed"), False),           # a typed-in date
    ("placed_now", NOW.replace("value", "placed_now"), False),   # DEFAULT 'now': evaluated once, at CREATE TABLE
    ("day", "day = CURRENT_DATE", True),                         # a date typed in: right in one zone only
])
def test_a_default_frozen_at_creation_fails(rules, column, expect, hint):
    out = probes.defaults_follow_rule(rules, expect=expect,
                                      probe_sql=f"INSERT INTO o_frozen DEFAULT VALUES RETURNING {column}")
    assert not out.passed, out.message
    assert ("a constant, fixed when the table was created" in out.message) == hint, out.message
    assert out.evidence[2].instructor_only


def test_an_instant_frozen_a_moment_ago_fails_once_it_has_aged(rules):
    """timestamptz DEFAULT 'now' made just now: the same instant in every zone, inside the tolerance at
    first; probed again later it has aged past it. A per-row default of lower precision moves on."""
    learner = rules.learner()
    learner.execute("CREATE TABLE o_just_now (id serial PRIMARY KEY, at timestamptz DEFAULT 'now', "
                    "at0 timestamptz(0) DEFAULT now())")
    try:
        at = NOW.replace("value", "at")
        out = probes.defaults_follow_rule(rules, expect=at,
                                          probe_sql="INSERT INTO o_just_now DEFAULT VALUES RETURNING at")
        # (caught by the extra probe; on a very slow machine already by the first ones)
        assert not out.passed and "at=" in out.message, out.message
        at0 = "at0 BETWEEN now() - interval '0.5 second' AND clock_timestamp() + interval '0.5 second'"
        out = probes.defaults_follow_rule(rules, expect=at0,
                                          probe_sql="INSERT INTO o_just_now DEFAULT VALUES RETURNING at0")
        assert out.passed, out.message
        # a constant the rule asks for: the extra probe finds it again, and it still fits
        out = probes.defaults_follow_rule(rules, expect="status = 'pending'",
                                          probe_sql="INSERT INTO o_good DEFAULT VALUES RETURNING status")
        assert out.passed and "1.5 s later" in out.message, out.message
        assert probes.defaults_follow_rule(rules, expect="status = 'pending'", again_after=0,
                                           probe_sql="INSERT INTO o_good DEFAULT VALUES RETURNING status").passed
    finally:
        learner.execute("DROP TABLE o_just_now")


def test_default_probe_that_fails_says_why(rules):
    out = probes.defaults_follow_rule(rules, expect="stock = 0",
                                      probe_sql="INSERT INTO s_good (id) VALUES (99) RETURNING stock")
    assert not out.passed and "23502" in out.message
