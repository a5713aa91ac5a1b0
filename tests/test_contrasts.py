"""Contrasts: answers proven on more than one database (exercise.yaml ``contrasts:``).

A named query that is right on the graded database only by accident — a constant typed in, a
list that fits one catalog, a verification that cannot see the problem — must fail on the
exercise's contrast database, with a message naming the accident and without showing the
contrast's expected rows to the learner; correct queries written differently must pass on
both. Specs that declare contrasts are validated with file:line errors.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from psycopg import sql
from kit import ACCIDENT, by_id, learner_view, text_of
from test_capstone_phase1_2 import literal_submission

from pgdrill.grading import EXERCISES_DIR, SOLUTIONS_DIR
from pgdrill.report import Status


def assert_accident(check) -> None:
    assert check.status is Status.FAILED and check.points == 0, (check.check_id, check.message)
    assert ACCIDENT in check.message, (check.check_id, check.message)
    assert "typed in as a constant" in check.message


def assert_all_passed(checks: dict) -> None:
    assert all(c.status is Status.PASSED for c in checks.values()), \
        [(c.check_id, c.message) for c in checks.values() if c.status is not Status.PASSED]


def learner_text(check) -> str:
    """What the learner audience reads of ``check``: no instructor-only evidence."""
    return text_of(learner_view(check))


# ------------------------------------------------------------------------------------------
# Constants fail, by construction


# exercise -> the checks a copy of the graded database's own answers must now fail
TYPED_IN = {
    "techshop-1-1-assess": ["database-size", "table-sizes", "row-counts"],
    "techshop-1-3-recent-changes": ["missing-foreign-keys", "undocumented-indexes"],
    "techshop-2-2-index-usage": ["fk-without-index", "unused-indexes", "duplicate-indexes", "invalid-indexes"],
}


@pytest.mark.parametrize("exercise", list(TYPED_IN))
def test_the_graded_databases_own_answers_as_constants_fail_on_the_contrast(
        grade, pg_server, templates, incident_key, exercise):
    # The reference solution's results on the very database that is graded, frozen into
    # literals: right there, by construction — and wrong on the contrast.
    literal = literal_submission(pg_server, templates, incident_key.scale, exercise, seed=incident_key.seed)
    checks = by_id(grade(exercise, literal))
    for check_id in TYPED_IN[exercise]:
        assert_accident(checks[check_id])
        # What the contrast expected is for instructors only.
        assert any(e.instructor_only and "contrast" in e.title for e in checks[check_id].evidence)
        assert all(e.instructor_only for e in checks[check_id].evidence if "contrast" in e.title)


# The typed-in catalog and index lists (tests/data/submissions/techshop-1-3-recent-changes/
# typed-in/, techshop-2-2-index-usage/typed-in/) are graded against their expect.yaml by
# tests/test_exercises_as_data.py: each fails as an accident, and the contrast's own faults
# stay hidden from the learner.


def test_a_query_that_only_looks_where_the_lab_answer_was_fails(grade):
    """Not a constant, but a query that checks only the foreign key the lab was missing."""
    changes = """
        -- name: missing_foreign_keys
        SELECT 'orders' AS table_name, 'customer_id' AS column_name, 'customers' AS references_table
        WHERE NOT EXISTS (SELECT 1 FROM pg_constraint
                          WHERE conrelid = 'orders'::regclass AND contype = 'f'
                            AND confrelid = 'customers'::regclass);
        """
    assert_accident(by_id(grade("techshop-1-3-recent-changes", {"changes.sql": changes}))["missing-foreign-keys"])


# ------------------------------------------------------------------------------------------
# Correct answers written differently pass on both databases


ALTERNATIVES = {
    "techshop-1-1-assess": ("assess.sql", """
        -- name: database_size
        SELECT pg_size_pretty(pg_database_size(current_database())) AS database_size;

        -- name: table_sizes
        SELECT relname AS table_name, pg_total_relation_size(relid) AS total_bytes,
               pg_size_pretty(pg_total_relation_size(relid)) AS pretty
        FROM pg_stat_user_tables WHERE schemaname = 'public'
        ORDER BY 2 DESC, 1;

        -- name: row_counts
        SELECT * FROM (VALUES ('order_items', (SELECT count(id) FROM order_items)),
                              ('orders', (SELECT count(1) FROM orders)),
                              ('products', (SELECT count(*) FROM products)),
                              ('customers', (SELECT count(*) FROM customers)),
                              ('categories', (SELECT count(*) FROM categories))) AS t(table_name, row_count);
        """, ["database-size", "table-sizes", "row-counts"]),
    "techshop-1-3-recent-changes": ("changes.sql", """
        -- name: missing_foreign_keys
        SELECT d.table_name, d.column_name, d.references_table
        FROM (VALUES ('categories', 'parent_id', 'categories'), ('orders', 'customer_id', 'customers'),
                     ('order_items', 'order_id', 'orders'), ('order_items', 'product_id', 'products'))
             AS d(table_name, column_name, references_table)
        EXCEPT
        SELECT kcu.table_name::text, kcu.column_name::text, ccu.table_name::text
        FROM information_schema.table_constraints AS tc
        JOIN information_schema.key_column_usage AS kcu USING (constraint_schema, constraint_name)
        JOIN information_schema.constraint_column_usage AS ccu USING (constraint_schema, constraint_name)
        WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public';

        -- name: undocumented_indexes
        SELECT tablename AS table_name, indexname AS index_name FROM pg_indexes
        WHERE schemaname = 'public'
          AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u', 'x'));
        """, ["missing-foreign-keys", "undocumented-indexes"]),
    "techshop-2-2-index-usage": ("index_usage.sql", """
        -- name: fk_without_index
        SELECT c.conrelid::regclass::text AS table_name, a.attname AS column_name
        FROM pg_constraint AS c
        JOIN pg_attribute AS a ON (a.attrelid, a.attnum) = (c.conrelid, c.conkey[1])
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_index AS x
                          WHERE x.indrelid = c.conrelid AND x.indisvalid AND x.indpred IS NULL
                            AND x.indkey[0] = c.conkey[1]);

        -- name: unused_indexes
        SELECT s.relname AS table_name, s.indexrelname AS index_name
        FROM pg_stat_user_indexes AS s
        WHERE s.schemaname = 'public' AND s.idx_scan = 0
          AND NOT EXISTS (SELECT 1 FROM pg_index AS x WHERE x.indexrelid = s.indexrelid AND x.indisunique);

        -- Two indexes are duplicates when their definitions agree once their names are gone.
        -- name: duplicate_indexes
        WITH d AS (
            SELECT x.indexrelid, x.indrelid, x.indisunique, c.relname,
                   regexp_replace(pg_get_indexdef(x.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ON ', '') AS body
            FROM pg_index AS x JOIN pg_class AS c ON c.oid = x.indexrelid
            WHERE c.relnamespace = 'public'::regnamespace AND x.indisvalid)
        SELECT a.indrelid::regclass::text AS table_name, a.relname AS redundant_index, b.relname AS duplicate_of
        FROM d AS a JOIN d AS b ON b.indrelid = a.indrelid AND b.body = a.body AND b.indexrelid <> a.indexrelid
        WHERE NOT a.indisunique AND (b.indisunique OR b.relname < a.relname);

        -- name: invalid_indexes
        SELECT indrelid::regclass::text AS table_name, indexrelid::regclass::text AS index_name
        FROM pg_index WHERE NOT indisvalid;
        """, ["fk-without-index", "unused-indexes", "duplicate-indexes", "invalid-indexes"]),
}


@pytest.mark.parametrize("exercise", list(ALTERNATIVES))
def test_correct_queries_written_differently_pass_on_both_databases(grade, exercise):
    path, text, check_ids = ALTERNATIVES[exercise]
    checks = by_id(grade(exercise, {path: textwrap.dedent(text)}))
    for check_id in check_ids:
        assert checks[check_id].status is Status.PASSED, (check_id, checks[check_id].message)


# ------------------------------------------------------------------------------------------
# 4.4: a verification must show the problem while it is there


VF = "techshop-4-4-verify"


# Verifications that cannot fail (tests/data/submissions/techshop-4-4-verify/cannot-fail/, with
# the reference fixes) fail on the unfixed incident: graded by tests/test_exercises_as_data.py.


def test_verifications_written_differently_pass_before_and_after_the_fix(grade):
    fixes = (SOLUTIONS_DIR / VF / "fixes.sql").read_text()
    verify = textwrap.dedent("""
        -- name: orphan_items
        SELECT count(oi.id) FROM order_items AS oi LEFT JOIN orders AS o ON o.id = oi.order_id
        WHERE o.id IS NULL;

        -- name: negative_stock
        SELECT coalesce(sum(CASE WHEN stock_quantity < 0 THEN 1 ELSE 0 END), 0) FROM products;

        -- A window over lower(email) reads the table, whatever its indexes say.
        -- name: duplicate_emails
        SELECT count(DISTINCT e) FROM (
            SELECT lower(email) AS e, count(*) OVER (PARTITION BY lower(email)) AS n FROM customers) AS w
        WHERE n > 1;
        """)
    checks = by_id(grade(VF, {"fixes.sql": fixes, "verify.sql": verify}))
    for check_id in ("verify-orphan-items", "verify-negative-stock", "verify-duplicate-emails"):
        assert checks[check_id].status is Status.PASSED, (check_id, checks[check_id].message)


# ------------------------------------------------------------------------------------------
# The spec: contrasts validated with file:line errors


def _spec(tmp_path, body: str):
    from pgdrill import checks
    from pgdrill.spec import load_spec

    folder = tmp_path / "ex"
    folder.mkdir(exist_ok=True)
    (folder / "exercise.yaml").write_text(body)
    return load_spec(folder / "exercise.yaml", checks.load_all())


BASE = textwrap.dedent("""\
    id: ex
    title: T
    files:
      - path: a.sql
      - path: notes.md
        run: none
    checks:
      - id: q
        check: value_matches
        with: {query: q, reference: "SELECT 1"}
        description: d
    """)


def _spec_with_setup(tmp_path, contrasts: str):
    """BASE with these ``contrasts:`` (YAML), next to a setup file perturb.sql they may name."""
    (tmp_path / "ex").mkdir(exist_ok=True)
    (tmp_path / "ex" / "perturb.sql").write_text("SELECT 1;\n")
    return _spec(tmp_path, BASE + textwrap.dedent(contrasts))


def test_a_spec_declares_contrasts(tmp_path):
    spec = _spec_with_setup(tmp_path, """\
        contrasts:
          - id: elsewhere
            variant: elsewhere
            feedback: the same shop with other faults
          - id: perturbed
            setup: perturb.sql
            files: [a.sql]
        """)
    assert [c.id for c in spec.contrasts] == ["elsewhere", "perturbed"]
    assert spec.contrasts[0].variant == "elsewhere" and spec.contrasts[0].seed is None
    assert spec.contrasts[1].setup == tmp_path / "ex" / "perturb.sql" and spec.contrasts[1].files == ("a.sql",)
    assert spec.checks[0].contrast is True and not spec.contrasts[0].replay


@pytest.mark.parametrize("extra, line, key, words", [
    ("contrasts:\n  - id: c\n", 13, "contrasts[0]", "must differ"),
    ("contrasts:\n  - id: c\n    variant: other\n", 14, "contrasts[0].variant", "not allowed"),
    ("contrasts:\n  - id: c\n    files: [notes.md]\n", 14, "contrasts[0].files[0]", "not one of the learner's SQL"),
    ("contrasts:\n  - id: c\n    setup: missing.sql\n", 14, "contrasts[0].setup", "does not exist"),
    ("contrasts:\n  - id: c\n    seed: 3\n  - id: c\n    seed: 4\n", 15, "contrasts[1].id", "duplicate contrast id"),
    ("contrasts:\n  - id: c\n    files: [a.sql]\n    planted: [{fault: f, table: t, query: SELECT 1}]\n", 15,
     "contrasts[0].planted", "end state"),
    ("contrasts:\n  - id: c\n    seed: 3\n    planted: [{fault: f, table: t}]\n", 15, "contrasts[0].planted[0]",
     "query"),
])
def test_contrast_mistakes_are_reported_with_file_and_line(tmp_path, extra, line, key, words):
    from pgdrill.spec import SpecError

    with pytest.raises(SpecError) as err:
        _spec(tmp_path, BASE + extra)
    problem = err.value.problems[0]
    assert (problem.line, problem.key) == (line, key) and words in problem.message, str(err.value)
    assert str(problem).startswith(f"{tmp_path / 'ex' / 'exercise.yaml'}:{line}: {key}: ")


def test_planted_rows_join_their_fault_in_the_contrasts_manifest(tmp_path):
    from pgdrill.grading import with_planted

    spec = _spec_with_setup(tmp_path, """\
        contrasts:
          - id: ahead
            setup: perturb.sql
            planted:
              - {fault: future_orders, table: orders, query: SELECT id FROM orders}
              - {fault: fast_till, table: orders, query: SELECT 2}
        """)
    (contrast,) = spec.contrasts
    assert [(p.fault, p.table) for p in contrast.planted] == [("future_orders", "orders"), ("fast_till", "orders")]
    incident = {"reference_time": "2026-11-23 09:00:00",
                "faults": [{"id": "future_orders", "objects": ["orders"], "row_ids": [5, 6], "count": 2}]}
    merged = with_planted(incident, contrast, [["7", "8"], ["9"]])
    # The incident's manifest is not changed: the graded database's checks read it.
    assert incident["faults"] == [{"id": "future_orders", "objects": ["orders"], "row_ids": [5, 6], "count": 2}]
    from pgdrill.checks.integrity import fault_row_keys, fault_rows

    assert fault_row_keys(merged, "orders") == {"5", "6", "7", "8", "9"}
    future = set().union(*(fault_rows(f).get("orders", set()) for f in merged["faults"] if f["id"] == "future_orders"))
    assert future == {"5", "6", "7", "8"} and merged["reference_time"] == "2026-11-23 09:00:00"
    # A contrast that plants nothing reads the incident's manifest as it is.
    assert with_planted(incident, spec.contrasts[0].__class__(id="other", seed=3), []) == incident


def test_a_check_kept_off_the_contrasts_is_not_scored(tmp_path):
    from pgdrill.spec import SpecError

    scored = BASE.replace("    description: d\n", "    description: d\n    contrast: false\n")
    with pytest.raises(SpecError, match=r"exercise.yaml:12: checks\[0\].contrast: .*points: 0"):
        _spec(tmp_path, scored + "contrasts:\n  - id: c\n    seed: 5\n")
    spec = _spec(tmp_path, scored.replace("contrast: false", "contrast: false\n    points: 0")
                 + "contrasts:\n  - id: c\n    seed: 5\n")
    assert spec.checks[0].contrast is False and spec.checks[0].points == 0
    # contrast: on a check the contrasts never run says nothing: an error, not a silent no-op.
    probe = BASE.replace("check: value_matches\n    with: {query: q, reference: \"SELECT 1\"}",
                         "check: index_absent\n    with: {name: t}\n    contrast: false")
    assert probe != BASE
    with pytest.raises(SpecError, match=r"checks\[0\].contrast: check 'index_absent' is not graded on contrasts"):
        _spec(tmp_path, probe)


# ------------------------------------------------------------------------------------------
# A course exercise with a perturbation setup: boundary rows on the sample database


C4 = "course-04-aggregation"


def _edited(exercise: str, path: str, replacements: dict[str, str]) -> dict[str, str]:
    """The reference solution's ``path`` with ``replacements`` made in it, as a submission."""
    text = (SOLUTIONS_DIR / exercise / path).read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return {path: text}


def _course_04(replacements: dict[str, str]) -> dict[str, str]:
    return _edited(C4, "solution.sql", replacements)


def test_limit_for_having_and_typed_in_numbers_fail_on_the_boundaries(grade, make_clone):
    # The average order value of plain Northwind, computed there and typed in.
    with make_clone(fixture="sample:northwind").connect() as conn:
        typed = conn.execute("SELECT round(avg(t), 2) FROM (SELECT sum(unit_price::numeric * quantity * "
                             "(1 - discount::numeric)) AS t FROM order_details GROUP BY order_id) AS o").fetchone()[0]
    text = (SOLUTIONS_DIR / C4 / "solution.sql").read_text()
    average = text[text.index("-- name: average_order_value"):]
    checks = by_id(grade(C4, _course_04({
        # the three loyal customers of plain Northwind, by LIMIT instead of HAVING
        "HAVING count(*) >= 20\nORDER BY orders DESC;": "ORDER BY orders DESC\nLIMIT 3;",
        average: f"-- name: average_order_value\nSELECT {typed} AS average_order_value;\n",
    })))
    assert_accident(checks["loyal-customers"])
    assert_accident(checks["average-order-value"])
    assert "boundaries" in checks["loyal-customers"].message
    for hidden in ("Boundary Traders", "Nearly Loyal", "20000"):
        assert hidden not in learner_text(checks["loyal-customers"])
    assert checks["revenue-by-category"].status is Status.PASSED


def test_equivalent_boundaries_pass_on_both_databases(grade):
    checks = by_id(grade(C4, _course_04({
        "HAVING count(*) >= 20": "HAVING count(o.order_id) > 19",
        "WHERE order_date >= DATE '1997-01-01' AND order_date < DATE '1998-01-01'":
            "WHERE order_date BETWEEN '1997-01-01' AND '1997-12-31'",
    })))
    assert_all_passed(checks)


C3 = "course-03-joins"


def test_lists_typed_in_from_pagila_fail_on_the_extra_rows(grade, make_clone):
    # The graded copy's own answers, typed in as VALUES lists.
    with make_clone(fixture="sample:pagila").connect() as conn:
        not_stocked = conn.execute("SELECT f.title FROM film AS f WHERE NOT EXISTS "
                                   "(SELECT 1 FROM inventory AS i WHERE i.film_id = f.film_id)").fetchall()
        canadians = conn.execute(
            "SELECT c.first_name, c.last_name, ci.city FROM customer AS c JOIN address AS a USING (address_id) "
            "JOIN city AS ci USING (city_id) JOIN country AS co USING (country_id) "
            "WHERE co.country = 'Canada'").fetchall()
    text = (SOLUTIONS_DIR / C3 / "solution.sql").read_text()
    titles = ", ".join(f"('{t}')" for (t,) in not_stocked)
    people = ", ".join(f"('{first}', '{last}', '{c}')" for first, last, c in canadians)
    typed = {
        "films_not_in_stock": f"SELECT title FROM (VALUES {titles}) AS t(title) ORDER BY title;",
        "canadian_customers": f"SELECT * FROM (VALUES {people}) AS t(first_name, last_name, city);",
    }
    for name, query in typed.items():
        start = text.index(f"-- name: {name}\n") + len(f"-- name: {name}\n")
        text = text[:start] + query + "\n" + text[text.index(";", start) + 1:]
    checks = by_id(grade(C3, {"solution.sql": text}))
    for check_id in ("films-not-in-stock", "canadian-customers"):
        assert_accident(checks[check_id])
        assert "ZEBRA" not in learner_text(checks[check_id]) and "Moncton" not in learner_text(checks[check_id])
    for check_id in ("film-cast", "open-rentals"):
        assert checks[check_id].status is Status.PASSED, (check_id, checks[check_id].message)


def test_a_new_exercise_is_scaffolded_with_a_contrast_that_catches_a_constant(tmp_path, grader, make_clone):
    from pgdrill import checks
    from pgdrill.scaffold import new_exercise
    from pgdrill.spec import load_spec

    new_exercise("count-tables", tmp_path)
    spec = load_spec(tmp_path / "exercises" / "count-tables" / "exercise.yaml", checks.load_all())
    assert [c.id for c in spec.contrasts] == ["one-more-table"]
    with make_clone().connect() as conn:
        tables = conn.execute("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'").fetchone()[0]
    typed = tmp_path / "typed"
    typed.mkdir()
    (typed / "solution.sql").write_text(f"-- name: answer\nSELECT {tables} AS tables;\n")
    assert_accident(by_id(grader.grade_exercise(spec, typed))["answer-query"])
    reference = grader.grade_exercise(spec, tmp_path / "solutions" / "count-tables")
    assert reference.points == reference.max_points


def test_a_contrast_on_another_seed_with_replayed_traffic(tmp_path, grader, make_clone, incident_key):
    """``seed:`` and ``replay: true``: the other seed's template is built (and listed for the
    cache by ``fixture_keys``), its clones get the application's traffic, and data typed in
    from the graded seed fail there while the query passes."""
    from pgdrill import checks
    from pgdrill.grading import fixture_keys
    from pgdrill.spec import load_spec

    other_seed = incident_key.seed + 6
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "exercise.yaml").write_text(textwrap.dedent(f"""\
        id: emails
        title: First customers
        incident: {{fixture: techshop, seed: grading}}
        files: [{{path: a.sql}}]
        contrasts:
          - id: other-data
            seed: {other_seed}
            replay: true
        checks:
          - id: first-customers
            check: rows_match
            with:
              query: first_customers
              reference: "SELECT email FROM customers WHERE id <= 3"
            description: the first three customers' e-mail addresses
          - id: searches
            check: value_matches
            with:
              query: searches
              reference: "SELECT seq_scan > 0 FROM pg_stat_user_tables WHERE relname = 'products'"
            description: products was read whole (by the application's replayed traffic)
        """))
    spec = load_spec(folder / "exercise.yaml", checks.load_all())
    keys = fixture_keys(spec, grader.options)
    assert [k.seed for k in keys] == [incident_key.seed, other_seed] and not any(k.variant for k in keys)
    with make_clone().connect() as conn:
        emails = [e for (e,) in conn.execute("SELECT email FROM customers WHERE id <= 3")]
    right = {"a.sql": "-- name: first_customers\nSELECT email FROM customers WHERE id < 4;\n"
                      "-- name: searches\nSELECT true;\n"}
    typed = {"a.sql": "-- name: first_customers\nSELECT * FROM (VALUES " + ", ".join(f"('{e}')" for e in emails)
                      + ") AS t(email);\n" + right["a.sql"].split(";\n", 1)[1]}
    for name, files in (("right", right), ("typed", typed)):
        (tmp_path / name).mkdir()
        for rel, text in files.items():
            (tmp_path / name / rel).write_text(text)
    good = by_id(grader.grade_exercise(spec, tmp_path / "right"))
    assert all(c.status is Status.PASSED for c in good.values()), [c.message for c in good.values()]
    bad = by_id(grader.grade_exercise(spec, tmp_path / "typed"))
    assert_accident(bad["first-customers"])
    # true on the contrast too: its clones had the application's traffic replayed
    assert bad["searches"].status is Status.PASSED


def test_a_query_that_fails_only_on_the_contrast_says_why(grade):
    """4.4's verification that leans on an object its own fixes created: on the unfixed
    incident it fails, and the learner reads their own error there."""
    fixes = (SOLUTIONS_DIR / VF / "fixes.sql").read_text() + (
        "\nCREATE VIEW orphan_lines AS SELECT oi.* FROM order_items AS oi\n"
        "WHERE NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.id = oi.order_id);\n")
    verify = "-- name: orphan_items\nSELECT count(*) FROM orphan_lines;\n"
    check = by_id(grade(VF, {"fixes.sql": fixes, "verify.sql": verify}))["verify-orphan-items"]
    assert_accident(check)
    assert "There it failed" in check.message and "orphan_lines" in check.message


# ------------------------------------------------------------------------------------------
# 3.3: faults next to the boundaries. The incident's anomalies are far from them (orders decades
# ahead, orders months before their customer); the contrast near-now moves a few orders to
# minutes on each side of now and of a customer's sign-up.


AN = "techshop-3-3-anomalies"


def _anomalies(replacements: dict[str, str]) -> dict[str, str]:
    return _edited(AN, "anomalies.sql", replacements)


@pytest.mark.parametrize("future, before", [
    # a margin "to be safe", and a comparison of days where the rule compares instants
    ("WHERE order_date > now() + interval '1 day'", "WHERE o.order_date::date < c.created_at::date"),
    # a cutoff typed in from the lab, and "not after" where the rule says "before"
    ("WHERE order_date > TIMESTAMP '2030-01-01'", "WHERE o.order_date <= c.created_at"),
])
def test_cutoffs_margins_and_coarse_comparisons_fail_next_to_the_boundary(grade, future, before):
    checks = by_id(grade(AN, _anomalies({"WHERE order_date > now()": future,
                                         "WHERE o.order_date < c.created_at": before})))
    for check_id in ("orders-in-future", "orders-before-customer"):
        assert_accident(checks[check_id])
        assert "minutes from now" in checks[check_id].message
        # which orders moved, and when to, is for instructors only
        assert all(e.instructor_only for e in checks[check_id].evidence if "contrast" in e.title)
    for check_id in ("nonpositive-totals", "products-null-critical", "orders-before-customer-columns"):
        assert checks[check_id].status is Status.PASSED, (check_id, checks[check_id].message)


def test_the_rule_written_differently_passes_next_to_the_boundary(grade):
    checks = by_id(grade(AN, _anomalies({
        "WHERE order_date > now()": "WHERE order_date::timestamptz > current_timestamp",
        "JOIN customers c ON c.id = o.customer_id\nWHERE o.order_date < c.created_at":
            "JOIN customers c ON c.id = o.customer_id AND c.created_at - o.order_date > interval '0'",
    })))
    assert_all_passed(checks)


# The hour of grading. order_date is a timestamp without time zone, read in the session's
# TimeZone: in the server's own zone, "20 minutes from now" is tomorrow from 23:40 on and
# "20 minutes ago" yesterday until 00:20, and a comparison of days is then right on the
# contrast too. The contrast runs in the zone where it is about noon whatever the server's
# clock says; here the server's zone is moved so that its clock says 23:50, 00:05 or noon
# (no waiting for midnight), and the contrast without that zone shows the accident it closes.

FUTURE = "WHERE order_date > now()"
BY_DAY = {  # comparisons of days, each right on the contrast near one midnight if the zone were the server's
    "date-cast": "WHERE order_date::date > current_date",      # 23:40 to midnight
    "date-compare": "WHERE order_date > current_date",         # midnight to 00:20
}


def _zone_where_it_is(conn, clock: str) -> str:
    """A POSIX time zone in which it is ``clock`` (HH:MM) now, a whole number of minutes from UTC."""
    utc = conn.execute("SELECT pg_catalog.now() AT TIME ZONE 'UTC'").fetchone()[0]
    hours, minutes = map(int, clock.split(":"))
    east = (hours * 60 + minutes - (utc.hour * 60 + utc.minute)) % 1440
    east = east - 1440 if east > 720 else east
    hh, mm = divmod(abs(east), 60)
    # POSIX offsets count west: <+0530>-05:30 is five and a half hours east of Greenwich
    return f"<{'+' if east >= 0 else '-'}{hh:02d}{mm:02d}>{'-' if east >= 0 else '+'}{hh:02d}:{mm:02d}"


@contextlib.contextmanager
def _server_clock(pg_server, clock: str):
    """The server's own TimeZone (ALTER SYSTEM) set so that its sessions' clock says ``clock``."""
    def settle(expected: str | None) -> tuple[str, str]:
        for _ in range(200):  # a reload reaches new sessions once the postmaster has read it
            with pg_server.connect(purpose="clock") as conn:
                zone, local = conn.execute("SELECT pg_catalog.current_setting('TimeZone'), "
                                           "LOCALTIME::pg_catalog.text").fetchone()
            if expected is None or zone == expected:
                return zone, local
            time.sleep(0.05)
        raise AssertionError(f"the server's TimeZone did not become {expected}")

    with pg_server.connect(purpose="clock") as conn:
        zone = _zone_where_it_is(conn, clock)
        conn.execute(sql.SQL("ALTER SYSTEM SET timezone = {}").format(sql.Literal(zone)))
        conn.execute("SELECT pg_catalog.pg_reload_conf()")
    try:
        _, local = settle(zone)
        assert local.startswith(clock[:4]), (clock, local)  # to the ten minutes: the premise holds
        yield
    finally:
        with pg_server.connect(purpose="clock") as conn:
            conn.execute("ALTER SYSTEM RESET timezone")
            conn.execute("SELECT pg_catalog.pg_reload_conf()")
        settle(None)


@pytest.fixture
def grade_at(grader, pg_server, templates, tmp_path):
    """``grade_at(clock, files, setup=None)``: 3.3 graded while the server's clock says
    ``clock``, with the near-now contrast's setup replaced by ``setup`` when given."""
    from kit import load

    from pgdrill.grading import fixture_keys

    if pg_server.kind == "dsn":
        pytest.skip("moves the server's own TimeZone: only on a server of the test session's own")
    spec = load(AN)
    for key in fixture_keys(spec, grader.options):  # built first: a build restarts the server
        templates.template(key)

    def run(clock: str, files: dict[str, str], setup: str | None = None):
        graded_spec = spec
        if setup is not None:
            (tmp_path / "setup.sql").write_text(setup)
            graded_spec = dataclasses.replace(spec, contrasts=tuple(
                dataclasses.replace(c, setup=tmp_path / "setup.sql") for c in spec.contrasts))
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        for rel, text in files.items():
            (folder / rel).write_text(text)
        with _server_clock(pg_server, clock):
            return by_id(grader.grade_exercise(graded_spec, folder))

    return run


@pytest.mark.parametrize("clock", ["23:50", "00:05", "12:00"])
def test_comparisons_of_days_fail_next_to_now_at_any_hour_of_grading(grade_at, clock):
    assert_all_passed(grade_at(clock, _anomalies({})))
    for wrong in BY_DAY.values():
        checks = grade_at(clock, _anomalies({FUTURE: wrong}))
        assert_accident(checks["orders-in-future"])
        assert "minutes from now" in checks["orders-in-future"].message
        assert checks["orders-before-customer"].status is Status.PASSED


@pytest.mark.parametrize("clock, wrong", [("23:50", "date-cast"), ("00:05", "date-compare")])
def test_in_the_servers_own_zone_a_comparison_of_days_passes_next_to_midnight(grade_at, clock, wrong):
    # The accident the contrast's zone closes, shown at the clocks above: its setup without the
    # statement that moves its databases to noon lets a comparison of days through.
    from pgdrill.sqlsplit import split_sql

    setup = (EXERCISES_DIR / AN / "contrast_near_now.sql").read_text()
    kept = [s.sql for s in split_sql(setup) if "ALTER DATABASE" not in s.sql]
    assert len(kept) == len(split_sql(setup)) - 1
    checks = grade_at(clock, _anomalies({FUTURE: BY_DAY[wrong]}), setup=";\n".join(kept) + ";\n")
    assert checks["orders-in-future"].status is Status.PASSED, checks["orders-in-future"].message


# ------------------------------------------------------------------------------------------
# 2.3: server settings read, not typed in. The analyze settings cannot differ between the
# databases of one server (they cannot be set per database), so the defaults typed in are right
# on the graded database; on the contrast two tables carry settings of their own.


ST = "techshop-2-3-statistics-bloat"


def _stale(needs_analyze: str) -> dict[str, str]:
    return {"statistics.sql": textwrap.dedent(f"""
        -- name: stale_statistics
        SELECT s.relname AS table_name, s.n_mod_since_analyze, {needs_analyze} AS needs_analyze
        FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
        WHERE s.schemaname = 'public';
        """)}


@pytest.mark.parametrize("needs_analyze", [
    # the defaults typed in from the documentation
    "s.n_mod_since_analyze > 50 + 0.1 * c.reltuples",
    # the server's settings, read — but not the table's own
    "s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::int"
    " + current_setting('autovacuum_analyze_scale_factor')::float8 * c.reltuples",
])
def test_analyze_settings_typed_in_or_read_for_the_server_only_fail_on_the_contrast(grade, needs_analyze):
    check = by_id(grade(ST, _stale(needs_analyze)))["stale-statistics"]
    assert_accident(check)
    assert "analyze settings of their own" in check.message


def test_analyze_settings_read_per_table_pass_on_both_databases(grade):
    # the table's own settings from pg_settings-like parsing of reloptions, the server's as numeric
    rule = """s.n_mod_since_analyze > coalesce(
                   (SELECT option_value::numeric FROM pg_options_to_table(c.reloptions)
                    WHERE option_name = 'autovacuum_analyze_threshold'),
                   (SELECT setting::numeric FROM pg_settings WHERE name = 'autovacuum_analyze_threshold'))
               + coalesce(
                   (SELECT option_value::numeric FROM pg_options_to_table(c.reloptions)
                    WHERE option_name = 'autovacuum_analyze_scale_factor'),
                   (SELECT setting::numeric FROM pg_settings WHERE name = 'autovacuum_analyze_scale_factor'))
                 * greatest(c.reltuples, 0)::numeric"""
    check = by_id(grade(ST, _stale(rule)))["stale-statistics"]
    assert check.status is Status.PASSED, check.message
