"""The performance family against a real server: plans of a products table big enough for the
planner to care, indexes created by the learner, plan-faking settings stored by a superuser
standing in for a careless admin (or a learner who owns the database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgdrill.checks.base import CheckContext
from pgdrill.checks.performance import (YARDSTICK_REFERENCE_MS, fewer_buffers_than_baseline, index_can_serve, index_scans_on,
                                machine_slowdown, median_time_under, no_plan_faking_settings, speedup_over_baseline,
                                uses_index)
from pgdrill.fixtures.sandbox import GRADER, LEARNER

PRODUCTS = """
CREATE TABLE products (id int PRIMARY KEY, name varchar(255) NOT NULL, category_id int);
INSERT INTO products
SELECT g, (ARRAY['Phone', 'Tablet', 'Monitor', 'Cable', 'Mouse'])[1 + g % 5] || ' model ' || g
          || CASE WHEN g % 1000 = 0 THEN ' laptop' ELSE '' END,
       g % 50
FROM generate_series(1, 30000) AS g;
ANALYZE products;
"""
SEARCH = "SELECT * FROM products WHERE name LIKE '%laptop%'"
BY_ID = "SELECT * FROM products WHERE id = $1"


def _context(clone, opened, baseline=None) -> CheckContext:
    def grader():
        if "g" not in opened or opened["g"].closed:
            opened["g"] = clone.connect(GRADER, purpose="grader")
        return opened["g"]

    def base():
        if "b" not in opened:
            opened["b"] = baseline.connect(GRADER, purpose="grader-baseline")
        return opened["b"]

    return CheckContext(exercise_id="t", exercise_dir=Path("."), submission_dir=Path("."), manifest={},
                        grader=grader, learner=lambda: None, baseline=base if baseline is not None else None,
                        server=clone.server, dbname=clone.dbname)


@pytest.fixture
def shop(make_clone):
    """(clone, make_ctx): a clone with 30 000 products and no index but the primary key."""
    opened: dict = {}

    def build():
        clone = make_clone(fixture="empty")
        with clone.connect(LEARNER) as conn:
            conn.execute(PRODUCTS)
        return clone

    clone = build()
    state = {"baseline": None}

    def make_ctx(with_baseline: bool = False) -> CheckContext:
        if with_baseline and state["baseline"] is None:
            state["baseline"] = build()
        return _context(clone, opened, state["baseline"] if with_baseline else None)

    yield clone, make_ctx
    for conn in opened.values():
        conn.close()


def learner_runs(clone, statements: str) -> None:
    with clone.connect(LEARNER) as conn:
        conn.execute(statements)


# ------------------------------------------------------------------------------ uses_index

def test_btree_cannot_serve_a_leading_wildcard_but_trigram_gin_can(shop):
    clone, ctx = shop
    learner_runs(clone, "CREATE INDEX idx_products_name ON products (name); ANALYZE products;")
    out = uses_index(ctx(), query=SEARCH, table="products")
    assert not out.passed
    assert "Seq Scan" in out.message and "B-tree" in out.message and "pg_trgm" in out.message
    plan = next(e for e in out.evidence if e.kind == "plan")
    assert "Seq Scan on products" in plan.body
    indexes = next(e for e in out.evidence if e.title.startswith("Indexes on"))
    assert indexes.rows[0][0] == "idx_products_name"
    assert not index_can_serve(ctx(), query=SEARCH, table="products").passed

    learner_runs(clone, "CREATE EXTENSION pg_trgm; "
                        "CREATE INDEX idx_products_name_trgm ON products USING gin (name gin_trgm_ops); "
                        "ANALYZE products;")
    out = uses_index(ctx(), query=SEARCH, table="public.products")
    assert out.passed, out.message
    assert "idx_products_name_trgm" in out.message
    assert index_can_serve(ctx(), query=SEARCH, table="products").passed


def test_index_can_serve_with_parameters_where_the_planner_prefers_a_seq_scan(shop):
    clone, ctx = shop
    # category_id < 40 matches 80 % of the table: a seq scan is right, but an index could serve it.
    query = "SELECT * FROM products WHERE category_id < $1"
    assert not index_can_serve(ctx(), query=query, table="products", params=[40]).passed
    learner_runs(clone, "CREATE INDEX ON products (category_id); ANALYZE products;")
    assert not uses_index(ctx(), query=query, table="products", params=[40]).passed
    out = index_can_serve(ctx(), query=query, table="products", params=[40])
    assert out.passed, out.message
    assert "enable_seqscan = off" in out.evidence[0].title
    assert uses_index(ctx(), query=BY_ID, table="products", params=[7]).passed


def test_uses_index_on_a_missing_table_or_a_query_not_touching_it(shop):
    clone, ctx = shop
    out = uses_index(ctx(), query=SEARCH, table="order_items")
    assert not out.passed and "does not exist" in out.message
    learner_runs(clone, "CREATE TABLE order_items (id int)")
    out = uses_index(ctx(), query=SEARCH, table="order_items")
    assert not out.passed and "does not appear in the plan" in out.message
    learner_runs(clone, "ALTER TABLE products RENAME COLUMN name TO title")
    out = uses_index(ctx(), query=SEARCH, table="products")
    assert not out.passed and 'fails on your database: column "name" does not exist' in out.message


def test_invalid_index_is_explained(shop):
    clone, ctx = shop
    learner_runs(clone, "CREATE INDEX idx_cat ON products (category_id)")
    with clone.connect() as conn:  # what a failed CREATE INDEX CONCURRENTLY leaves behind
        conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_cat'::regclass")
    out = uses_index(ctx(), query="SELECT * FROM products WHERE category_id = 5", table="products")
    assert not out.passed and "idx_cat is INVALID" in out.message


# ------------------------------------------------------------------------------ plan faking

def test_database_level_enable_seqscan_off_is_detected_and_neutralised(shop):
    clone, ctx = shop
    query = "SELECT * FROM products WHERE category_id < 40"
    learner_runs(clone, "CREATE INDEX ON products (category_id); ANALYZE products;")
    assert no_plan_faking_settings(ctx()).passed
    ctx().grader().close()  # stored settings apply to sessions started after them
    with clone.connect() as conn:
        conn.execute(f'ALTER DATABASE "{clone.dbname}" SET enable_seqscan = off')
        conn.execute(f'ALTER DATABASE "{clone.dbname}" SET random_page_cost = 0.001')
    # A new grader session picks the settings up: without neutralising, the plan looks fixed.
    with clone.connect(GRADER) as conn:
        assert conn.execute("SHOW enable_seqscan").fetchone() == ("off",)
        conn.execute("RESET enable_seqscan")  # RESET goes back to the stored value, not the default
        assert conn.execute("SHOW enable_seqscan").fetchone() == ("off",)
    out = uses_index(ctx(), query=query, table="products")
    assert not out.passed, out.message
    ignored = next(e for e in out.evidence if e.title == "Planner settings ignored")
    assert "setting enable_seqscan = off was changed at database level" in ignored.body
    assert "random_page_cost" in ignored.body
    out = no_plan_faking_settings(ctx())
    assert not out.passed and "enable_seqscan" in out.message and "random_page_cost" in out.message
    fix = next(e for e in out.evidence if e.kind == "sql")
    assert f"ALTER DATABASE {clone.dbname} RESET enable_seqscan;" in fix.body


def test_role_level_setting_of_the_learner_is_reported(shop, pg_server):
    clone, ctx = shop
    learner_runs(clone, "ALTER ROLE learner SET enable_indexscan = off")  # a role may set its own defaults
    try:
        out = no_plan_faking_settings(ctx())
        assert not out.passed
        assert ("enable_indexscan", "off", "role learner") in next(e for e in out.evidence if e.kind == "rows").rows
    finally:
        with pg_server.connect() as conn:
            conn.execute("ALTER ROLE learner RESET enable_indexscan")


# ------------------------------------------------------------------------------ buffers and time

def test_fewer_buffers_than_baseline(shop):
    clone, ctx = shop
    query = "SELECT * FROM products WHERE name = 'Phone model 5'"
    out = fewer_buffers_than_baseline(ctx(with_baseline=True), query=query, factor=2)
    assert not out.passed and "1.0×" in out.message
    learner_runs(clone, "CREATE INDEX ON products (name); ANALYZE products;")
    out = fewer_buffers_than_baseline(ctx(with_baseline=True), query=query, factor=5)
    assert out.passed, out.message
    assert {e.kind for e in out.evidence} == {"plan"}


def test_median_time_and_speedup(shop):
    clone, ctx = shop
    query = "SELECT * FROM products WHERE name = 'Phone model 5'"
    out = median_time_under(ctx(), query=query, ms=10_000, runs=3, warmup=1)
    assert out.passed, out.message
    out = median_time_under(ctx(), query=query, ms=0.0001, runs=3, warmup=1)
    assert not out.passed and "median of 3 warm runs" in out.message
    times = next(e for e in out.evidence if e.title == "Execution times (ms)")
    assert len(times.body.split(", ")) == 3

    # Two identical databases: no real speed-up. The factor asked for is far above what machine
    # noise can fake (a loaded 2-core machine showed ~5x between identical runs of a few ms).
    out = speedup_over_baseline(ctx(with_baseline=True), query=query, factor=30, runs=3, warmup=1)
    assert not out.passed
    learner_runs(clone, "CREATE INDEX ON products (name); ANALYZE products;")
    out = speedup_over_baseline(ctx(with_baseline=True), query=query, factor=3, runs=5, warmup=1)
    assert out.passed, out.message


def _hashes(n: int) -> str:
    """A query doing n/50,000 times the yardstick's work (checks/sql/performance_yardstick.sql)."""
    return (f"SELECT pg_catalog.sum(pg_catalog.length(pg_catalog.md5(g::pg_catalog.text))) "
            f"FROM pg_catalog.generate_series(1, {n}) AS g")


def test_machine_slowdown_is_the_yardsticks_median_over_its_reference_time():
    assert machine_slowdown([2 * YARDSTICK_REFERENCE_MS, 3 * YARDSTICK_REFERENCE_MS, 100.0]) == 3.0
    assert machine_slowdown([YARDSTICK_REFERENCE_MS / 2] * 3) == 1.0  # a fast machine never tightens a limit


def test_median_time_limit_follows_the_machine_whatever_its_load(shop):
    # Limits of twice the yardstick's reference time: a query doing the yardstick's work passes
    # and one doing three times its work fails — on an idle machine and on one so loaded that
    # both take many times their idle time, because the limit stretches with the yardstick
    # measured in the same run (the bare limit would fail the first one under load).
    clone, ctx = shop
    limit = 2 * YARDSTICK_REFERENCE_MS
    light = median_time_under(ctx(), query=_hashes(50_000), ms=limit, runs=5, warmup=1)
    assert light.passed, light.message
    yard = next(e for e in light.evidence if e.title == "Machine speed (yardstick)")
    assert "yardstick times (ms)" in yard.body and f"limit of {limit:g} ms" in yard.body
    heavy = median_time_under(ctx(), query=_hashes(150_000), ms=limit, runs=5, warmup=1)
    assert not heavy.passed, heavy.message
    assert "it should take under" in heavy.message
    # calibrate: false keeps the bare limit and runs no yardstick.
    bare = median_time_under(ctx(), query=_hashes(50_000), ms=0.001, runs=1, warmup=0, calibrate=False)
    assert not bare.passed and "it should take under 0.001 ms." in bare.message
    assert not [e for e in bare.evidence if e.title == "Machine speed (yardstick)"]


def test_plan_checks_never_write(shop):
    clone, ctx = shop
    out = median_time_under(ctx(), query="DELETE FROM products", runs=1, warmup=0)
    assert not out.passed and "permission denied for table products" in out.message
    with clone.connect() as conn:
        assert conn.execute("SELECT count(*) FROM products").fetchone() == (30000,)
    assert ctx().grader().execute("SELECT 1").fetchone() == (1,)


# ------------------------------------------------------------------------------ plan reading

def test_index_scans_on_reads_bitmap_and_nested_plans():
    plan = {"Node Type": "Nested Loop", "Plans": [
        {"Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "public"},
        {"Node Type": "Bitmap Heap Scan", "Relation Name": "order_items", "Schema": "public", "Plans": [
            {"Node Type": "BitmapOr", "Plans": [
                {"Node Type": "Bitmap Index Scan", "Index Name": "a_idx"},
                {"Node Type": "Bitmap Index Scan", "Index Name": "b_idx"}]}]}]}
    assert index_scans_on(plan, "public", "order_items") == [
        "Bitmap Heap Scan fed by Bitmap Index Scan on a_idx, b_idx"]
    assert index_scans_on(plan, "public", "orders") == []
    assert index_scans_on(plan, "other", "order_items") == []
