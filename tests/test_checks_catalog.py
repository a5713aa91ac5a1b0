"""Catalog checks against a real server: one empty clone per module, objects made as learner."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgdrill.checks import catalog
from pgdrill.checks.base import CheckContext
from pgdrill.checks.sql import load_sql, sql_path
from pgdrill.fixtures.templates import FixtureKey

SCHEMA = """
CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL, name text);
CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, category_id int,
                       sku text, stock int, note text);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int, status text);
CREATE TABLE order_items (id serial PRIMARY KEY, order_id int, product_id int, qty int);
CREATE TABLE plain (a int, b int, c text);
INSERT INTO order_items (order_id, product_id, qty) VALUES (1, 1, 1), (2, 1, 1);

CREATE INDEX products_category_idx ON products (category_id);
CREATE INDEX products_cat_name_idx ON products (category_id, name);
CREATE INDEX products_name_partial ON products (name) WHERE stock > 0;
CREATE INDEX customers_lower_email ON customers (lower(email));
CREATE INDEX products_note_hash ON products USING hash (note);
CREATE UNIQUE INDEX products_sku_uidx ON products (sku);
CREATE INDEX products_sku_plain ON products (sku);
CREATE INDEX orders_status_a ON orders (status);
CREATE INDEX orders_status_b ON orders (status);
CREATE INDEX orders_status_desc ON orders (status DESC);
CREATE INDEX orders_status_part ON orders (status) WHERE status <> 'done';

ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE order_items ADD CONSTRAINT order_items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;
ALTER TABLE products ADD CONSTRAINT stock_nonneg CHECK (stock >= 0);
ALTER TABLE customers ADD CONSTRAINT customers_email_uq UNIQUE (email);

CREATE VIEW health AS SELECT 1 AS metric, 'x'::text AS item, 2 AS value;
CREATE MATERIALIZED VIEW health_mat AS SELECT 1 AS metric;
CREATE TABLE health_table (metric int, item text, value int);
ALTER TABLE orders SET (autovacuum_enabled = off);
ALTER TABLE order_items SET (autovacuum_enabled = true);

-- Decoys: a learner's look-alikes of the catalogs in public must not answer for them.
CREATE TABLE public.pg_class (relname name, relkind "char", oid oid, relnamespace oid);
CREATE VIEW public.pg_index AS SELECT * FROM pg_catalog.pg_index WHERE false;
CREATE VIEW public.pg_constraint AS SELECT * FROM pg_catalog.pg_constraint WHERE false;
"""


def make_ctx(grader, learner=None, **kw) -> CheckContext:
    return CheckContext(exercise_id="t", exercise_dir=Path("."), submission_dir=Path("."),
                        manifest=kw.pop("manifest", {"faults": []}), grader=lambda: grader,
                        learner=lambda: learner, **kw)


@pytest.fixture(scope="module")
def db(templates):
    clone = templates.clone(FixtureKey("empty"))
    learner = clone.connect("learner", purpose="test-learner")
    grader = clone.connect("pgdrill_grader", purpose="test-grader")
    try:
        learner.execute(SCHEMA)
        # An INVALID index, as a failed CREATE INDEX CONCURRENTLY leaves it.
        with pytest.raises(Exception):
            learner.execute("CREATE UNIQUE INDEX CONCURRENTLY order_items_product_uidx ON order_items (product_id)")
        yield make_ctx(grader, learner)
    finally:
        learner.close()
        grader.close()
        clone.drop()


# ------------------------------------------------------------------ loader

def test_sql_loader_picks_version_variant():
    assert sql_path("catalog_not_null", 150004).name == "catalog_not_null.sql"
    assert sql_path("catalog_not_null", 170000).name == "catalog_not_null.sql"
    assert sql_path("catalog_not_null", 180001).name == "catalog_not_null.pg18.sql"
    assert sql_path("catalog_not_null", 190000).name == "catalog_not_null.pg18.sql"
    assert load_sql("catalog_indexes") is load_sql("catalog_indexes")  # cached
    with pytest.raises(FileNotFoundError):
        load_sql("no_such_query")


def test_every_sql_file_starts_with_a_comment():
    for path in (Path(__file__).resolve().parents[1] / "checks" / "sql").glob("*.sql"):
        assert path.read_text().startswith("--"), path.name


# ------------------------------------------------------------------ index_exists

@pytest.mark.parametrize("args", [
    dict(table="products", columns=["category_id"]),
    dict(table="public.products", columns="category_id", method="btree"),
    dict(table="products", columns=["category_id", "name"]),
    dict(table="products", columns=["sku"], unique=True),
    dict(table="products", columns=["note"], method="hash"),
    dict(table="customers", expression="lower(email)"),
    dict(table="customers", expression="LOWER( email::text )"),
    dict(table="products", columns=["category_id"], opclass="int4_ops"),
    dict(table="products", columns=["category_id"], schema="public", unique=False),
])
def test_index_exists_passes(db, args):
    out = catalog.index_exists(db, **args)
    assert out.passed, out.message


def test_index_on_a_b_does_not_count_for_b_first_or_a_prefix(db):
    out = catalog.index_exists(db, table="products", columns=["name"])
    assert not out.passed
    # the only btree on name is partial; (category_id, name) does not lead with name
    assert "partial" in out.message


def test_prefix_is_not_enough_unless_allowed(db):
    db.grader().execute("SELECT 1")
    out = catalog.index_exists(db, table="plain", columns=["a"])
    assert not out.passed and "no indexes" in out.message
    db.learner().execute("CREATE INDEX plain_ab ON plain (a, b)")
    try:
        out = catalog.index_exists(db, table="plain", columns=["a"])
        assert not out.passed
        assert "leading part" in out.message and "plain_ab" in out.message
        assert catalog.index_exists(db, table="plain", columns=["a"], prefix_ok=True).passed
        assert not catalog.index_exists(db, table="plain", columns=["b"], prefix_ok=True).passed
        assert not catalog.index_exists(db, table="plain", columns=["b", "a"]).passed
    finally:
        db.learner().execute("DROP INDEX plain_ab")


def test_index_exists_invalid_index_is_named(db):
    out = catalog.index_exists(db, table="order_items", columns=["product_id"])
    assert not out.passed
    assert "INVALID" in out.message and "order_items_product_uidx" in out.message
    assert out.evidence and any("INVALID" in r[1] for r in out.evidence[0].rows)


def test_index_exists_wrong_method_and_opclass(db):
    out = catalog.index_exists(db, table="products", columns=["category_id"], method="gin")
    assert not out.passed and "btree index, gin was asked" in out.message
    out = catalog.index_exists(db, table="products", columns=["category_id"], opclass="int8_ops")
    assert not out.passed and "int4_ops" in out.message
    out = catalog.index_exists(db, table="products", columns=["category_id"], unique=True)
    assert not out.passed and "not unique" in out.message


def test_index_exists_expression_is_not_the_column(db):
    out = catalog.index_exists(db, table="customers", columns=["email"])
    # the UNIQUE constraint's index is on email itself
    assert out.passed
    out = catalog.index_exists(db, table="customers", expression="upper(email)")
    assert not out.passed and "lower" in out.message


def test_index_exists_trigram_gin(db):
    learner = db.learner()
    learner.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    try:
        assert not catalog.index_exists(db, table="products", columns=["name"], method="gin").passed
        learner.execute("CREATE INDEX products_name_trgm ON products USING gin (name gin_trgm_ops)")
        out = catalog.index_exists(db, table="products", columns=["name"], method="gin", opclass="gin_trgm_ops")
        assert out.passed, out.message
        out = catalog.index_exists(db, table="products", columns=["name"], method="gin", opclass=["gin_bigm_ops"])
        assert not out.passed and "gin_trgm_ops" in out.message
    finally:
        learner.execute("DROP EXTENSION pg_trgm CASCADE")


def test_index_exists_missing_table_fails_cleanly(db):
    out = catalog.index_exists(db, table="nope", columns=["a"])
    assert not out.passed and "does not exist" in out.message
    out = catalog.index_exists(db, table="health", columns=["metric"])
    assert not out.passed and "is a view" in out.message


def test_decoy_catalog_tables_do_not_fool_checks(db):
    # public.pg_class / public.pg_index exist and are empty; the checks still see the catalog,
    # even for a grader whose search_path a learner has managed to change.
    grader = db.grader()
    grader.execute("SET search_path = public, pg_catalog")
    try:
        assert catalog.index_exists(db, table="products", columns=["category_id"]).passed
        assert catalog.constraint_exists(db, table="orders", kind="foreign_key", columns=["customer_id"],
                                         references="customers").passed
        assert catalog.view_exists(db, name="health").passed
        # the decoy table itself is a table, not a view
        assert not catalog.view_exists(db, name="pg_class").passed
    finally:
        grader.execute("RESET search_path")


# ------------------------------------------------------------------ invalid / duplicate / absent

def test_no_invalid_indexes(db):
    out = catalog.no_invalid_indexes(db)
    assert not out.passed and "order_items_product_uidx" in out.message
    assert catalog.no_invalid_indexes(db, schema="pg_catalog").passed


def test_no_duplicate_indexes(db):
    out = catalog.no_duplicate_indexes(db, table="orders")
    assert not out.passed
    assert "orders_status_a" in out.message and "orders_status_b" in out.message
    # DESC and partial variants are different definitions
    assert "orders_status_desc" not in out.message and "orders_status_part" not in out.message
    out = catalog.no_duplicate_indexes(db, table="products")
    assert not out.passed and "drop products_sku_plain, keep products_sku_uidx" in out.message
    assert catalog.no_duplicate_indexes(db, table="customers").passed
    out = catalog.no_duplicate_indexes(db)
    assert "orders" in out.message and "products" in out.message
    # the invalid unique index on order_items is no duplicate of anything
    assert catalog.no_duplicate_indexes(db, table="order_items").passed


def test_no_unindexed_foreign_keys(db):
    learner = db.learner()
    learner.execute("""
        CREATE SCHEMA fkcase;
        CREATE TABLE fkcase.parent (id int PRIMARY KEY);
        CREATE TABLE fkcase.pair (a int, b int, PRIMARY KEY (a, b));
        CREATE TABLE fkcase.child (p int REFERENCES fkcase.parent, a int, b int, note text,
                                   FOREIGN KEY (a, b) REFERENCES fkcase.pair);
        -- neither a partial index nor an expression index supports a key
        CREATE INDEX child_p_partial ON fkcase.child (p) WHERE p > 0;
        CREATE INDEX child_p_expr ON fkcase.child ((p + 0));
        -- the key's columns in another order, as the leading columns, do
        CREATE INDEX child_b_a_note ON fkcase.child (b, a, note);
    """)
    try:
        out = catalog.no_unindexed_foreign_keys(db, schema="fkcase")
        assert not out.passed
        assert out.message.startswith("1 foreign key(s) in fkcase have no index now: child_p_fkey on child (p)")
        assert "child_a_b_fkey" not in out.message
        # an index led by the key, with more columns after it, supports it
        learner.execute("CREATE INDEX child_p_note ON fkcase.child (p, note)")
        assert catalog.no_unindexed_foreign_keys(db, schema="fkcase").passed
        # dropping both of two identical indexes takes the support away again
        learner.execute("DROP INDEX fkcase.child_b_a_note")
        out = catalog.no_unindexed_foreign_keys(db, schema="fkcase")
        assert not out.passed and "child_a_b_fkey on child (a, b)" in out.message
    finally:
        learner.execute("DROP SCHEMA fkcase CASCADE")


def test_view_rows_match_after_a_change_under_the_view(db):
    learner = db.learner()
    learner.execute("""
        CREATE SCHEMA viewcase;
        CREATE TABLE viewcase.sales (product text, qty int);
        INSERT INTO viewcase.sales VALUES ('tea', 2), ('tea', 3), ('rice', 1);
        CREATE VIEW viewcase.live AS SELECT product, sum(qty) AS units FROM viewcase.sales GROUP BY product;
        CREATE TABLE viewcase.snap AS SELECT product, sum(qty) AS units FROM viewcase.sales GROUP BY product;
        CREATE VIEW viewcase.frozen AS SELECT * FROM viewcase.snap;
    """)
    reference = "SELECT product, sum(qty) AS units FROM viewcase.sales GROUP BY product"
    change = "INSERT INTO viewcase.sales VALUES ('tea', 10), ('salt', 4)"
    try:
        # as the data are, both views are right
        for name in ("viewcase.live", "viewcase.frozen"):
            assert catalog.view_rows_match(db, name=name, reference=reference).passed, name
        # after the change only the real view is
        out = catalog.view_rows_match(db, name="viewcase.live", reference=reference, change=change)
        assert out.passed, out.message
        out = catalog.view_rows_match(db, name="viewcase.frozen", reference=reference, change=change)
        assert not out.passed
        assert "2 expected row(s) are missing and 1 row(s) should not be there" in out.message
        # a view's rows have no order: the missing ones are shown sorted, whatever order the
        # reference query (a hash aggregate) returned them in
        missing = next(e for e in out.evidence if e.title.startswith("Missing from"))
        assert missing.rows == (("salt", "4"), ("tea", "15"))
        assert "changed the data under the view first" in out.message
        # the change was rolled back
        assert learner.execute("SELECT count(*) FROM viewcase.sales").fetchone()[0] == 3
        # a change that fails is the spec's bug, not the learner's
        with pytest.raises(RuntimeError, match="the spec's change failed"):
            catalog.view_rows_match(db, name="viewcase.live", reference=reference,
                                    change="INSERT INTO viewcase.nowhere VALUES (1)")
    finally:
        learner.execute("DROP SCHEMA viewcase CASCADE")


def test_index_absent(db):
    assert catalog.index_absent(db, name="nope_idx").passed
    out = catalog.index_absent(db, name="orders_status_b")
    assert not out.passed and "orders_status_b" in out.message
    assert catalog.index_absent(db, name="orders_status_b", table="products").passed


# ------------------------------------------------------------------ constraints

def test_constraint_exists_kinds(db):
    ok = [
        dict(table="customers", kind="primary_key", columns=["id"]),
        dict(table="customers", kind="unique", columns=["email"]),
        dict(table="products", kind="unique", columns=["sku"]),  # a unique index counts
        dict(table="products", kind="check", columns=["stock"]),
        dict(table="products", kind="check"),
        dict(table="orders", kind="foreign_key", columns=["customer_id"], references="customers"),
        dict(table="orders", kind="foreign_key", columns="customer_id", references="public.customers",
             ref_columns=["id"]),
        dict(table="customers", kind="not_null", columns=["email"]),
        dict(table="customers", kind="not_null", columns=["id", "email"]),
        dict(table="order_items", kind="foreign_key", columns=["order_id"], references="orders", validated=False),
    ]
    for args in ok:
        out = catalog.constraint_exists(db, **args)
        assert out.passed, (args, out.message)


def test_constraint_exists_failures(db):
    out = catalog.constraint_exists(db, table="order_items", kind="foreign_key", columns=["order_id"],
                                    references="orders")
    assert not out.passed and "NOT VALID" in out.message and "VALIDATE CONSTRAINT" in out.message
    out = catalog.constraint_exists(db, table="order_items", kind="foreign_key", columns=["product_id"],
                                    references="products")
    assert not out.passed and "there is none" in out.message
    out = catalog.constraint_exists(db, table="orders", kind="foreign_key", columns=["customer_id"],
                                    references="products")
    assert not out.passed and "references public.customers instead" in out.message
    out = catalog.constraint_exists(db, table="orders", kind="unique", columns=["status"])
    assert not out.passed
    out = catalog.constraint_exists(db, table="customers", kind="not_null", columns=["email", "name", "zzz"])
    assert not out.passed and out.score == pytest.approx(1 / 3)
    assert "name allows NULL" in out.message and "zzz does not exist" in out.message
    out = catalog.constraint_exists(db, table="gone", kind="check")
    assert not out.passed and "does not exist" in out.message
    with pytest.raises(ValueError):
        catalog.constraint_exists(db, table="orders", kind="sideways", columns=["id"])


DOMAINS = """
CREATE DOMAIN qty_base AS int CHECK (VALUE > 0);
CREATE DOMAIN qty AS qty_base;
CREATE DOMAIN price_d AS numeric(10, 2);
ALTER DOMAIN price_d ADD CONSTRAINT price_d_nonneg CHECK (VALUE >= 0) NOT VALID;
CREATE DOMAIN email_d AS text NOT NULL;
CREATE TABLE dom_items (q qty, price price_d, email email_d, note text, stock int);
ALTER TABLE dom_items ADD CONSTRAINT dom_stock_nv CHECK (stock >= 0) NOT VALID;
CREATE FUNCTION dom_note_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.note = '' THEN RAISE EXCEPTION 'empty note' USING ERRCODE = 'check_violation'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER dom_note_guard BEFORE INSERT OR UPDATE ON dom_items FOR EACH ROW EXECUTE FUNCTION dom_note_guard();
"""


@pytest.fixture
def domains(db):
    learner = db.learner()
    learner.execute(DOMAINS)
    try:
        yield db
    finally:
        learner.execute("DROP TABLE dom_items; DROP FUNCTION dom_note_guard(); DROP DOMAIN qty, qty_base, price_d, "
                        "email_d")


def test_a_domain_check_is_a_check_on_the_column(domains):
    """A CHECK a column gets from its domain (or the domain under it) enforces the rule like a table CHECK."""
    out = catalog.constraint_exists(domains, table="dom_items", kind="check", columns=["q"])
    assert out.passed, out.message
    assert "domain public.qty (built on public.qty_base)" in out.message and "VALUE > 0" in out.message
    assert catalog.constraint_exists(domains, table="dom_items", kind="check").passed
    # a NOT VALID domain CHECK has not looked at the stored values
    out = catalog.constraint_exists(domains, table="dom_items", kind="check", columns=["price"])
    assert not out.passed and "ALTER DOMAIN public.price_d VALIDATE CONSTRAINT price_d_nonneg" in out.message
    assert catalog.constraint_exists(domains, table="dom_items", kind="check", columns=["price"],
                                     validated=False).passed
    domains.learner().execute("ALTER DOMAIN public.price_d VALIDATE CONSTRAINT price_d_nonneg")
    assert catalog.constraint_exists(domains, table="dom_items", kind="check", columns=["price"]).passed
    # a domain binds one column: not a CHECK over two
    assert not catalog.constraint_exists(domains, table="dom_items", kind="check", columns=["q", "stock"]).passed


def test_an_exclusion_constraint_with_equality_is_uniqueness(db):
    learner = db.learner()
    learner.execute("CREATE TABLE ex_acc (email text, region text, span int4range,"
                    " EXCLUDE USING btree (region WITH =, email WITH =),"
                    " EXCLUDE USING gist (span WITH &&))")
    try:
        out = catalog.constraint_exists(db, table="ex_acc", kind="unique", columns=["email", "region"])
        assert out.passed and "exclusion constraint" in out.message, out.message
        assert not catalog.constraint_exists(db, table="ex_acc", kind="unique", columns=["email"]).passed
        assert not catalog.constraint_exists(db, table="ex_acc", kind="unique", columns=["span"]).passed  # overlap
    finally:
        learner.execute("DROP TABLE ex_acc")


def test_what_is_not_a_check_or_not_null(domains):
    # a trigger refusing rows with check_violation is no CHECK constraint (column_rule_enforced judges it)
    out = catalog.constraint_exists(domains, table="dom_items", kind="check", columns=["note"])
    assert not out.passed and "there is none" in out.message
    # a table CHECK that is NOT VALID still fails, with its own explanation
    out = catalog.constraint_exists(domains, table="dom_items", kind="check", columns=["stock"])
    assert not out.passed and "dom_stock_nv" in out.message and "NOT VALID" in out.message
    # a NOT NULL domain lets NULLs through (a scalar subquery that finds nothing): no column NOT NULL
    out = catalog.constraint_exists(domains, table="dom_items", kind="not_null", columns=["email"])
    assert not out.passed and "email allows NULL" in out.message


def test_not_valid_not_null_on_pg18(db):
    if db.grader().info.server_version < 180000:
        pytest.skip("NOT NULL NOT VALID needs PostgreSQL 18")
    learner = db.learner()
    learner.execute("ALTER TABLE plain ADD CONSTRAINT plain_c_nn NOT NULL c NOT VALID")
    try:
        out = catalog.constraint_exists(db, table="plain", kind="not_null", columns=["c"])
        assert not out.passed and "VALIDATE CONSTRAINT plain_c_nn" in out.message
        learner.execute("ALTER TABLE plain VALIDATE CONSTRAINT plain_c_nn")
        assert catalog.constraint_exists(db, table="plain", kind="not_null", columns=["c"]).passed
    finally:
        learner.execute("ALTER TABLE plain DROP CONSTRAINT plain_c_nn")


# ------------------------------------------------------------------ views, autovacuum, extensions

def test_view_exists(db):
    assert catalog.view_exists(db, name="health").passed
    assert catalog.view_exists(db, name="health_mat").passed
    assert catalog.view_exists(db, name="health", columns=["value", "item", "metric"]).passed
    assert not catalog.view_exists(db, name="health", columns=["value", "item", "metric"], ordered=True).passed
    assert catalog.view_exists(db, name="health", columns=["metric", "item", "value"], ordered=True).passed
    out = catalog.view_exists(db, name="health", columns=["metric", "item", "value", "when"])
    assert not out.passed and "missing when" in out.message
    out = catalog.view_exists(db, name="health_table")
    assert not out.passed and "is a table, not a view" in out.message
    assert not catalog.view_exists(db, name="nowhere").passed


def test_autovacuum_enabled(db):
    assert catalog.autovacuum_enabled(db, tables=["customers", "order_items"]).passed
    out = catalog.autovacuum_enabled(db, tables=["customers", "orders", "order_items", "missing_t"])
    assert not out.passed
    assert "never runs on public.orders (autovacuum_enabled = off on the table)" in out.message
    assert "missing_t" in out.message
    assert out.score == pytest.approx(0.5)


def test_extension_installed(db):
    assert catalog.extension_installed(db, name="amcheck").passed
    assert catalog.extension_installed(db, name="amcheck", schema="public").passed
    assert not catalog.extension_installed(db, name="amcheck", schema="pg_catalog").passed
    out = catalog.extension_installed(db, name="pg_trgm")
    assert not out.passed and "CREATE EXTENSION pg_trgm" in out.message
    out = catalog.extension_installed(db, name="no_such_ext")
    assert not out.passed and "does not offer" in out.message
