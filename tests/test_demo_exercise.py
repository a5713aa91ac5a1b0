"""The example exercise proves every check family end to end against real PostgreSQL."""

from __future__ import annotations

from kit import by_id

from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.report import Status

EXERCISE = "demo-first-fix"
REFERENCE = (SOLUTIONS_DIR / EXERCISE / "solution.sql").read_text()
NOTES = (SOLUTIONS_DIR / EXERCISE / "notes.md").read_text()


def test_every_family_is_exercised():
    from pgdrill import checks
    from pgdrill.spec import load_spec

    spec = load_spec(EXERCISES_DIR / EXERCISE / "exercise.yaml", checks.load_all())
    families = {checks.REGISTRY[c.check].family for c in spec.checks}
    # The shop family judges a file run while the application writes (incident.activity:
    # open_shop): Phase 4 grades it, the demo (and the attacks graded on it) run without.
    assert families == set(checks.FAMILIES) - {"shop"}
    for exercise in ("techshop-4-1-indexes", "techshop-4-2-cleanup"):
        phase4 = load_spec(EXERCISES_DIR / exercise / "exercise.yaml", checks.load_all())
        assert "shop" in {checks.REGISTRY[c.check].family for c in phase4.checks}
        assert "open_shop" in phase4.incident.activity


# The reference (two seeds) and the untouched starter (tests/data/submissions/demo-first-fix/
# starter/: the guards found nothing damaged, and say that they pay once a fix does) are
# graded by tests/test_exercises_as_data.py.


def test_truncating_scores_badly_and_says_why(grade):
    result = by_id(grade(EXERCISE, {"solution.sql": REFERENCE + "\nTRUNCATE order_items;\n", "notes.md": NOTES}))
    # The naive fix leaves no orphan, but it destroyed the history: no points for either.
    assert result["no-orphans-left"].points == 0
    assert "counts only when items-preserved, nothing-else-lost pass" in result["no-orphans-left"].message
    assert result["nothing-else-lost"].points == 0
    assert result["items-preserved"].points == 0
    assert "removed" in result["nothing-else-lost"].message


def test_btree_on_name_does_not_serve_the_wildcard_search(grade):
    sql = REFERENCE.replace("USING gin (name gin_trgm_ops)", "(name)")
    result = by_id(grade(EXERCISE, {"solution.sql": sql, "notes.md": NOTES}))
    assert result["trigram-index"].points == 0
    search = result["search-uses-index"]
    assert search.points == 0
    text = search.message + " ".join(e.body for e in search.evidence)
    assert "Seq Scan" in text and "trigram" in text.lower()


def test_hard_coded_ids_from_another_seed_fail(grade, pg_server, templates):
    """Listing the ids seen in the lab (seed 1) does not pass on the grading seed."""
    from pgdrill.fixtures.templates import FixtureKey

    with templates.clone(FixtureKey("techshop", 0.1, 1), replay=False) as lab:
        with lab.connect() as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT oi.id FROM order_items oi WHERE NOT EXISTS "
                "(SELECT 1 FROM orders o WHERE o.id = oi.order_id) ORDER BY 1")]
    assert len(ids) == 15
    literal = ("-- name: orphan_items\nSELECT id, order_id, product_id, quantity, price FROM order_items "
               f"WHERE id IN ({', '.join(map(str, ids))});\n")
    same_seed = by_id(grade(EXERCISE, {"solution.sql": literal, "notes.md": NOTES}, seed=1))
    other_seed = by_id(grade(EXERCISE, {"solution.sql": literal, "notes.md": NOTES}, seed=2))
    assert same_seed["orphan-items-found"].status is Status.PASSED
    assert other_seed["orphan-items-found"].status is not Status.PASSED


def test_wrong_rows_are_shown(grade):
    wrong = REFERENCE.replace("WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id)\nORDER BY oi.id",
                              "WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id)\nORDER BY oi.id LIMIT 10")
    check = by_id(grade(EXERCISE, {"solution.sql": wrong, "notes.md": NOTES}))["orphan-items-found"]
    assert check.status is not Status.PASSED
    assert "missing" in check.message
    assert any(e.rows for e in check.evidence)


def test_a_crashing_check_costs_only_itself(grade, monkeypatch):
    from pgdrill import checks

    def boom(ctx, **kwargs):
        raise RuntimeError("kaboom")

    original = checks.REGISTRY["no_orphans"]
    monkeypatch.setitem(checks.REGISTRY, "no_orphans", type(original)(original.name, original.family, boom))
    result = by_id(grade(EXERCISE, SOLUTIONS_DIR / EXERCISE))
    assert result["no-orphans-left"].status is Status.ERROR
    assert "internal error" in result["no-orphans-left"].message
    assert result["trigram-index"].status is Status.PASSED


def test_a_not_valid_check_over_the_bad_rows_does_not_prevent_negative_stock(grade):
    """The CHECK refuses new negative stock, but NOT VALID left the rows that are negative already."""
    assert "UPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0;" in REFERENCE
    sql = (REFERENCE.replace("UPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0;", "")
           .replace("ALTER TABLE products VALIDATE CONSTRAINT products_stock_quantity_nonnegative;", ""))
    check = by_id(grade(EXERCISE, {"solution.sql": sql, "notes.md": NOTES}))["negative-stock-prevented"]
    assert check.points == 0 and "break the rule" in check.message and "NOT VALID" in check.message, check.message
