"""Integrity and preservation checks on small hand-made tables (real server, no mocks).

A module-wide baseline clone holds the untouched data; each test that changes data gets its
own learner clone with the same content.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pgdrill.checks import integrity
from pgdrill.checks.base import CheckContext
from pgdrill.fixtures.templates import FixtureKey

DATA = """
CREATE TABLE customers (id int PRIMARY KEY, email text, name text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total_amount numeric(10,2), status text);
CREATE TABLE products (id int PRIMARY KEY, name text, stock_quantity int);
CREATE TABLE order_items (id int PRIMARY KEY, order_id int, product_id int,
                          quantity int NOT NULL, price numeric(10,2) NOT NULL);
INSERT INTO customers SELECT i, 'c' || i || '@example.com', 'Customer ' || i FROM generate_series(1, 20) i;
-- second accounts with the e-mail of customers 1 and 2 (the duplicate_emails fault)
INSERT INTO customers VALUES (21, 'c1@example.com', 'Customer 1 again'), (22, 'c2@example.com', 'Dup 2');
INSERT INTO products SELECT i, 'Product ' || i, 5 FROM generate_series(1, 10) i;
UPDATE products SET stock_quantity = -2 WHERE id = 3;
UPDATE products SET stock_quantity = NULL WHERE id = 4;
INSERT INTO order_items (id, order_id, product_id, quantity, price)
SELECT 2 * o + k, o, 1 + (o + k) % 10, 1 + k, 10.50 FROM generate_series(1, 30) o, generate_series(0, 1) k;
INSERT INTO orders SELECT o, 1 + o % 22, (SELECT sum(quantity * price) FROM order_items WHERE order_id = o), 'shipped'
FROM generate_series(1, 30) o;
-- orphans: lines of orders 900-902, which do not exist; one line with no order at all
INSERT INTO order_items VALUES (1001, 900, 1, 1, 5), (1002, 901, 1, 1, 5), (1003, 902, 2, 1, 5),
                               (1004, NULL, 2, 1, 5);
"""

MANIFEST = {
    "counts": {"customers": 22, "orders": 30, "products": 10, "order_items": 64},
    "faults": [
        {"id": "orphan_order_items", "kind": "integrity", "objects": ["order_items", "orders"],
         "row_ids": [1001, 1002, 1003], "count": 3, "data": {"deleted_order_ids": [900, 901, 902]}},
        {"id": "duplicate_emails", "kind": "integrity", "objects": ["customers", "orders"],
         "row_ids": [21, 22], "count": 2,
         "data": {"original_customer_ids": [1, 2], "duplicate_customer_ids": [21, 22],
                  "duplicate_account_order_ids": [21, 22]}},
        {"id": "negative_stock", "kind": "integrity", "objects": ["products"], "row_ids": [3], "count": 1,
         "data": {}},
        {"id": "missing_indexes", "kind": "performance", "objects": ["products(name)"], "row_ids": [],
         "count": 1, "data": {}},
        {"id": "corrupt_unique_index", "kind": "corruption", "objects": ["customers_email_key"],
         "row_ids": [21, 22], "count": 2, "data": {}},
    ],
}


def make_ctx(grader, baseline=None, manifest=MANIFEST) -> CheckContext:
    return CheckContext(exercise_id="t", exercise_dir=Path("."), submission_dir=Path("."), manifest=manifest,
                        grader=lambda: grader, learner=lambda: None,
                        baseline=(lambda: baseline) if baseline is not None else None)


@pytest.fixture(scope="module")
def baseline(templates):
    clone = templates.clone(FixtureKey("empty"))
    with clone.connect("learner") as conn:
        conn.execute(DATA)
    grader = clone.connect("pgdrill_grader", purpose="test-baseline")
    try:
        yield grader
    finally:
        grader.close()
        clone.drop()


class DB:
    def __init__(self, clone, baseline):
        self.clone = clone
        self.learner = clone.connect("learner", purpose="test-learner")
        self.grader = clone.connect("pgdrill_grader", purpose="test-grader")
        self.learner.execute(DATA)
        self.ctx = make_ctx(self.grader, baseline)

    def run(self, statement: str) -> None:
        self.learner.execute(statement)

    def close(self):
        self.learner.close()
        self.grader.close()


@pytest.fixture
def db(make_clone, baseline):
    d = DB(make_clone(fixture="empty"), baseline)
    yield d
    d.close()


# ------------------------------------------------------------------ manifest helpers

def test_fault_rows_map_faults_to_tables():
    faults = {f["id"]: f for f in MANIFEST["faults"]}
    assert integrity.fault_rows(faults["orphan_order_items"]) == {"order_items": {"1001", "1002", "1003"}}
    assert integrity.fault_rows(faults["missing_indexes"]) == {}
    assert integrity.related_rows(faults["duplicate_emails"]) == {"customers": {"1", "2", "21", "22"},
                                                                   "orders": {"21", "22"}}
    assert integrity.related_rows(faults["orphan_order_items"]) == {}  # deleted rows exist nowhere
    assert integrity.fault_row_keys(MANIFEST, "customers") == {"1", "2", "21", "22"}
    assert integrity.fault_row_keys(MANIFEST, "customers", related=False) == {"21", "22"}
    # explicit forms: a table key, and row_ids per table
    assert integrity.fault_rows({"table": "orders", "objects": ["x"], "row_ids": [5]}) == {"orders": {"5"}}
    assert integrity.fault_rows({"row_ids": {"public.orders": [1, 2], "customers": 3}}) == {
        "orders": {"1", "2"}, "customers": {"3"}}
    assert integrity.removable_rows(MANIFEST, "order_items") == 3
    assert integrity.removable_rows(MANIFEST, "customers") == 2
    assert integrity.removable_rows(MANIFEST, "products") == 0
    assert integrity.removable_rows(MANIFEST, "products", ["negative_stock"]) == 1


# ------------------------------------------------------------------ no_orphans

def test_no_orphans_counts_only_real_orphans(db):
    out = integrity.no_orphans(db.ctx, child="order_items", column="order_id", parent="orders")
    assert not out.passed
    assert out.message.startswith("3 rows of public.order_items")  # the NULL order_id is no orphan
    assert out.evidence[0].rows and {r[0] for r in out.evidence[0].rows} == {"1001", "1002", "1003"}
    db.run("DELETE FROM order_items WHERE id = 1001")
    out = integrity.no_orphans(db.ctx, child="order_items", column="order_id", parent="orders")
    assert not out.passed and out.score == pytest.approx(1 / 3)
    db.run("DELETE FROM order_items WHERE order_id NOT IN (SELECT id FROM orders)")
    out = integrity.no_orphans(db.ctx, child="order_items", column="order_id", parent="orders", parent_column="id")
    assert out.passed, out.message
    assert db.grader.execute("SELECT count(*) FROM public.order_items WHERE order_id IS NULL").fetchone()[0] == 1


def test_no_orphans_missing_objects_fail_cleanly(db):
    out = integrity.no_orphans(db.ctx, child="order_items", column="order_ref", parent="orders")
    assert not out.passed and "no column order_ref" in out.message
    db.run("DROP TABLE order_items")
    out = integrity.no_orphans(db.ctx, child="order_items", column="order_id", parent="orders")
    assert not out.passed and "does not exist" in out.message and "every valid row" in out.message
    out = integrity.no_orphans(db.ctx, child="orders", column="customer_id", parent="clients")
    assert not out.passed and "parent table public.clients does not exist" in out.message


# ------------------------------------------------------------------ value rules

def test_no_duplicates(db):
    out = integrity.no_duplicates(db.ctx, table="customers", columns=["email"])
    assert not out.passed and "2 values" in out.message
    assert {r[0] for r in out.evidence[0].rows} == {"c1@example.com", "c2@example.com"}
    assert integrity.no_duplicates(db.ctx, table="customers", columns=["email", "name"]).passed
    db.run("UPDATE customers SET email = email || '.dup' WHERE id IN (21, 22)")
    assert integrity.no_duplicates(db.ctx, table="customers", columns="email").passed
    db.run("UPDATE customers SET email = 'C1@example.com.DUP' WHERE id = 21")
    db.run("UPDATE customers SET email = 'c1@example.com.dup' WHERE id = 22")
    db.run("UPDATE customers SET email = NULL WHERE id IN (5, 6)")  # NULLs are never duplicates
    assert integrity.no_duplicates(db.ctx, table="customers", columns="email").passed
    out = integrity.no_duplicates(db.ctx, table="customers", columns="email", ignore_case=True)
    assert not out.passed and "c1@example.com.dup" in out.evidence[0].rows[0]


def test_no_negative_values_and_no_nulls(db):
    out = integrity.no_negative_values(db.ctx, table="products", column="stock_quantity")
    assert not out.passed and out.message.startswith("1 row of public.products has negative stock_quantity")
    out = integrity.no_nulls(db.ctx, table="products", column="stock_quantity")
    assert not out.passed and "NULL" in out.message and out.evidence[0].rows[0][0] == "4"
    db.run("UPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0 OR stock_quantity IS NULL")
    assert integrity.no_negative_values(db.ctx, table="products", column="stock_quantity").passed
    assert integrity.no_nulls(db.ctx, table="products", column="stock_quantity").passed
    out = integrity.no_nulls(db.ctx, table="products", column="nope")
    assert not out.passed and "no column nope" in out.message


def test_totals_match_items(db):
    assert integrity.totals_match_items(db.ctx).passed
    db.run("UPDATE orders SET total_amount = total_amount * 0.85 WHERE id IN (3, 4)")
    db.run("UPDATE orders SET total_amount = total_amount + 0.005 WHERE id = 5")  # within tolerance
    out = integrity.totals_match_items(db.ctx)
    assert not out.passed and out.message.startswith("2 orders")
    assert {r[0] for r in out.evidence[0].rows} == {"3", "4"}
    assert integrity.totals_match_items(db.ctx, tolerance=100).passed
    db.run("ALTER TABLE order_items RENAME COLUMN quantity TO qty")
    out = integrity.totals_match_items(db.ctx)
    assert not out.passed and "no column quantity" in out.message
    assert not integrity.totals_match_items(db.ctx, quantity_column="qty").passed


def test_totals_may_be_reconciled_by_a_column_the_fix_added(db):
    db.run("UPDATE orders SET total_amount = round(total_amount * 0.85, 2) WHERE id IN (3, 4)")
    # A discount recorded in a new column, under any name and with either sign, reconciles them.
    db.run("ALTER TABLE orders ADD COLUMN promo numeric(10,2) NOT NULL DEFAULT 0")
    db.run("""UPDATE orders AS o SET promo = o.total_amount - l.s
              FROM (SELECT order_id, sum(quantity * price) AS s FROM order_items GROUP BY order_id) AS l
              WHERE l.order_id = o.id AND o.id IN (3, 4)""")
    out = integrity.totals_match_items(db.ctx, allow_added_adjustment=True)
    assert out.passed and "total_amount - promo" in out.message
    assert not integrity.totals_match_items(db.ctx).passed  # only when the spec allows it
    # An adjustment that explains only one of the two orders is no reconciliation.
    db.run("UPDATE orders SET promo = 0 WHERE id = 4")
    out = integrity.totals_match_items(db.ctx, allow_added_adjustment=True)
    assert not out.passed and out.message.startswith("2 orders")
    # A column the incident already had (status) is never taken for an adjustment.
    db.run("UPDATE orders SET status = NULL")
    assert not integrity.totals_match_items(db.ctx, allow_added_adjustment=True).passed


def test_zero_is_not_a_positive_total(db):
    db.run("UPDATE orders SET total_amount = 0 WHERE id = 7")
    assert integrity.no_negative_values(db.ctx, table="orders", column="total_amount").passed
    out = integrity.no_negative_values(db.ctx, table="orders", column="total_amount", allow_zero=False)
    assert not out.passed and out.message.startswith("1 row of public.orders has zero or negative total_amount")
    db.run("UPDATE orders SET total_amount = -5 WHERE id = 8")
    assert not integrity.no_negative_values(db.ctx, table="orders", column="total_amount").passed


def test_no_future_values_uses_the_later_of_the_clock_and_the_incident_time(db):
    db.run("ALTER TABLE orders ADD COLUMN order_date timestamp")
    db.run("UPDATE orders SET order_date = TIMESTAMP '2025-06-01 10:00' + id * interval '1 day'")
    manifest = {**MANIFEST, "reference_time": "2026-11-23 09:00:00"}
    ctx = make_ctx(db.grader, None, manifest)
    assert integrity.no_future_values(ctx, table="orders", column="order_date").passed
    db.run("UPDATE orders SET order_date = TIMESTAMP '2052-06-01 10:00' WHERE id IN (5, 6)")
    out = integrity.no_future_values(ctx, table="orders", column="order_date")
    assert not out.passed and out.message.startswith("2 rows of public.orders have future order_date")
    assert {r[0] for r in out.evidence[0].rows} == {"5", "6"}
    # An incident whose "now" lies ahead of the grading machine's clock: its own rows are not future.
    db.run("UPDATE orders SET order_date = TIMESTAMP '2100-01-01' - id * interval '1 hour' WHERE id IN (5, 6)")
    ahead = make_ctx(db.grader, None, {**MANIFEST, "reference_time": "2100-01-01 00:00:00"})
    assert integrity.no_future_values(ahead, table="orders", column="order_date").passed
    assert not integrity.no_future_values(ctx, table="orders", column="order_date").passed


def test_not_before_parent(db):
    db.run("ALTER TABLE orders ADD COLUMN order_date timestamp")
    db.run("ALTER TABLE customers ADD COLUMN created_at timestamp")
    db.run("UPDATE customers SET created_at = TIMESTAMP '2025-01-01'")
    db.run("UPDATE orders SET order_date = TIMESTAMP '2025-03-01' + id * interval '1 day'")
    args = dict(child="orders", column="order_date", reference="customer_id", parent="customers",
                parent_column="created_at")
    assert integrity.not_before_parent(db.ctx, **args).passed
    # a re-import stamped customer 5's account after its orders
    db.run("UPDATE customers SET created_at = TIMESTAMP '2026-01-01' WHERE id = 5")
    out = integrity.not_before_parent(db.ctx, **args)
    orders_of_5 = db.grader.execute("SELECT count(*) FROM public.orders WHERE customer_id = 5").fetchone()[0]
    assert not out.passed and out.message.startswith(f"{orders_of_5} row")
    # The orders at the boundary are fine (not before), and an order with no customer is another check's.
    db.run("UPDATE customers SET created_at = (SELECT min(order_date) FROM orders WHERE customer_id = 5) WHERE id = 5")
    db.run("UPDATE orders SET customer_id = 999 WHERE id = 1")
    assert integrity.not_before_parent(db.ctx, **args).passed
    out = integrity.not_before_parent(db.ctx, **{**args, "parent_column": "born"})
    assert not out.passed and "no column born" in out.message


def test_fault_rows_kept_tells_repair_from_deletion(db):
    assert integrity.fault_rows_kept(db.ctx, table="products", faults=["negative_stock"]).passed
    db.run("UPDATE products SET stock_quantity = 0 WHERE id = 3")  # repaired in place
    assert integrity.fault_rows_kept(db.ctx, table="products", faults=["negative_stock"]).passed
    db.run("DELETE FROM customers WHERE id = 21")
    out = integrity.fault_rows_kept(db.ctx, table="customers", faults=["duplicate_emails"])
    assert not out.passed and out.score == pytest.approx(0.5) and "duplicate_emails" in out.message
    assert out.evidence[0].rows[0][2] == "21"
    with pytest.raises(LookupError):
        integrity.fault_rows_kept(db.ctx, table="products", faults=["orphan_order_items"])


def test_integrity_checks_pass_is_all_or_nothing(db):
    rules = [{"check": "no_negative_values", "with": {"table": "products", "column": "stock_quantity"}},
             {"check": "no_nulls", "with": {"table": "products", "column": "stock_quantity"}},
             {"check": "no_orphans", "with": {"child": "order_items", "column": "order_id", "parent": "orders"}}]
    out = integrity.integrity_checks_pass(db.ctx, checks=rules)
    assert not out.passed and out.score is None and out.message.startswith("0 of 3 integrity checks pass")
    db.run("UPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0 OR stock_quantity IS NULL")
    out = integrity.integrity_checks_pass(db.ctx, checks=rules)
    assert not out.passed and out.message.startswith("2 of 3 integrity checks pass")
    assert "3 rows of public.order_items" in out.message
    db.run("DELETE FROM order_items WHERE id > 1000")
    out = integrity.integrity_checks_pass(db.ctx, checks=rules)
    assert out.passed and [r[1] for r in out.evidence[0].rows] == ["holds"] * 3
    for bad in ([{"check": "nothing_lost", "with": {"table": "orders"}}],        # not a rule check
                [{"check": "no_nulls", "with": {"table": "products"}}],          # a missing argument
                [{"check": "no_nulls", "with": {"table": "p", "column": "c", "colour": 1}}], []):
        with pytest.raises((ValueError, TypeError)):
            integrity.integrity_checks_pass(db.ctx, checks=bad)


def test_a_spec_with_a_wrong_nested_rule_check_is_refused_with_its_key(tmp_path):
    from pgdrill import checks
    from pgdrill.spec import SpecError, load_spec

    folder = tmp_path / "nested"
    folder.mkdir()
    (folder / "exercise.yaml").write_text("""id: nested
title: Nested rules
checks:
  - id: all-rules
    check: integrity_checks_pass
    with:
      checks:
        - {check: no_nulls, with: {table: products, column: stock_quantity}}
        - {check: no_nulls, with: {table: products, colum: stock_quantity}}
    description: d
""")
    with pytest.raises(SpecError) as info:
        load_spec(folder / "exercise.yaml", checks.load_all())
    assert info.value.key == "checks[0].with.checks[1].with"
    assert "no_nulls: missing a required argument: 'column'" in info.value.message


# ------------------------------------------------------------------ amcheck

def test_amcheck_detects_missing_index_entries(db):
    db.run("DELETE FROM customers WHERE id IN (21, 22)")
    db.run("ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email)")
    assert integrity.amcheck_passes(db.ctx, index="customers_email_key").passed
    # Corrupt it the way the incident does: rows inserted while the index is not ready.
    with db.clone.connect() as su:
        su.execute("UPDATE pg_catalog.pg_index SET indisready = false WHERE indexrelid = 'customers_email_key'::regclass")
    with db.clone.connect("learner") as other:
        other.execute("INSERT INTO customers VALUES (21, 'c1@example.com', 'again')")
    with db.clone.connect() as su:
        su.execute("UPDATE pg_catalog.pg_index SET indisready = true WHERE indexrelid = 'customers_email_key'::regclass")
    out = integrity.amcheck_passes(db.ctx, index="customers_email_key")
    assert not out.passed, out.message
    assert "corrupt" in out.message and out.evidence and out.evidence[0].body
    assert integrity.amcheck_passes(db.ctx, index="public.customers_email_key", heapallindexed=False).passed


def test_amcheck_other_cases(db):
    out = integrity.amcheck_passes(db.ctx, index="no_such_index")
    assert not out.passed and "no index" in out.message
    db.run("CREATE INDEX products_name_hash ON products USING hash (name)")
    out = integrity.amcheck_passes(db.ctx, index="products_name_hash")
    assert not out.passed and "hash index" in out.message
    with pytest.raises(Exception):
        db.run("CREATE UNIQUE INDEX CONCURRENTLY customers_email_uq ON customers (email)")
    out = integrity.amcheck_passes(db.ctx, index="customers_email_uq")
    assert not out.passed and "INVALID" in out.message


# ------------------------------------------------------------------ rows_preserved

def test_rows_preserved_untouched_and_fault_fixes(db):
    for table in ("customers", "orders", "products", "order_items"):
        out = integrity.rows_preserved(db.ctx, table=table)
        assert out.passed, out.message
    # Correct fixes touch only fault rows (and rows the faults name).
    db.run("DELETE FROM order_items WHERE id IN (1001, 1002, 1003)")
    db.run("UPDATE orders SET customer_id = customer_id - 20 WHERE id IN (21, 22)")
    db.run("DELETE FROM customers WHERE id IN (21, 22)")
    db.run("UPDATE products SET stock_quantity = 0 WHERE id = 3")
    db.run("ALTER TABLE customers ADD COLUMN merged_into int")
    db.run("INSERT INTO order_items VALUES (5000, 1, 1, 1, 1)")
    for table in ("customers", "orders", "products", "order_items"):
        out = integrity.rows_preserved(db.ctx, table=table)
        assert out.passed, out.message
    assert "added" in integrity.rows_preserved(db.ctx, table="order_items").message
    # without the exclusion the fault rows count as changes
    assert not integrity.rows_preserved(db.ctx, table="products", exclude_fault_rows=False).passed


def test_rows_preserved_detects_one_changed_value_and_a_deleted_row(db):
    db.run("UPDATE order_items SET price = 10.51 WHERE id = 17")
    out = integrity.rows_preserved(db.ctx, table="order_items")
    assert not out.passed and "1 row changed (key 17)" in out.message
    ev = out.evidence[0]
    assert ev.rows[0][0] == "before" and "10.50" in ev.rows[0] and "10.51" in ev.rows[1]
    db.run("UPDATE order_items SET price = 10.50 WHERE id = 17")
    assert integrity.rows_preserved(db.ctx, table="order_items").passed
    db.run("DELETE FROM order_items WHERE id = 40")
    out = integrity.rows_preserved(db.ctx, table="order_items")
    assert not out.passed and "1 row deleted (key 40)" in out.message
    assert "(deleted)" in out.evidence[0].rows[1]
    # a change in an ignored column is allowed
    db.run("UPDATE orders SET status = 'delivered'")
    assert not integrity.rows_preserved(db.ctx, table="orders").passed
    assert integrity.rows_preserved(db.ctx, table="orders", ignore_columns=["status"]).passed


def test_rows_preserved_bag_mode_and_destroyed_tables(db):
    assert integrity.rows_preserved(db.ctx, table="products", key=None, exclude_fault_rows=False).passed
    db.run("INSERT INTO products VALUES (11, 'New', 1)")
    assert integrity.rows_preserved(db.ctx, table="products", key=None).passed
    db.run("UPDATE products SET name = 'Renamed' WHERE id = 7")
    out = integrity.rows_preserved(db.ctx, table="products", key=None)
    assert not out.passed and "1 original row" in out.message
    db.run("ALTER TABLE products DROP COLUMN name")
    out = integrity.rows_preserved(db.ctx, table="products")
    assert not out.passed and "lost column name" in out.message
    db.run("DROP TABLE order_items")
    out = integrity.rows_preserved(db.ctx, table="order_items")
    assert not out.passed and "no longer exists" in out.message


def test_rows_preserved_needs_a_baseline(db):
    ctx = make_ctx(db.grader)
    with pytest.raises(RuntimeError):
        integrity.rows_preserved(ctx, table="orders")


# ------------------------------------------------------------------ nothing_lost

def test_nothing_lost_allows_the_fault_rows(db):
    assert integrity.nothing_lost(db.ctx, table="order_items").passed
    db.run("DELETE FROM order_items WHERE order_id NOT IN (SELECT id FROM orders)")
    out = integrity.nothing_lost(db.ctx, table="order_items")
    assert out.passed and "3 rows removed, 3 allowed" in out.message
    db.run("DELETE FROM customers WHERE id IN (21, 22)")
    assert integrity.nothing_lost(db.ctx, table="customers").passed


def test_nothing_lost_says_rows_were_added_not_that_more_than_all_are_left(db):
    # Placeholder rows (like the erased customers' in 4.2) add rows: "12 of 10 rows" would read as nonsense.
    db.run("INSERT INTO products (id, name, stock_quantity) "
           "SELECT 1000 + g, 'Placeholder ' || g, 0 FROM generate_series(1, 2) AS g")
    out = integrity.nothing_lost(db.ctx, table="products")
    assert out.passed and out.message == "public.products has 12 rows, 10 in the incident: none removed (2 rows added)."


def test_nothing_lost_truncate_scores_zero(db):
    db.run("TRUNCATE order_items")
    out = integrity.nothing_lost(db.ctx, table="order_items")
    assert not out.passed and out.fraction == 0
    assert "64 rows are gone but only 3" in out.message and "destroyed" in out.message


def test_nothing_lost_deleting_every_duplicate_scores_zero(db):
    db.run("DELETE FROM customers WHERE email IN (SELECT email FROM customers GROUP BY email HAVING count(*) > 1)")
    out = integrity.nothing_lost(db.ctx, table="customers")
    assert not out.passed and out.fraction == 0 and "2 rows of good data were destroyed" in out.message


def test_nothing_lost_allowances_and_dropped_table(db):
    db.run("DELETE FROM products WHERE id = 3")
    assert not integrity.nothing_lost(db.ctx, table="products").passed
    assert integrity.nothing_lost(db.ctx, table="products", allowed_loss=["negative_stock"]).passed
    assert integrity.nothing_lost(db.ctx, table="products", allowed_loss=1).passed
    # without a baseline clone the manifest's counts serve
    assert integrity.nothing_lost(make_ctx(db.grader), table="products", allowed_loss=1).passed
    db.run("DROP TABLE products")
    out = integrity.nothing_lost(db.ctx, table="products")
    assert not out.passed and "no longer exists" in out.message and "10 rows" in out.message


# ------------------------------------------------------------------ the TechShop incident

def test_techshop_corrupt_email_index_and_orphans(make_clone):
    """On the planted incident: the corrupt unique index and the 15 orphaned order lines."""
    pytest.importorskip("pgdrill.fixtures.incident.build")
    clone = make_clone(scale=0.1)
    with clone.connect("pgdrill_grader", purpose="test-grader") as grader:
        ctx = make_ctx(grader, manifest=clone.manifest)
        out = integrity.amcheck_passes(ctx, index="customers_email_key")
        assert not out.passed and out.evidence, out.message
        out = integrity.no_orphans(ctx, child="order_items", column="order_id", parent="orders")
        assert not out.passed and out.message.startswith("15 rows of public.order_items"), out.message
        assert out.score is None  # nothing fixed yet: no partial credit
        assert integrity.removable_rows(clone.manifest, "order_items") == 15


def test_techshop_preservation_against_an_untouched_clone(make_clone):
    """Replay is content-neutral, the manifest maps faults to rows, and a right fix passes."""
    pytest.importorskip("pgdrill.fixtures.incident.build")
    clone, untouched = make_clone(scale=0.1), make_clone(scale=0.1)
    with clone.connect("pgdrill_grader", purpose="test-grader") as grader, \
            untouched.connect("pgdrill_grader", purpose="test-baseline") as base, \
            clone.connect("learner", purpose="test-learner") as learner:
        ctx = make_ctx(grader, base, manifest=clone.manifest)
        for table in ("customers", "orders", "order_items", "products", "categories"):
            assert integrity.rows_preserved(ctx, table=table).passed, table
        learner.execute("DELETE FROM order_items o WHERE NOT EXISTS (SELECT 1 FROM orders WHERE id = o.order_id)")
        assert integrity.no_orphans(ctx, child="order_items", column="order_id", parent="orders").passed
        assert integrity.nothing_lost(ctx, table="order_items").passed
        assert integrity.rows_preserved(ctx, table="order_items").passed
        learner.execute("DELETE FROM order_items WHERE id = (SELECT min(id) FROM order_items)")
        out = integrity.nothing_lost(ctx, table="order_items")
        assert not out.passed and "1 row of good data was destroyed" in out.message
        assert not integrity.rows_preserved(ctx, table="order_items").passed
