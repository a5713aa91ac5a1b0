"""Capstone Phase 3 (3.1 orphans, 3.2 constraints, 3.3 anomalies) and Task 4.2 (clean-up),
graded end to end on real PostgreSQL. tests/test_exercises_as_data.py grades the reference
solutions (two seeds), the starters (their documented baselines) and the wrong answers and
destructive "fixes" under tests/data/submissions/<id>/<variant>/ (each losing exactly the
points its expect.yaml says, with feedback that names the reason); here are the cases a
variant cannot show: answers built from the lab's ids, edits of the reference, the new checks.

Expected rows always come from the grader's reference queries on a clone of the same
incident; the few ids used here are read from a clone (or its manifest), never written down.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from kit import SUBMISSIONS, by_id

from pgdrill.fixtures.templates import FixtureKey
from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.report import Status

ORPHANS = "techshop-3-1-orphans"
CONSTRAINTS = "techshop-3-2-constraints"
ANOMALIES = "techshop-3-3-anomalies"
CLEANUP = "techshop-4-2-cleanup"
EXERCISES = (ORPHANS, CONSTRAINTS, ANOMALIES, CLEANUP)
SQL_FILE = {ORPHANS: "orphans.sql", CONSTRAINTS: "constraints.sql", ANOMALIES: "anomalies.sql",
            CLEANUP: "cleanup.sql"}
def reference_sql(exercise: str) -> str:
    return (SOLUTIONS_DIR / exercise / SQL_FILE[exercise]).read_text()


def errors(result) -> list:
    return [(s.line, s.sqlstate, s.message) for s in result.statements if s.status != "ok"]


@pytest.fixture(scope="module")
def lab_pairs(templates):
    """The duplicate accounts of the lab's seed (1), (original id, copy id), read from the table."""
    with templates.clone(FixtureKey("techshop", 0.1, 1), replay=False) as lab, lab.connect() as conn:
        conn.execute("SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off")
        return [tuple(r) for r in conn.execute(
            "SELECT min(id), max(id) FROM customers GROUP BY email HAVING count(*) > 1 ORDER BY 1")]


# ------------------------------------------------------------------------------ all four


def test_specs_follow_the_course_conventions():
    from pgdrill import checks
    from pgdrill.spec import load_spec

    orders = {}
    for exercise in EXERCISES:
        spec = load_spec(EXERCISES_DIR / exercise / "exercise.yaml", checks.load_all())
        assert spec.incident.seed == "grading" and spec.incident.scale == 1
        assert [f.path for f in spec.files] == [SQL_FILE[exercise]]
        assert (EXERCISES_DIR / exercise / SQL_FILE[exercise]).exists()
        assert (SOLUTIONS_DIR / exercise / "NOTES.md").exists()
        orders[exercise] = spec.order
    assert orders == {ORPHANS: 131, CONSTRAINTS: 132, ANOMALIES: 133, CLEANUP: 142}


# ------------------------------------------------------------------------------ 3.1 orphans


def test_not_in_scores_when_it_returns_the_right_rows_and_lab_ids_do_not_carry_over(grade, templates):
    """Grading follows rows, not syntax: NOT IN against primary keys is right here. A query
    that lists the ids seen in the lab (seed 1) passes there and fails on another seed."""
    with templates.clone(FixtureKey("techshop", 0.1, 1), replay=False) as lab, lab.connect() as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT oi.id FROM order_items oi LEFT JOIN orders o ON o.id = oi.order_id WHERE o.id IS NULL")]
    assert len(ids) == 15
    sql = (
        "-- name: orphan_order_items\n"
        f"SELECT * FROM order_items WHERE id IN ({', '.join(map(str, ids))});\n"
        "-- name: orders_without_customers\n"
        "SELECT * FROM orders WHERE customer_id NOT IN (SELECT id FROM customers);\n"
        "-- name: products_without_categories\n"
        "SELECT * FROM products WHERE category_id NOT IN (SELECT id FROM categories);\n")
    lab_seed = by_id(grade(ORPHANS, {"orphans.sql": sql}, seed=1))
    other_seed = by_id(grade(ORPHANS, {"orphans.sql": sql}, seed=2))
    assert all(c.status is Status.PASSED for c in lab_seed.values())
    assert other_seed["orphan-order-items"].status is Status.FAILED
    assert "missing" in other_seed["orphan-order-items"].message
    for check_id in ("orders-without-customers", "products-without-categories"):
        assert other_seed[check_id].status is Status.PASSED


def test_not_in_against_a_nullable_column_finds_nothing(incident):
    """The README's demonstration of the NOT IN trap holds on the incident."""
    with incident.connect("learner") as conn:
        not_in = conn.execute(
            "SELECT count(*) FROM categories WHERE id NOT IN (SELECT parent_id FROM categories)").fetchone()[0]
        not_exists = conn.execute(
            "SELECT count(*) FROM categories c WHERE NOT EXISTS "
            "(SELECT 1 FROM categories s WHERE s.parent_id = c.id)").fetchone()[0]
        nulls = conn.execute("SELECT count(*) FROM categories WHERE parent_id IS NULL").fetchone()[0]
    assert nulls > 0 and not_in == 0 and not_exists > 0


# ------------------------------------------------------------------------------ 3.2 constraints


# The queries the corrupt index answers (trusts-the-index/) and the forged corruption error
# (forged-amcheck-error/) are graded against their expect.yaml by test_exercises_as_data.py.


AMCHECK = "-- name: email_index_check\nSELECT bt_index_check('customers_email_key', heapallindexed => true);\n"


def test_amchecks_own_error_counts_and_its_words_raised_by_hand_do_not(grade):
    reference = reference_sql(CONSTRAINTS)
    assert AMCHECK in reference
    # The parent-level check, with the index named by its schema, is amcheck too: it passes.
    parent = AMCHECK.replace("bt_index_check('customers_email_key'",
                             "bt_index_parent_check('public.customers_email_key'")
    honest = by_id(grade(CONSTRAINTS, {"constraints.sql": reference.replace(AMCHECK, parent)}))["email-index-corrupt"]
    assert honest.status is Status.PASSED, honest.message
    words = honest.message.split("XX001 data_corrupted: ", 1)[1].rstrip(").")
    assert words.startswith("heap tuple (") and "customers_email_key" in words
    # amcheck's very words on this very database, raised by the learner's own code: no proof.
    copied = ("-- name: email_index_check\nDO $$ BEGIN RAISE EXCEPTION '%', "
              + "'" + words.replace("'", "''") + "' USING ERRCODE = 'XX001'; END $$;\n")
    forged = by_id(grade(CONSTRAINTS, {"constraints.sql": reference.replace(AMCHECK, copied)}))["email-index-corrupt"]
    assert forged.points == 0 and words in forged.message and "not the one" in forged.message


def test_grader_reference_reads_the_table_whatever_the_plan(incident):
    """The spec's duplicate references find every account even where index scans are forced
    and the complete plain index is gone."""
    spec = yaml.safe_load((EXERCISES_DIR / CONSTRAINTS / "exercise.yaml").read_text())
    refs = {c["id"]: c["with"]["reference"] for c in spec["checks"] if c["check"] == "rows_match"}
    with incident.connect("learner") as conn:
        conn.execute("DROP INDEX idx_customers_email")
        conn.execute("SET enable_seqscan = off")
        conn.execute("VACUUM customers")
        emails = conn.execute(refs["duplicate-emails"]).fetchall()
        accounts = conn.execute(refs["duplicate-accounts"]).fetchall()
        # the scenario's own query is fooled on this plan
        scenario = conn.execute("SELECT email, count(*) FROM customers GROUP BY email HAVING count(*) > 1").fetchall()
    dup = next(f for f in incident.manifest["faults"] if f["id"] == "duplicate_emails")
    assert len(emails) == len(dup["row_ids"]) and all(n == 2 for _, n in emails)
    assert {r[0] for r in accounts} == set(dup["data"]["original_customer_ids"]) | set(dup["row_ids"])
    assert scenario == []


# ------------------------------------------------------------------------------ 3.3 anomalies


def test_comparing_with_null_finds_nothing(grade):
    sql = reference_sql(ANOMALIES).replace("OR stock_quantity IS NULL", "OR stock_quantity = NULL")
    result = by_id(grade(ANOMALIES, {"anomalies.sql": sql}))
    check = result["products-null-critical"]
    assert check.status is Status.FAILED and "5 expected row(s) are missing" in check.message
    assert "IS NULL" in check.feedback
    assert all(c.status is Status.PASSED for k, c in result.items() if k != "products-null-critical")


# ------------------------------------------------------------------------------ 4.2 clean-up


# The destructive clean-ups (truncates-items-renames-emails/, truncates-items-deletes-copies/,
# deletes-accounts-and-orders/, keeps-the-copy-skips-reindex/) are graded against their
# expect.yaml by tests/test_exercises_as_data.py.


def submission(variant: str) -> str:
    return (SUBMISSIONS / CLEANUP / variant / "cleanup.sql").read_text()


@pytest.mark.parametrize("rule, got_in", [
    ("CHECK (stock_quantity > -1 OR stock_quantity < -10)", "-2147483648"),  # far negatives get in
    ("CHECK (stock_quantity <> -1)", "-2"),                                   # right for the one value -1
])
def test_a_check_right_for_one_value_is_a_check_but_no_rule(grade, rule, got_in):
    sql = reference_sql(CLEANUP)
    assert "CHECK (stock_quantity >= 0)" in sql
    r = by_id(grade(CLEANUP, {"cleanup.sql": sql.replace("CHECK (stock_quantity >= 0)", rule)}))
    assert r["stock-check-constraint"].status is Status.PASSED  # the catalog sees a validated CHECK
    refused = r["negative-stock-refused"]
    assert refused.points == 0 and got_in in refused.message, refused.message


def test_deleting_the_double_submitted_orders_is_told_they_are_out_of_scope(grade, incident):
    """The 4 zero-total double submissions are task 3.3's anomalies: a "why" about erased
    customers would send the learner looking for the wrong mistake."""
    double = next(f for f in incident.manifest["faults"] if f["id"] == "zero_total_orders")
    delete = ("\nDELETE FROM orders AS o WHERE o.total_amount = 0\n"
              "  AND NOT EXISTS (SELECT 1 FROM order_items AS oi WHERE oi.order_id = o.id);\n")
    result = grade(CLEANUP, {"cleanup.sql": reference_sql(CLEANUP) + delete})
    assert errors(result) == []
    r = by_id(result)
    lost = r["orders-not-lost"]
    assert lost.points == 0
    assert f"{double['count']} rows are gone" in lost.message, lost.message
    assert "anomalies of task 3.3" in lost.feedback and "out of scope here" in lost.feedback
    # everything else of the reference still stands (the orders' fixes, and the guard of the
    # orders table's shape that pays only with them, count nothing once orders were lost)
    assert {c.check_id for c in result.checks if c.points < c.max_points} <= {
        "orders-not-lost", "orders-have-customers", "customer-fk-restored", "orders-preserved", "orders-table-kept"}


def test_an_unenforced_foreign_key_is_not_kept(grade, pg_server):
    """PostgreSQL 18 lets a table owner keep a foreign key that checks nothing (the rest of
    keeps-the-copy-skips-reindex is graded from its expect.yaml)."""
    if pg_server.version_num < 180000:
        pytest.skip("NOT ENFORCED foreign keys are new in PostgreSQL 18")
    sql = submission("keeps-the-copy-skips-reindex")
    sql += "\nALTER TABLE order_items ALTER CONSTRAINT order_items_order_id_fkey NOT ENFORCED;\n"
    result = grade(CLEANUP, {"cleanup.sql": sql})
    assert errors(result) == []
    r = by_id(result)
    assert r["items-fk-kept"].points == 0 and "NOT ENFORCED" in r["items-fk-kept"].message
    assert r["orphan-item-refused"].points == 0


def test_a_merge_with_the_lab_ids_merges_the_wrong_people_on_another_seed(grade, lab_pairs):
    """The copies take the next serial ids on every seed; the originals do not."""
    assert len(lab_pairs) == 2
    merge = "".join(f"UPDATE orders SET customer_id = {orig} WHERE customer_id = {copy};\n"
                    for orig, copy in lab_pairs)
    merge += f"DELETE FROM customers WHERE id IN ({', '.join(str(c) for _, c in lab_pairs)});\n"
    reference = reference_sql(CLEANUP)
    start = reference.index("BEGIN;\nCREATE TABLE customer_merges")
    end = reference.index("REINDEX INDEX CONCURRENTLY")
    sql = reference[:start] + "BEGIN;\n" + merge + "COMMIT;\n" + reference[end:]
    lab_seed = grade(CLEANUP, {"cleanup.sql": sql}, seed=1)
    assert lab_seed.points == lab_seed.max_points
    other = by_id(grade(CLEANUP, {"cleanup.sql": sql}, seed=2))
    merged = other["accounts-merged"]
    assert merged.points == 0
    originals = {str(orig) for orig, _ in lab_pairs}
    assert re.search(r"references (\d+)", merged.message).group(1) in originals


# ------------------------------------------------------------------------------ the new checks, case by case


def test_new_checks_partial_credit_and_other_failures(make_clone, pg_server):
    """query_fails, rows_quarantined, duplicates_merged and index_rebuilt on cases the graded
    submissions above do not reach: a wrong SQLSTATE or object, half a quarantine, one group
    merged and one whose copy was deleted with its orders left behind."""
    from pgdrill.checks import integrity, results
    from pgdrill.checks.base import CheckContext
    from pgdrill.runner import run_sql_text

    graded, untouched = make_clone(), make_clone()
    dup = next(f for f in graded.manifest["faults"] if f["id"] == "duplicate_emails")
    (first_copy, second_copy) = sorted(dup["row_ids"])
    run = run_sql_text(pg_server, graded.dbname, """
-- name: wrong_index
SELECT bt_index_check('customers_pkey', true), 1/0;
-- name: other_index
SELECT bt_index_check('idx_customers_email', true);
""")
    with graded.connect("pgdrill_grader", purpose="test-grader") as grader, \
            untouched.connect("pgdrill_grader", purpose="test-baseline") as base, \
            graded.connect("learner", purpose="test-learner") as learner:
        ctx = CheckContext(exercise_id="t", exercise_dir=Path("."), submission_dir=Path("."),
                           manifest=graded.manifest, grader=lambda: grader, learner=lambda: learner,
                           baseline=lambda: base, captured=run.captured, statements=tuple(run.statements))
        wrong = results.query_fails(ctx, query="wrong_index", sqlstate=["XX001", "XX002"])
        assert not wrong.passed and "22012" in wrong.message and "another reason" in wrong.message
        other = results.query_fails(ctx, query="other_index", sqlstate=["XX001", "XX002"],
                                    message_contains="customers_email_key")
        assert not other.passed and "succeeded" in other.message  # the plain index is sound
        missing = results.query_fails(ctx, query="email_index_check", sqlstate="XX001")
        assert not missing.passed and "did not run a query named" in missing.message

        # a third of the orphans quarantined, all of them deleted
        learner.execute("CREATE SCHEMA quarantine")
        learner.execute("""
            CREATE TABLE quarantine.lines AS
            SELECT oi.* FROM order_items oi
            WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id)
            ORDER BY oi.id LIMIT 5""")
        learner.execute("DELETE FROM order_items oi WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id)")
        kept = integrity.rows_quarantined(ctx, table="order_items", faults=["orphan_order_items"])
        assert not kept.passed and kept.score == pytest.approx(5 / 15)
        assert "10 rows were deleted without a copy" in kept.message and "quarantine.lines" in kept.message

        # one group merged properly, the other's copy deleted with its orders left pointing at it
        learner.execute("""
            UPDATE orders o SET customer_id = (SELECT min(c.id) FROM customers c WHERE c.email =
                (SELECT email FROM customers WHERE id = %(copy)s))
            WHERE o.customer_id = %(copy)s""", {"copy": first_copy})
        learner.execute("DELETE FROM customers WHERE id IN (%s, %s)", (first_copy, second_copy))
        merged = integrity.duplicates_merged(ctx, table="customers", columns="email",
                                             referenced_by=["orders.customer_id"], keep="created_at")
        assert not merged.passed and merged.score == pytest.approx(0.5)
        assert f"references {second_copy}" in merged.message

        assert not integrity.index_rebuilt(ctx, index="customers_email_key").passed
        learner.execute("REINDEX INDEX customers_email_key")
        assert integrity.index_rebuilt(ctx, index="customers_email_key").passed
        assert integrity.amcheck_passes(ctx, index="customers_email_key").passed
