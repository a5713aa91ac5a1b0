"""The shop is open while Phase 4 is graded (issue 12, item 4), on real PostgreSQL.

4.1 and 4.2 run with the ``open_shop`` activity: the application keeps a write transaction on
each of its tables while the learner's file runs, so a statement that needs a lock stopping
those writes waits for it and is recorded, whatever the machine's speed
(``fixtures/open_shop.py``). Blocking statements lose the "shop stayed open" points with a
message naming the statement, its line and the table; the CONCURRENTLY forms pass. 4.2 also
guards the identity and shape of the application's tables (``table_kept``): renaming
order_items away as the "quarantine" and creating a copy under its name earns nothing for
order_items, while a real quarantine written in any of several ways scores full marks.
"""

from __future__ import annotations

import pytest
from kit import by_id, text_of

from pgdrill.checks.shop import blocking_harm, transaction_tails
from pgdrill.fixtures.activity import Activity
from pgdrill.fixtures.open_shop import NOT_NULL_SQL, not_null_columns
from pgdrill.grading import SOLUTIONS_DIR
from pgdrill.report import StatementOutcome, Status
from pgdrill.runner import run_sql_bytes

IX, CLEANUP = "techshop-4-1-indexes", "techshop-4-2-cleanup"
REF_IX = (SOLUTIONS_DIR / IX / "indexes.sql").read_text()
REF_CLEANUP = (SOLUTIONS_DIR / CLEANUP / "cleanup.sql").read_text()
ORDER_ITEMS_CHECKS = ("no-orphan-items", "orphan-items-quarantined", "items-not-lost", "items-preserved",
                      "items-fk-kept", "orphan-item-refused", "items-table-kept")


def replaced(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def failed(result) -> list:
    return [(c.check_id, c.message) for c in result.checks if c.status is not Status.PASSED]


# ------------------------------------------------------------------------------ the record


def test_the_shop_records_what_waited_for_it_and_lets_everything_through(pg_server, make_clone):
    """Every statement that wants a lock blocking writes is seen, however quick; CONCURRENTLY
    waits for the shop's transaction instead; plain VACUUM, ANALYZE and row changes pass by."""
    clone = make_clone(replay=False)
    activity = Activity(pg_server, clone.dbname).start(["open_shop"])
    try:
        sql = b"""
CREATE INDEX quick ON categories (name);
DROP INDEX quick;
CREATE INDEX CONCURRENTLY polite ON categories (name);
DROP INDEX CONCURRENTLY polite;
VACUUM categories;
ANALYZE categories;
UPDATE categories SET name = name WHERE id = (SELECT min(id) FROM categories);
VACUUM FULL categories;
"""
        run = run_sql_bytes(pg_server, clone.dbname, sql, display_name="x.sql", statement_timeout=30,
                            file_timeout=120)
        assert [s.status for s in run.statements] == ["ok"] * 8
        activity.settle()
        seen = [(w.query.split(" categories")[0].split(" quick")[0].split(" polite")[0], w.locktype, w.mode)
                for w in activity.shop.waits]
        assert seen == [("CREATE INDEX", "relation", "ShareLock"),
                        ("DROP INDEX", "relation", "AccessExclusiveLock"),
                        ("CREATE INDEX CONCURRENTLY", "virtualxid", "ShareLock"),
                        ("DROP INDEX CONCURRENTLY", "virtualxid", "ShareLock"),
                        ("VACUUM FULL", "relation", "AccessExclusiveLock")]
        assert {w.table for w in activity.shop.waits} == {"categories"}
        assert activity.shop.incidents == []
    finally:
        activity.stop()
    with clone.connect() as conn:  # the shop's sessions are gone once it settled
        assert conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = 'techshop_app'").fetchone()[0] == 0


@pytest.mark.parametrize("statement, mode, harm", [
    ("CREATE INDEX i ON t (x)", "ShareLock", "CREATE INDEX CONCURRENTLY"),
    ("create unique index i on t (x)", "ShareLock", "CREATE INDEX CONCURRENTLY"),
    ("/* tidy */ DROP INDEX i", "AccessExclusiveLock", "DROP INDEX CONCURRENTLY"),
    ("REINDEX TABLE t", "ShareLock", "REINDEX … CONCURRENTLY"),
    ("VACUUM (FULL, VERBOSE) t", "AccessExclusiveLock", "VACUUM FULL"),
    ("LOCK t IN SHARE MODE", "ShareLock", "LOCK TABLE"),
    ("ALTER TABLE t ADD CONSTRAINT c CHECK (x >= 0)", "AccessExclusiveLock", "NOT VALID"),
    ("ALTER TABLE t ADD FOREIGN KEY (x) REFERENCES u (id)", "ShareRowExclusiveLock", "NOT VALID"),
    ("ALTER TABLE t ADD PRIMARY KEY (id)", "AccessExclusiveLock", "USING INDEX"),
    ("ALTER TABLE t ALTER COLUMN x TYPE bigint", "AccessExclusiveLock", "rewrites every row"),
    ("ALTER TABLE t ALTER COLUMN x SET NOT NULL", "AccessExclusiveLock", "no validated CHECK"),
    # DO blocks are read statement by statement
    ("DO $$ BEGIN EXECUTE 'CREATE INDEX i ON t (x)'; END $$", "ShareLock", "CREATE INDEX CONCURRENTLY"),
    ("DO LANGUAGE plpgsql 'BEGIN EXECUTE ''LOCK t''; END'", "AccessExclusiveLock", "LOCK TABLE"),
    ("DO $$ BEGIN ALTER TABLE t ADD CONSTRAINT c CHECK (x >= 0) NOT VALID;\n"
     "ALTER TABLE t VALIDATE CONSTRAINT c; END $$", "AccessExclusiveLock", "a DO block is one transaction"),
    ("DO $$ BEGIN ALTER TABLE t RENAME CONSTRAINT a TO b; UPDATE t SET x = 0 WHERE x < 0; END $$",
     "AccessExclusiveLock", "a DO block is one transaction"),
    ("DO $$ BEGIN EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT a TO b', 't'); END $$", "AccessExclusiveLock",
     "could not all be read"),
    ("DO $$ BEGIN PERFORM lock_it(); END $$", "ExclusiveLock", "could not all be read"),
    ("DO $$ BEGIN UPDATE t SET x = 0; END $$", "ExclusiveLock", "no statement of the DO block explains"),
    ("DO $$ BEGIN ALTER TABLE t ALTER COLUMN x SET NOT NULL; END $$", "AccessExclusiveLock", "no validated CHECK"),
])
def test_blocking_statements_are_named_with_their_harm(statement, mode, harm):
    assert harm in blocking_harm(statement, mode, "t")


@pytest.mark.parametrize("statement, mode", [
    ("ALTER TABLE t ADD CONSTRAINT c CHECK (x >= 0) NOT VALID", "AccessExclusiveLock"),
    ("alter table t add constraint f foreign key (x) references u (id) not valid", "ShareRowExclusiveLock"),
    ("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX i", "ShareUpdateExclusiveLock"),
    ("ALTER TABLE t RENAME CONSTRAINT a TO b", "AccessExclusiveLock"),
    ("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", "ShareRowExclusiveLock"),
    # a brief ALTER in a DO block (idempotent, with a declaration, a notice and a handler)
    ("DO $do$\nDECLARE n int := 0; -- a counter\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE "
     "conname = 'c') THEN\n    ALTER TABLE t ADD CONSTRAINT c CHECK (x >= 0) NOT VALID;\n  END IF;\n"
     "  RAISE NOTICE 'done; %', n;\nEXCEPTION WHEN duplicate_object THEN NULL;\nEND\n$do$", "AccessExclusiveLock"),
    ("do 'begin execute ''alter table t add constraint c check (x >= 0) not valid''; end'", "AccessExclusiveLock"),
])
def test_brief_catalog_changes_do_not_count_as_blocking(statement, mode):
    assert blocking_harm(statement, mode, "t") is None


@pytest.mark.parametrize("statement", [
    "ALTER TABLE t ALTER COLUMN x SET NOT NULL",
    'alter table only t alter "X" set not null',
    "DO $$ BEGIN ALTER TABLE t ALTER x SET NOT NULL; END $$",
])
def test_set_not_null_is_brief_only_when_a_validated_check_proved_the_column(statement):
    assert blocking_harm(statement, "AccessExclusiveLock", "t", ("x",)) is None
    assert "no validated CHECK" in blocking_harm(statement, "AccessExclusiveLock", "t", ("y",))
    assert "no validated CHECK" in blocking_harm(statement, "AccessExclusiveLock", "t")


def test_the_columns_the_catalog_proves_not_null(pg_server, make_clone):
    """Read from the stored constraint trees, without opening the table (the watch reads them
    while a statement waits for that table's lock)."""
    clone = make_clone(replay=False)
    with clone.connect() as conn:
        conn.execute('CREATE TABLE proofs (n int NOT NULL, x int, y int, z int, w text, "Mixed Case" int, v int,'
                     ' CHECK (x IS NOT NULL), CHECK (y IS NOT NULL AND (z IS NOT NULL AND z > 1)),'
                     ' CHECK ("Mixed Case" IS NOT NULL),'
                     # no proof: an OR, a comparison (a NULL passes a CHECK), a string that looks like one
                     " CHECK (w IS NOT NULL OR v > 0), CHECK (v >= 0), CHECK (w <> 'v IS NOT NULL'))")
        conn.execute("ALTER TABLE proofs ADD CHECK (v IS NOT NULL) NOT VALID")  # not validated: no proof
        oid = conn.execute("SELECT 'proofs'::regclass::oid").fetchone()[0]
        rows = conn.execute(NOT_NULL_SQL, {"oid": oid}).fetchall()
    assert not_null_columns(rows) == ("n", "x", "y", "z", "Mixed Case")


# ------------------------------------------------------------------------------ 4.1


# A plain CREATE and DROP INDEX (tests/data/submissions/techshop-4-1-indexes/
# plain-create-and-drop-index/) lose the open shop's points, and only those: graded against its
# expect.yaml by tests/test_exercises_as_data.py.


def test_4_1_a_build_hidden_in_a_do_block_is_seen_too(grade):
    sql = replaced(REF_IX, "CREATE INDEX CONCURRENTLY idx_orders_date ON orders (order_date);",
                   "DO $$ BEGIN EXECUTE 'CREATE INDEX idx_orders_date ON orders (order_date)'; END $$;")
    r = by_id(grade(IX, {"indexes.sql": sql}))
    assert r["shop-stayed-open"].points == 0
    assert "orders" in r["shop-stayed-open"].message and "DO $$" in r["shop-stayed-open"].message
    assert r["recent-orders-uses-index"].status is Status.PASSED


@pytest.mark.parametrize("first, words", [
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'techshop_app';", "ended"),
    ("REVOKE INSERT, UPDATE, DELETE ON orders FROM techshop_app;", "may no longer write to orders"),
], ids=["terminate", "revoke"])
def test_4_1_ending_or_locking_out_the_shop_is_no_way_out(grade, first, words):
    result = grade(IX, {"indexes.sql": first + "\n" + REF_IX})
    shop = by_id(result)["shop-stayed-open"]
    assert shop.points == 0 and words in shop.message and "closing the shop" in shop.message
    assert [c for c, _ in failed(result)] == ["shop-stayed-open"]


def test_4_1_concurrently_written_differently_scores_full_marks(grade):
    sql = replaced(REF_IX, "DROP INDEX CONCURRENTLY products_name_lower_uniq;",
                   "drop index concurrently if exists public.products_name_lower_uniq;")
    sql = replaced(sql, "CREATE INDEX CONCURRENTLY idx_orders_date ON orders (order_date);",
                   "/* last week's orders */ create index concurrently if not exists idx_orders_date\n"
                   "  on public.orders using btree (order_date);\nREINDEX INDEX CONCURRENTLY idx_orders_date;\n"
                   "VACUUM (ANALYZE) orders;\nALTER TABLE orders ALTER COLUMN status SET STATISTICS 500;")
    result = grade(IX, {"indexes.sql": sql})
    assert not failed(result) and result.points == result.max_points
    assert "waited for the shop's transactions" in by_id(result)["shop-stayed-open"].message


def test_4_1_a_failed_concurrently_build_is_not_the_index(grade):
    """CREATE UNIQUE INDEX CONCURRENTLY on a column with repeated values fails and leaves an
    INVALID index: it serves no query, and it is an invalid index left behind."""
    sql = replaced(REF_IX, "CREATE INDEX CONCURRENTLY idx_order_items_order_id ON order_items (order_id);",
                   "CREATE UNIQUE INDEX CONCURRENTLY idx_order_items_order_id ON order_items (order_id);")
    result = grade(IX, {"indexes.sql": sql})
    assert [s.sqlstate for s in result.statements if s.status != "ok"] == ["23505"]
    r = by_id(result)
    for check_id in ("order-lines-uses-index", "order-lines-fewer-buffers", "order-lines-faster",
                     "order-lines-under-100ms", "no-invalid-indexes"):
        assert r[check_id].points == 0, check_id
    assert "idx_order_items_order_id" in text_of(r["no-invalid-indexes"])
    assert r["shop-stayed-open"].status is Status.PASSED


# ------------------------------------------------------------------------------ 4.2

QUARANTINE = ("BEGIN;\nCREATE TABLE order_items_quarantine AS\nSELECT oi.*, now() AS quarantined_at, "
              "'order deleted by the replica-mode purge'::text AS reason\nFROM order_items oi\n"
              "WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id);\n\n"
              "DELETE FROM order_items oi\nWHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id);\n"
              "COMMIT;")  # the reference's quarantine, replaced below by other ways to write it

# Wrong on purpose: the whole table renamed away as the "quarantine", and a copy of its good
# lines created under its name (with the order foreign key added back, the production way). No
# orphan is left and the orphans are "kept", but the copy has no primary key, no product
# foreign key, no default and no index, and every good line now lives under another name.
RENAME_AND_COPY = """BEGIN;
ALTER TABLE order_items RENAME TO order_items_quarantine;
CREATE TABLE order_items AS
SELECT q.* FROM order_items_quarantine q
WHERE EXISTS (SELECT 1 FROM orders o WHERE o.id = q.order_id);
ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fk
  FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;
ALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_id_fk;
COMMIT;"""


def test_4_2_renaming_the_table_as_the_quarantine_earns_nothing_for_order_items(grade):
    result = grade(CLEANUP, {"cleanup.sql": replaced(REF_CLEANUP, QUARANTINE, RENAME_AND_COPY)})
    assert [s for s in result.statements if s.status != "ok"] == []
    r = by_id(result)
    kept = r["items-table-kept"]
    assert kept.points == 0
    assert "public.order_items is a new table" in kept.message and "now public.order_items_quarantine" in kept.message
    for check_id in ORDER_ITEMS_CHECKS:
        assert r[check_id].points == 0, check_id
    assert "counts only when items-table-kept passes" in r["orphan-items-quarantined"].message
    # the other tables' fixes are untouched by it
    for check_id in ("accounts-merged", "customer-fk-restored", "stock-check-constraint", "customers-table-kept",
                     "orders-table-kept", "products-table-kept"):
        assert r[check_id].status is Status.PASSED, check_id
    assert result.points <= result.max_points - 11


def test_4_2_a_table_stripped_in_place_loses_its_points_and_says_what_is_gone(grade):
    sql = REF_CLEANUP + ("\nALTER TABLE order_items DROP CONSTRAINT order_items_product_id_fkey;\n"
                         "ALTER TABLE order_items ALTER COLUMN id DROP DEFAULT;\n")
    r = by_id(grade(CLEANUP, {"cleanup.sql": sql}))
    kept = r["items-table-kept"]
    assert kept.points == 0
    said = text_of(kept)
    assert "FOREIGN KEY (product_id) REFERENCES public.products(id)" in said and "column id" in said
    assert "nextval" in said
    assert r["no-orphan-items"].points == 0 and r["orphan-items-quarantined"].points == 0


def test_4_2_a_not_null_added_is_no_loss_and_one_taken_away_is(grade):
    # SET NOT NULL after a validated CHECK (… IS NOT NULL) is the NULL-stock fix done right:
    # the table kept everything it had. Dropping a NOT NULL the incident had is a loss.
    added = REF_CLEANUP + ("\nALTER TABLE products ADD CONSTRAINT stock_known CHECK (stock_quantity IS NOT NULL) "
                           "NOT VALID;\nALTER TABLE products VALIDATE CONSTRAINT stock_known;\n"
                           "ALTER TABLE products ALTER COLUMN stock_quantity SET NOT NULL;\n")
    r = by_id(grade(CLEANUP, {"cleanup.sql": added}))
    assert r["products-table-kept"].status is Status.PASSED, r["products-table-kept"].message
    assert r["no-negative-stock"].status is Status.PASSED, r["no-negative-stock"].message
    taken = REF_CLEANUP + "\nALTER TABLE order_items ALTER COLUMN quantity DROP NOT NULL;\n"
    kept = by_id(grade(CLEANUP, {"cleanup.sql": taken}))["items-table-kept"]
    assert kept.points == 0 and "quantity NOT NULL" in text_of(kept), text_of(kept)


STOCK_CHECK = ("ALTER TABLE products ADD CONSTRAINT products_stock_quantity_check\n  CHECK (stock_quantity >= 0) "
               "NOT VALID;\nALTER TABLE products VALIDATE CONSTRAINT products_stock_quantity_check;")
# (products with an unknown stock get 0, as the negative ones do, before the column may refuse NULL)
FILL_NULLS = "UPDATE products SET stock_quantity = 0 WHERE stock_quantity IS NULL;\n"
STOCK_KNOWN = (FILL_NULLS + "ALTER TABLE products ADD CONSTRAINT stock_known\n"
               "  CHECK (stock_quantity IS NOT NULL) NOT VALID;\nALTER TABLE products VALIDATE CONSTRAINT stock_known;\n")
SET_NOT_NULL = "ALTER TABLE products ALTER COLUMN stock_quantity SET NOT NULL;\n"


@pytest.mark.parametrize("extra", [
    # SET NOT NULL once a validated CHECK (… IS NOT NULL) proves the column: PostgreSQL reads no row
    STOCK_KNOWN + SET_NOT_NULL,
    # the same, with the proof folded into a wider validated check and SET NOT NULL in a DO block
    FILL_NULLS + "ALTER TABLE products ADD CONSTRAINT stock_sane\n"
    "  CHECK (stock_quantity IS NOT NULL AND stock_quantity >= 0) NOT VALID;\n"
    "ALTER TABLE products VALIDATE CONSTRAINT stock_sane;\n"
    "DO $$ BEGIN ALTER TABLE products ALTER stock_quantity SET NOT NULL; END $$;\n",
], ids=["validated-check-then-set-not-null", "wider-check-then-set-not-null-in-a-do-block"])
def test_4_2_set_not_null_proven_by_a_validated_check_keeps_the_shop_open(grade, extra):
    result = grade(CLEANUP, {"cleanup.sql": REF_CLEANUP + "\n" + extra})
    assert [s for s in result.statements if s.status != "ok"] == []
    assert not failed(result) and result.points == result.max_points, failed(result)


@pytest.mark.parametrize("extra, words", [
    (FILL_NULLS + SET_NOT_NULL, "no validated CHECK"),  # reads all of products under ACCESS EXCLUSIVE
    # the check is there, but NOT VALID: it proves nothing, SET NOT NULL still reads every row
    (FILL_NULLS + "ALTER TABLE products ADD CONSTRAINT stock_known CHECK (stock_quantity IS NOT NULL) NOT VALID;\n"
     + SET_NOT_NULL, "no validated CHECK"),
], ids=["set-not-null-alone", "set-not-null-after-an-unvalidated-check"])
def test_4_2_set_not_null_that_reads_the_table_closes_the_shop(grade, extra, words):
    result = grade(CLEANUP, {"cleanup.sql": REF_CLEANUP + "\n" + extra})
    assert [s for s in result.statements if s.status != "ok"] == []
    shop = by_id(result)["shop-stayed-open"]
    assert shop.points == 0 and words in shop.message and "SET NOT NULL" in shop.message, shop.message
    assert [c for c, _ in failed(result)] == ["shop-stayed-open"]


def test_4_2_a_brief_alter_in_a_do_block_passes_and_a_validation_inside_one_does_not(grade):
    wrapped = ("DO $fix$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = "
               "'products_stock_quantity_check') THEN\n    ALTER TABLE products ADD CONSTRAINT "
               "products_stock_quantity_check CHECK (stock_quantity >= 0) NOT VALID;\n  END IF;\nEND\n$fix$;\n"
               "ALTER TABLE products VALIDATE CONSTRAINT products_stock_quantity_check;")
    result = grade(CLEANUP, {"cleanup.sql": replaced(REF_CLEANUP, STOCK_CHECK, wrapped)})
    assert not failed(result) and result.points == result.max_points, failed(result)
    inside = ("DO $$ BEGIN\n  ALTER TABLE products ADD CONSTRAINT products_stock_quantity_check CHECK "
              "(stock_quantity >= 0) NOT VALID;\n  ALTER TABLE products VALIDATE CONSTRAINT "
              "products_stock_quantity_check;\nEND $$;")
    result = grade(CLEANUP, {"cleanup.sql": replaced(REF_CLEANUP, STOCK_CHECK, inside)})
    shop = by_id(result)["shop-stayed-open"]
    assert shop.points == 0 and "a DO block is one transaction" in shop.message, shop.message
    assert [c for c, _ in failed(result)] == ["shop-stayed-open"]


@pytest.mark.parametrize("wrapped, words", [
    # the brief ADD … NOT VALID and its validation in one BEGIN … COMMIT: VALIDATE reads every
    # row under the ACCESS EXCLUSIVE lock the ADD took, and the shop waits until COMMIT
    ("BEGIN;\n" + STOCK_CHECK + "\nCOMMIT;", ("later in the same transaction", "VALIDATE CONSTRAINT",
                                               "ACCESS EXCLUSIVE", "cleanup.sql:")),
    # the same lock held while the negative stock is set to 0 (an UPDATE reading all of products)
    ("START TRANSACTION;\nALTER TABLE products ADD CONSTRAINT products_stock_quantity_check\n"
     "  CHECK (stock_quantity >= 0) NOT VALID;\nUPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0;\n"
     "COMMIT;\nALTER TABLE products VALIDATE CONSTRAINT products_stock_quantity_check;",
     ("later in the same transaction", "UPDATE products", "until its COMMIT")),
], ids=["validate-in-the-same-transaction", "update-under-the-held-lock"])
def test_4_2_a_brief_alter_holds_its_lock_until_the_transaction_ends(grade, wrapped, words):
    """A statement that is brief alone is not brief when its transaction goes on to read rows:
    the watch sees only the ALTER wait for the shop, the statement log shows what followed it."""
    result = grade(CLEANUP, {"cleanup.sql": replaced(REF_CLEANUP, STOCK_CHECK, wrapped)})
    shop = by_id(result)["shop-stayed-open"]
    assert shop.points == 0, shop.message
    for word in words:
        assert word in text_of(shop), (word, shop.message)
    assert [c for c, _ in failed(result)] == ["shop-stayed-open"]


@pytest.mark.parametrize("wrapped", [
    # each in a transaction of its own: the ADD's lock ends at its COMMIT, before VALIDATE reads
    "BEGIN;\nALTER TABLE products ADD CONSTRAINT products_stock_quantity_check\n  CHECK (stock_quantity >= 0) "
    "NOT VALID;\nCOMMIT;\nBEGIN;\nALTER TABLE products VALIDATE CONSTRAINT products_stock_quantity_check;\nEND;",
    # rows first, then the brief ADD last in the same transaction: nothing runs under its lock
    "BEGIN;\nUPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0;\n"
    "ALTER TABLE products ADD CONSTRAINT products_stock_quantity_check\n  CHECK (stock_quantity >= 0) NOT VALID;\n"
    "COMMIT;\nALTER TABLE products VALIDATE CONSTRAINT products_stock_quantity_check;",
], ids=["separate-transactions", "rows-before-the-lock"])
def test_4_2_a_brief_alter_in_a_transaction_of_its_own_keeps_the_shop_open(grade, wrapped):
    result = grade(CLEANUP, {"cleanup.sql": replaced(REF_CLEANUP, STOCK_CHECK, wrapped)})
    assert [s for s in result.statements if s.status != "ok"] == []
    assert not failed(result) and result.points == result.max_points, failed(result)


def test_transaction_tails_follow_begin_commit_rollback_and_errors():
    """What ran after each statement in its transaction, read from the statement log."""
    def st(sql, status="ok", file="a.sql"):
        return StatementOutcome(file=file, line=1, sql=sql, status=status)
    log = [st("ALTER TABLE t ADD c int"),                     # 0: autocommit, no tail
           st("BEGIN"), st("ALTER TABLE t ADD d int"),        # 2: tail = 3, 4
           st("SAVEPOINT s"), st("ROLLBACK TO SAVEPOINT s"),  # a savepoint keeps the transaction
           st("COMMIT"),
           st("begin isolation level serializable"), st("ALTER TABLE t ADD e int"),  # 7: tail = 8 (then error)
           st("UPDATE t SET e = 1"), st("SELECT 1/0", "error"), st("UPDATE t SET e = 2", "error"), st("ROLLBACK"),
           st("BEGIN", file="b.sql"), st("ALTER TABLE t ADD f int", file="b.sql"),  # 13: tail = [] (new file)
           st("UPDATE t SET f = 1", file="c.sql")]
    tails = transaction_tails(log)
    assert 0 not in tails and 14 not in tails
    assert tails[2] == ["SAVEPOINT s", "ROLLBACK TO SAVEPOINT s"]
    assert tails[7] == ["UPDATE t SET e = 1"]
    assert tails[13] == []


@pytest.mark.parametrize("quarantine", [
    # a moving DELETE … RETURNING feeding an INSERT, into a table made LIKE the original, in its own schema
    "CREATE SCHEMA quarantine;\nCREATE TABLE quarantine.order_lines (LIKE order_items);\n"
    "WITH moved AS (DELETE FROM order_items oi WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id) "
    "RETURNING oi.*)\nINSERT INTO quarantine.order_lines SELECT * FROM moved;",
    # an empty copy, INSERT … SELECT, then DELETE … USING a left join
    "BEGIN;\nCREATE TABLE bad_lines AS SELECT * FROM order_items WITH NO DATA;\n"
    "INSERT INTO bad_lines SELECT oi.* FROM order_items oi LEFT JOIN orders o ON o.id = oi.order_id "
    "WHERE o.id IS NULL;\nDELETE FROM order_items oi USING bad_lines b WHERE oi.id = b.id;\nCOMMIT;",
], ids=["delete-returning-into-insert", "insert-select-then-delete-using"])
def test_4_2_a_real_quarantine_written_differently_scores_full_marks(grade, quarantine):
    result = grade(CLEANUP, {"cleanup.sql": replaced(REF_CLEANUP, QUARANTINE, quarantine)})
    assert not failed(result) and result.points == result.max_points


@pytest.mark.parametrize("old, new, words", [
    ("REINDEX INDEX CONCURRENTLY customers_email_key;", "REINDEX INDEX customers_email_key;",
     ("REINDEX INDEX customers_email_key", "customers", "REINDEX … CONCURRENTLY")),
    ("ANALYZE order_items;", "VACUUM FULL order_items;", ("VACUUM FULL order_items", "order_items", "ACCESS EXCLUSIVE")),
    ("UPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0;",
     "BEGIN;\nLOCK TABLE products IN EXCLUSIVE MODE;\nUPDATE products SET stock_quantity = 0 WHERE stock_quantity < 0;"
     "\nCOMMIT;", ("LOCK TABLE products IN EXCLUSIVE MODE", "until its transaction ends")),
    ("  CHECK (stock_quantity >= 0) NOT VALID;\nALTER TABLE products VALIDATE CONSTRAINT products_stock_quantity_check;",
     "  CHECK (stock_quantity >= 0);", ("checks every existing row of products", "NOT VALID")),
], ids=["plain-reindex", "vacuum-full", "lock-table", "check-validated-under-its-lock"])
def test_4_2_blocking_the_shop_loses_its_points_and_names_the_harm(grade, old, new, words):
    result = grade(CLEANUP, {"cleanup.sql": replaced(REF_CLEANUP, old, new)})
    shop = by_id(result)["shop-stayed-open"]
    assert shop.points == 0
    for word in words:
        assert word in text_of(shop), word
    assert "cleanup.sql:" in shop.message
    assert [c for c, _ in failed(result)] == ["shop-stayed-open"]


def test_4_2_an_empty_file_pays_nothing_for_the_new_guards(grade):
    # (Destruction pays nothing for them either: truncates-items-deletes-copies/expect.yaml.)
    empty = grade(CLEANUP, {"cleanup.sql": "-- nothing yet\n"})
    assert empty.points == 0
    assert "counts only once" in by_id(empty)["shop-stayed-open"].message
