"""The prerequisite course (exercises course-01 … course-10), graded end to end on real PostgreSQL.

Nine of the ten exercises run on sample databases other people wrote (Pagila, Chinook,
Northwind), which is what shows the harness is not TechShop-shaped. For every exercise,
tests/test_exercises_as_data.py grades the reference solution (full marks), the untouched
starter (the baseline its README documents) and one realistic wrong submission
(tests/data/submissions/<id>/<variant>/, losing the points its expect.yaml says, with
feedback that names why); each has one here. The last part runs checks straight
against the untouched sample databases: on healthy data they must raise no false alarm, and
where a sample really is flawed (Pagila's duplicate indexes) they must report exactly the
flaw an independent catalog query finds.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from kit import ACCIDENT, SUBMISSIONS, by_id, load, not_passed, text_of, variants
from psycopg import sql

from pgdrill.checks import catalog, integrity
from pgdrill.checks.base import CheckContext
from pgdrill.fixtures.kinds.sample import SAMPLE_NAMES
from pgdrill.fixtures.server import ServerError, start_server
from pgdrill.fixtures.templates import FixtureKey, TemplateCache
from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.render import _without_answers
from pgdrill.report import Status

COURSE = sorted(p.name for p in EXERCISES_DIR.glob("course-*") if (p / "exercise.yaml").is_file())

# ------------------------------------------------------------------------------------------
# The course as a whole


def test_ten_exercises_in_course_order():
    specs = [load(e) for e in COURSE]
    assert [s.order for s in specs] == list(range(1, 11))
    assert [int(s.id.split("-")[1]) for s in specs] == list(range(1, 11))
    fixtures = {s.incident.fixture for s in specs}
    assert {"empty", "sample:pagila", "sample:chinook", "sample:northwind"} <= fixtures
    for spec in specs:  # a reference solution for every file the learner writes, and notes
        assert (SOLUTIONS_DIR / spec.id / "NOTES.md").is_file()
        for f in spec.files:
            assert (SOLUTIONS_DIR / spec.id / f.path).is_file(), (spec.id, f.path)
            assert (EXERCISES_DIR / spec.id / f.path).is_file(), (spec.id, f.path)  # the starter


def test_every_exercise_has_a_wrong_submission():
    # graded against its expect.yaml by tests/test_exercises_as_data.py
    assert all(set(variants(exercise)) - {"starter"} for exercise in COURSE)


# ------------------------------------------------------------------------------------------
# A fix examined as a whole: the diagnosis run again, a view after its data change


def _solution(exercise: str) -> str:
    return (SOLUTIONS_DIR / exercise / "solution.sql").read_text()


def test_dropping_both_indexes_of_a_duplicate_pair_leaves_a_foreign_key_without_one(grade):
    # Pagila's payment partitions carry two identical indexes on customer_id; the key needs one.
    both = _solution("course-05-indexes") + "".join(
        f"DROP INDEX CONCURRENTLY idx_fk_payment_p2022_0{m}_customer_id;\n" for m in (1, 2))
    result = grade("course-05-indexes", {"solution.sql": both})
    assert not_passed(result) == {"foreign-keys-still-indexed"}
    out = by_id(result)["foreign-keys-still-indexed"]
    assert "2 foreign key(s) in public have no index now" in out.message
    assert "payment_p2022_01_customer_id_fkey on payment_p2022_01 (customer_id)" in out.message
    assert "drop one and keep the other" in out.message
    # Keeping the other index of each pair (the one the reference drops) is as right.
    other = re.sub(r"DROP INDEX CONCURRENTLY payment_p2022_0(\d)_customer_id_idx",
                   r"DROP INDEX CONCURRENTLY idx_fk_payment_p2022_0\1_customer_id", _solution("course-05-indexes"))
    assert other != _solution("course-05-indexes")
    result = grade("course-05-indexes", {"solution.sql": other})
    assert result.points == result.max_points, [(c.check_id, c.message) for c in result.checks if c.points < c.max_points]




def _with_view(sql_text: str, view: str, replacement: str) -> str:
    """The reference solution with its CREATE VIEW ``view`` … ; replaced."""
    pattern = re.compile(rf"CREATE VIEW {view} AS.*?;\n", re.DOTALL)
    assert pattern.search(sql_text)
    return pattern.sub(lambda _: replacement.strip() + "\n", sql_text, count=1)


def _snapshot_solution(kind: str = "TABLE") -> str:
    """The reference solution with product_sales read from a snapshot of the same query: a
    table (or materialized view) filled once, and a view over it."""
    text = _solution("course-09-views-monitoring")
    create = re.search(r"CREATE VIEW product_sales AS.*?;\n", text, re.DOTALL).group(0)
    snapshot = (create.replace("CREATE VIEW product_sales AS", f"CREATE {kind} sales_snapshot AS")
                + "CREATE VIEW product_sales AS SELECT * FROM sales_snapshot;\n")
    return _with_view(text, "product_sales", snapshot)


def test_a_view_over_a_snapshot_is_caught_once_the_data_change(grade):
    result = grade("course-09-views-monitoring", {"solution.sql": _snapshot_solution()})
    # It is a view, and today it returns the right rows: only the data changing tells.
    assert not_passed(result) == {"product-sales-follows-data"}
    out = by_id(result)["product-sales-follows-data"]
    assert "should not be there" in out.message and "changed the data under the view" in out.message
    # A materialized view is no view either.
    result = grade("course-09-views-monitoring", {"solution.sql": _snapshot_solution("MATERIALIZED VIEW")})
    assert "product-sales-follows-data" in not_passed(result)
    # A view written differently (sums in a subquery, an outer join the other way) follows the data.
    unusual = """
CREATE VIEW product_sales AS
SELECT p.product_name, c.category_name,
       coalesce(s.units, 0) AS units_sold, coalesce(s.revenue, 0) AS revenue
FROM order_details_sums AS s
RIGHT JOIN products AS p ON p.product_id = s.product_id
JOIN categories AS c USING (category_id);
"""
    sums = ("CREATE VIEW order_details_sums AS SELECT product_id, sum(quantity) AS units, "
            "round(sum(unit_price::numeric * quantity * (1 - discount::numeric)), 2) AS revenue "
            "FROM order_details GROUP BY product_id;\n")
    result = grade("course-09-views-monitoring",
                   {"solution.sql": sums + _with_view(_solution("course-09-views-monitoring"), "product_sales", unusual)})
    assert result.points == result.max_points, [(c.check_id, c.message) for c in result.checks if c.points < c.max_points]


def test_a_monitoring_view_of_every_session_is_not_a_long_running_query_view(grade):
    plain = ("CREATE VIEW long_running_queries AS SELECT pid, usename, state, now() - query_start AS duration, query "
             "FROM pg_stat_activity;")
    result = grade("course-09-views-monitoring",
                   {"solution.sql": _with_view(_solution("course-09-views-monitoring"), "long_running_queries", plain)})
    # It can be queried, with the right columns: only what it shows is wrong.
    assert not_passed(result) == {"long-running-view-filters"}
    assert "should not be there" in by_id(result)["long-running-view-filters"].message
    # Written differently — xact-independent, with NOT IN and an interval on the left — it passes.
    unusual = ("CREATE VIEW long_running_queries AS SELECT a.pid, a.usename, a.state, "
               "clock_timestamp() - a.query_start AS duration, a.query FROM pg_stat_activity a "
               "WHERE a.datname = current_database() AND a.state NOT IN ('idle') AND a.pid <> pg_backend_pid() "
               "AND a.query_start < now() - interval '60 seconds';")
    result = grade("course-09-views-monitoring",
                   {"solution.sql": _with_view(_solution("course-09-views-monitoring"), "long_running_queries", unusual)})
    assert result.points == result.max_points, [(c.check_id, c.message) for c in result.checks if c.points < c.max_points]


# ------------------------------------------------------------------------------------------
# Answers right only by accident: each fits the real sample (typed-in lists and numbers, an id
# typed in for a name, `>=` for "longer than", a pattern for the spellings that exist, a sum
# that forgets a column that is 1 everywhere, GROUP BY a name no two rows share, LIMIT for
# HAVING, an inner join where every row happens to match). Each exercise's contrast
# (a perturbed copy of the sample) makes the accident stop holding.

# No contrast for the rest, where data cannot hide a mistake: course-01 and course-07 are judged
# by the catalog and by probes (values on both sides of each boundary, NULLs, the rows already
# there checked against the rule), which test the rule, not the sample; course-08 names its two
# tables and measures the effect itself (dead tuples, vacuum times, storage parameters). Course-10
# restores the learner's own dump and compares it with the database it was taken from; its
# contrast (a table more, a schema of its own) runs the script again, and the backup of one
# schema typed in (tests/data/submissions/course-10-backup-restore/public-schema-only/) fails
# there as an accident.
# exercise -> the checks its accidental submission must fail on the contrast (every other
# check passes, but for those listed in ALSO_CAUGHT, which catch the same mistake their own way)
ACCIDENTS = {
    "course-02-querying": {"brazil-customers", "long-jazz-tracks", "tracks-without-composer", "love-songs",
                           "top-artists"},
    "course-03-joins": {"film-cast", "films-not-in-stock", "open-rentals", "canadian-customers"},
    "course-04-aggregation": {"loyal-customers", "average-order-value"},
    "course-05-indexes": {"unindexed-fks-found"},
    # end-state checks: the lines of a real order numbered past the graded copy's last one go too
    "course-06-update-delete": {"good-lines-kept", "nothing-else-lost"},
    "course-09-views-monitoring": {"product-sales-rows"},
}
ALSO_CAUGHT = {
    # the view is also read after the grader changes the data under it: a product nobody bought
    "course-09-views-monitoring": {"product-sales-follows-data"},
    # no orphan is left there either, but real lines went with them: that fix counts nothing
    "course-06-update-delete": {"no-orphan-lines"},
}


# Where the accident is an edit of the reference solution, the submission is that edit (no copy
# of the reference to drift from it): the replacements below, or accidents/named_queries.sql,
# whose named queries take the place of the reference's; elsewhere it is a file of its own.
ACCIDENT_EDITS = {
    "course-04-aggregation": {
        # three customers have 20 orders or more in the sample: the top three, then
        "HAVING count(*) >= 20\nORDER BY orders DESC;": "ORDER BY orders DESC\nLIMIT 3;",
        # the sample's average order value, typed in
        "SELECT round(avg(order_total), 2) AS average_order_value\nFROM (SELECT order_id,\n"
        "             sum(unit_price::numeric * quantity * (1 - discount::numeric)) AS order_total\n"
        "      FROM order_details\n      GROUP BY order_id) AS per_order;":
            "SELECT 1525.05 AS average_order_value;",
    },
    # every product of the sample has been sold: an inner join happens to keep them all
    "course-09-views-monitoring": {"LEFT JOIN order_details AS od": "JOIN order_details AS od"},
    # the junk lines are the ones past the sample's last order (11077): a range typed in
    "course-06-update-delete": {
        "DELETE FROM order_details AS d\nWHERE NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.order_id = d.order_id);":
            "DELETE FROM order_details AS d\nWHERE d.order_id > 11077;"},
}


def accidental_submission(exercise: str):
    folder = SUBMISSIONS / exercise / "accidents"
    edits = dict(ACCIDENT_EDITS.get(exercise, {}))
    text = (SOLUTIONS_DIR / exercise / "solution.sql").read_text()
    if (folder / "named_queries.sql").is_file():
        # the reference with these named queries in place of its own of the same name
        for part in (folder / "named_queries.sql").read_text().split("-- name: ")[1:]:
            name = part.split("\n", 1)[0].strip()
            start = text.index(f"-- name: {name}\n")
            edits[text[start:text.index(";\n", start) + 2]] = "-- name: " + part.rstrip("\n") + "\n"
    if not edits:
        return folder
    for old, new in edits.items():
        assert old in text, (exercise, old)
        text = text.replace(old, new)
    return {"solution.sql": text}


@pytest.mark.parametrize("exercise", sorted(ACCIDENTS))
def test_answers_right_only_by_accident_fail_on_the_contrast(grade, exercise):
    result = grade(exercise, accidental_submission(exercise))
    checks = by_id(result)
    assert not_passed(result) == ACCIDENTS[exercise] | ALSO_CAUGHT.get(exercise, set()), \
        [(c.check_id, c.message) for c in result.checks if c.status is not Status.PASSED]
    for check_id in ACCIDENTS[exercise]:
        assert checks[check_id].points == 0 and ACCIDENT in checks[check_id].message, checks[check_id].message


C6 = "course-06-update-delete"


def test_prices_typed_in_from_the_sample_fail_on_the_contrast(grade, make_clone):
    # Northwind's own prices, read from an untouched copy and typed in as a VALUES list: every
    # product of the graded copy comes back right, the contrast's other prices do not.
    with make_clone(fixture="sample:northwind").connect() as conn:
        prices = conn.execute("SELECT product_id, unit_price FROM products WHERE unit_price IS NOT NULL "
                              "ORDER BY product_id").fetchall()
    typed = ("UPDATE products AS p SET unit_price = v.price FROM (VALUES "
             + ", ".join(f"({i}, {float(price)!r}::real)" for i, price in prices)
             + ") AS v(id, price) WHERE v.id = p.product_id;\n")
    text = _solution(C6)
    start = text.index("BEGIN;\nUPDATE products")
    text = text[:start] + typed + text[text.index("COMMIT;", start) + len("COMMIT;\n"):]
    result = grade(C6, {"solution.sql": text})
    checks = by_id(result)
    assert not_passed(result) == {"prices-restored"}, \
        [(c.check_id, c.message) for c in result.checks if c.status is not Status.PASSED]
    assert checks["prices-restored"].points == 0 and ACCIDENT in checks["prices-restored"].message
    # which products differ there, and their prices, is for instructors only
    assert "Fjordbl" not in text_of(_without_answers(checks["prices-restored"]))


def test_the_repair_written_differently_holds_on_both_copies(grade):
    text = textwrap.dedent("""
        UPDATE products
        SET unit_price = (SELECT l.old_price FROM price_change_log AS l WHERE l.product_id = products.product_id)
        WHERE product_id IN (SELECT product_id FROM price_change_log);

        DELETE FROM order_details
        WHERE order_id NOT IN (SELECT order_id FROM orders);
        """)
    result = grade(C6, {"solution.sql": text})
    assert result.points == result.max_points, [(c.check_id, c.message) for c in result.checks
                                                if c.points < c.max_points]


# ------------------------------------------------------------------------------------------
# Checks on the untouched samples: no false alarms


def sample_ctx(grader_conn, baseline_conn=None) -> CheckContext:
    return CheckContext(exercise_id="samples", exercise_dir=Path("."), submission_dir=Path("."),
                        manifest={"faults": []}, grader=lambda: grader_conn, learner=lambda: None,
                        baseline=(lambda: baseline_conn) if baseline_conn is not None else None)


@pytest.fixture(scope="module")
def samples(templates):
    """{sample: (graded connection, untouched connection)}, both as pgdrill_grader on their own clones."""
    clones, conns, out = [], [], {}
    try:
        for name in SAMPLE_NAMES:
            pair = []
            for _ in range(2):
                clone = templates.clone(FixtureKey(f"sample:{name}"))
                clones.append(clone)
                conn = clone.connect("pgdrill_grader", purpose="test-samples", autocommit=True)
                conns.append(conn)
                pair.append(conn)
            out[name] = tuple(pair)
        yield out
    finally:
        for conn in conns:
            conn.close()
        for clone in clones:
            clone.drop()


FOREIGN_KEYS = """
SELECT c.conrelid::pg_catalog.regclass::pg_catalog.text, a.attname::pg_catalog.text,
       c.confrelid::pg_catalog.regclass::pg_catalog.text, fa.attname::pg_catalog.text
FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
JOIN pg_catalog.pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
WHERE c.contype = 'f' AND c.connamespace = 'public'::pg_catalog.regnamespace
  AND pg_catalog.cardinality(c.conkey) = 1
ORDER BY 1, 2
"""

# Identical indexes, found independently of the check: same table, method, key, operator
# classes, collations, options, expressions and predicate.
IDENTICAL_INDEXES = """
SELECT ic.relname::pg_catalog.text
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
WHERE n.nspname = 'public' AND i.indisvalid
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_index j JOIN pg_catalog.pg_class jc ON jc.oid = j.indexrelid
              WHERE j.indexrelid <> i.indexrelid AND j.indrelid = i.indrelid AND j.indisvalid
                AND jc.relam = ic.relam AND j.indkey::text = i.indkey::text
                AND j.indclass::text = i.indclass::text AND j.indcollation::text = i.indcollation::text
                AND j.indoption::text = i.indoption::text
                AND pg_catalog.pg_get_expr(j.indexprs, j.indrelid) IS NOT DISTINCT FROM
                    pg_catalog.pg_get_expr(i.indexprs, i.indrelid)
                AND pg_catalog.pg_get_expr(j.indpred, j.indrelid) IS NOT DISTINCT FROM
                    pg_catalog.pg_get_expr(i.indpred, i.indrelid))
ORDER BY 1
"""


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_no_invalid_indexes_on_samples(samples, name):
    out = catalog.no_invalid_indexes(sample_ctx(samples[name][0]))
    assert out.passed, out.message


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_duplicate_indexes_reported_exactly_as_the_catalog_has_them(samples, name):
    conn = samples[name][0]
    identical = {r[0] for r in conn.execute(IDENTICAL_INDEXES).fetchall()}
    out = catalog.no_duplicate_indexes(sample_ctx(conn))
    if not identical:  # Chinook and Northwind: nothing to report, and nothing reported
        assert out.passed, out.message
        return
    # Pagila really ships with identical pairs: the check must name exactly those indexes.
    assert not out.passed
    reported = {row[1] for ev in out.evidence for row in ev.rows}
    assert reported == identical
    assert name == "pagila"


def test_amcheck_passes_on_every_chinook_btree_index(samples):
    conn = samples["chinook"][0]
    indexes = [r[0] for r in conn.execute(
        "SELECT c.relname::pg_catalog.text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_am am ON am.oid = c.relam "
        "WHERE c.relkind = 'i' AND am.amname = 'btree' "
        "AND c.relnamespace = 'public'::pg_catalog.regnamespace ORDER BY 1").fetchall()]
    assert len(indexes) >= 11  # a primary key per table, and an index per foreign key
    failed = [(ix, out.message) for ix in indexes
              if not (out := integrity.amcheck_passes(sample_ctx(conn), index=ix)).passed]
    assert not failed


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_every_declared_foreign_key_has_no_orphans_and_is_recognised(samples, name):
    conn = samples[name][0]
    fks = conn.execute(FOREIGN_KEYS).fetchall()
    assert fks
    ctx = sample_ctx(conn)
    for child, column, parent, parent_column in fks:
        out = integrity.no_orphans(ctx, child=child, column=column, parent=parent, parent_column=parent_column)
        assert out.passed, (child, column, out.message)
        out = catalog.constraint_exists(ctx, table=child, kind="foreign_key", columns=[column], references=parent,
                                        ref_columns=[parent_column])
        assert out.passed, (child, column, out.message)


TABLES_AND_KEYS = """
SELECT c.relname::pg_catalog.text,
       (SELECT a.attname::pg_catalog.text FROM pg_catalog.pg_constraint p
        JOIN pg_catalog.pg_attribute a ON a.attrelid = p.conrelid AND a.attnum = p.conkey[1]
        WHERE p.conrelid = c.oid AND p.contype = 'p' AND pg_catalog.cardinality(p.conkey) = 1)
FROM pg_catalog.pg_class c
WHERE c.relnamespace = 'public'::pg_catalog.regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY 1
"""


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_untouched_samples_count_as_preserved(samples, name):
    """rows_preserved and nothing_lost on every table (partitioned, tsvector, arrays, bytea,
    domains, smallint keys, varchar keys…) of an untouched clone against another one."""
    graded, untouched = samples[name]
    ctx = sample_ctx(graded, untouched)
    tables = graded.execute(TABLES_AND_KEYS).fetchall()
    assert len(tables) >= 11
    for table, key in tables:
        out = integrity.rows_preserved(ctx, table=table, key=key)
        assert out.passed, (table, out.message)
        out = integrity.nothing_lost(ctx, table=table)
        assert out.passed, (table, out.message)


# ------------------------------------------------------------------------------------------
# Loading the samples: the same data on PostgreSQL 15 and 18


DIGEST = ("SELECT count(*), pg_catalog.md5(pg_catalog.string_agg(pg_catalog.md5(t::pg_catalog.text), '' "
          "ORDER BY pg_catalog.md5(t::pg_catalog.text))) FROM {} t")


def sample_digests(templates: TemplateCache) -> dict:
    out = {}
    for name in SAMPLE_NAMES:
        with templates.clone(FixtureKey(f"sample:{name}")) as clone, clone.connect(purpose="test-digest") as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT relname FROM pg_catalog.pg_class WHERE relnamespace = 'public'::pg_catalog.regnamespace "
                "AND relkind = 'r' ORDER BY 1").fetchall()]
            out[name] = {t: conn.execute(sql.SQL(DIGEST).format(sql.Identifier("public", t))).fetchone()
                         for t in tables}
    return out


def test_samples_load_identically_on_both_servers(pg_server, templates):
    """Every sample lands in its template (Chinook's script creates and switches to a database
    of its own; the loader must keep it in the template) with the same rows on both servers."""
    here = sample_digests(templates)
    for name in SAMPLE_NAMES:
        assert templates.template(FixtureKey(f"sample:{name}")).manifest["counts"], name
        assert len(here[name]) >= 11 and sum(count for count, _ in here[name].values()) > 1000
    with pg_server.connect(purpose="test") as admin:
        assert admin.execute("SELECT count(*) FROM pg_catalog.pg_database WHERE datname IN "
                             "('chinook', 'pagila', 'northwind')").fetchone()[0] == 0
    other_kind = "system" if pg_server.kind != "system" else "embedded"
    try:
        other = start_server(other_kind)
    except (ServerError, OSError) as exc:
        pytest.skip(f"no {other_kind} server to compare with: {exc}")
    try:
        assert sample_digests(TemplateCache(other)) == here
    finally:
        other.stop()


def test_a_key_deferred_for_everyone_is_not_the_one_asked_for(grade):
    # The README asks for a key the import may defer, immediate for everyone else. INITIALLY
    # DEFERRED lets every session insert a line for a missing invoice until its COMMIT.
    exercise = "course-07-transactions-constraints"
    reference = (SOLUTIONS_DIR / exercise / "solution.sql").read_text()
    assert "DEFERRABLE INITIALLY IMMEDIATE" in reference
    deferred = reference.replace("DEFERRABLE INITIALLY IMMEDIATE", "DEFERRABLE INITIALLY DEFERRED")
    result = grade(exercise, {"solution.sql": deferred})
    # …and the deferrable, cascading key built that way is not the fix either (gated on it).
    assert not_passed(result) == {"fk-still-enforced-at-commit", "fk-deferrable", "invoice-delete-cascades"}
    assert "counts only when fk-still-enforced-at-commit passes" in by_id(result)["fk-deferrable"].message
    check = by_id(result)["fk-still-enforced-at-commit"]
    assert check.points == 0 and "INITIALLY DEFERRED for everyone" in check.message
    assert "DEFERRABLE INITIALLY IMMEDIATE" in check.feedback


# ------------------------------------------------------------------------------------------
# Rules probed with many values, defaults in several contexts (property probes)

ONE_VALUE_RULES = [
    # right at the one value a single probe would try, wrong elsewhere
    ({"CHECK (stock_quantity >= 0)": "CHECK (stock_quantity > -1 OR stock_quantity < -10)",
      "CHECK (quantity > 0)": "CHECK (quantity <> 0)"},
     {"negative-stock-refused": "-2147483648", "zero-quantity-refused": "-1"}),
    # a moment frozen when the table was created
    ({"order_date   timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP": "order_date   timestamp NOT NULL DEFAULT 'now'"},
     {"order-defaults": "order_date="}),
    ({"order_date   timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP":
      "order_date   timestamp NOT NULL DEFAULT '2026-01-01'"},
     {"order-defaults": "2026-01-01"}),
    # the same instant in every zone, and right a moment ago: probed again later, it has aged
    ({"order_date   timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP": "order_date   timestamptz NOT NULL DEFAULT 'now'"},
     {"order-defaults": "order_date="}),  # (whether caught at once or a moment later)
]


@pytest.mark.parametrize("changes, fails", ONE_VALUE_RULES, ids=["check-gaps", "default-now-literal", "default-date", "timestamptz-now-literal"])
def test_rules_right_for_one_value_only_fail(grade, changes, fails):
    exercise = "course-01-create-tables"
    text = (SOLUTIONS_DIR / exercise / "solution.sql").read_text()
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    result = grade(exercise, {"solution.sql": text})
    assert not_passed(result) == set(fails)  # the catalog still sees a CHECK on each column
    for check_id, word in fails.items():
        assert word in text_of(by_id(result)[check_id]), text_of(by_id(result)[check_id])


def test_rules_enforced_another_way_score_full_marks(grade):
    """Domains instead of column CHECKs, timestamptz and now() instead of timestamp and CURRENT_TIMESTAMP."""
    exercise = "course-01-create-tables"
    text = (SOLUTIONS_DIR / exercise / "solution.sql").read_text()
    for old, new in {
        "BEGIN;\n": "BEGIN;\nCREATE DOMAIN stock_count AS integer CHECK (VALUE >= 0);\n"
                    "CREATE DOMAIN line_quantity AS integer CONSTRAINT at_least_one CHECK (VALUE >= 1);\n",
        "stock_quantity integer NOT NULL DEFAULT 0 CHECK (stock_quantity >= 0)":
            "stock_quantity stock_count NOT NULL DEFAULT 0",
        "quantity   integer NOT NULL CHECK (quantity > 0)": "quantity   line_quantity NOT NULL",
        "order_date   timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP": "order_date   timestamptz NOT NULL DEFAULT now()",
    }.items():
        assert old in text
        text = text.replace(old, new)
    result = grade(exercise, {"solution.sql": text})
    assert not_passed(result) == set(), {c.check_id: c.message for c in result.checks if c.status is not Status.PASSED}


def test_course7_domain_and_spot_checks(grade):
    exercise = "course-07-transactions-constraints"
    reference = (SOLUTIONS_DIR / exercise / "solution.sql").read_text()
    # a domain's CHECK is the CHECK on the column (and it refuses with 23514 like one)
    domain = reference.replace(
        "ALTER TABLE invoice_line ADD CONSTRAINT invoice_line_quantity_positive CHECK (quantity > 0) NOT VALID;\n"
        "ALTER TABLE invoice_line VALIDATE CONSTRAINT invoice_line_quantity_positive;\n",
        "CREATE DOMAIN sold_quantity AS integer CHECK (VALUE > 0);\n"
        "ALTER TABLE invoice_line ALTER COLUMN quantity TYPE sold_quantity;\n")
    assert domain != reference
    result = grade(exercise, {"solution.sql": domain})
    assert not_passed(result) == set(), {c.check_id: c.message for c in result.checks if c.status is not Status.PASSED}
    # CHECKs that refuse the one value a single probe tries, and nothing else
    spot = reference.replace("CHECK (quantity > 0)", "CHECK (quantity <> 0)").replace(
        "track_unit_price_not_negative CHECK (unit_price >= 0)",
        "track_unit_price_not_negative CHECK (unit_price <> -0.99)")
    result = grade(exercise, {"solution.sql": spot})
    assert not_passed(result) == {"quantity-must-be-positive", "track-price-not-negative"}
