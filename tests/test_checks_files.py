"""The files family: the incident report (Markdown) and the backup script, run for real
against a clone, its dump restored into a scratch database."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pgdrill.checks.base import CheckContext
from pgdrill.checks.files import backup_restores, finding_entries, markdown_sections, names_finding, normalise_heading, \
    report_findings, report_has_sections, report_mentions_numbers
from pgdrill.fixtures.sandbox import GRADER, LEARNER

WORDS = "We found the cause quickly and wrote down every step we took so the next on-call engineer can follow it."

REPORT = f"""
# TechShop incident report

## 1. Summary:
{WORDS}

```
## Prevention (inside a code block, not a heading)
```

## **Root Cause Analysis**
{WORDS}

### 2.1 Missing indexes
The products table had no index on name.

## Fixes
Too short.

Timeline
--------
{WORDS}

## Findings
We found 15 orphaned order items and 3 products with negative stock. Two customers
(not 3) share an email. The database was 142 MB.

| finding | count |
| --- | --- |
| orphaned_order_items | 15 |
"""


@pytest.fixture
def ctx_for(make_clone, tmp_path):
    """Build a CheckContext on an empty clone with a small shop; files go into tmp_path/sub."""
    opened = []
    sub = tmp_path / "sub"
    sub.mkdir()

    def make(baseline_clone=None, clone=None) -> CheckContext:
        if clone is None:
            clone = make_clone(fixture="empty")
            with clone.connect(LEARNER) as conn:
                conn.execute("""
                    CREATE TABLE customers (id int PRIMARY KEY, email text);
                    CREATE TABLE orders (id serial PRIMARY KEY, customer_id int, note text, total numeric(10,2));
                    INSERT INTO customers VALUES (1, 'a@x'), (2, 'b@x'), (3, NULL);
                    INSERT INTO orders (customer_id, note, total)
                    SELECT 1 + g % 3, CASE WHEN g % 7 = 0 THEN NULL ELSE 'tab' || E'\\t' || g END, g * 1.5
                    FROM generate_series(1, 200) g;
                    CREATE TABLE empty_table (x int);
                """)

        def grader(c=clone):
            conn = c.connect(GRADER, purpose="grader")
            opened.append(conn)
            return conn

        base = None
        if baseline_clone is not None:
            def base(c=baseline_clone):
                conn = c.connect(GRADER, purpose="grader-baseline")
                opened.append(conn)
                return conn
        ctx = CheckContext(exercise_id="t", exercise_dir=Path("."), submission_dir=sub, manifest={},
                           grader=grader, learner=lambda: None, baseline=base, server=clone.server,
                           dbname=clone.dbname)
        ctx.clone = clone
        return ctx

    yield make
    for conn in opened:
        conn.close()


def write(ctx: CheckContext, name: str, text: str) -> Path:
    path = Path(ctx.submission_dir) / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


# ------------------------------------------------------------------------------ report_has_sections

def test_heading_normalisation_and_sections():
    assert normalise_heading("1. Summary:") == "summary"
    assert normalise_heading("**2.3 Root Cause**") == "root cause"
    assert normalise_heading("IV) Prevention") == "prevention"
    titles = [(lvl, title) for lvl, title, _ in markdown_sections(REPORT)]
    assert (2, "Fixes") in titles and (2, "Timeline") in titles
    assert not any("inside a code block" in t for _, t in titles)
    body = dict((t, b) for _, t, b in markdown_sections(REPORT))["**Root Cause Analysis**"]
    assert "no index on name" in body  # subsections belong to their parent


def test_report_has_sections_full_marks(ctx_for):
    ctx = ctx_for()
    write(ctx, "report.md", REPORT)
    out = report_has_sections(ctx, path="report.md", sections=["summary", "Root cause", "Timeline"], min_words=10)
    assert out.passed, out.message


def test_report_has_sections_partial_credit(ctx_for):
    ctx = ctx_for()
    write(ctx, "report.md", REPORT)
    out = report_has_sections(ctx, path="report.md", min_words=10,
                              sections=["Summary", ["Fixes applied", "Fixes"], "Prevention", "Root cause"])
    assert not out.passed and out.score == pytest.approx(0.5)
    assert "no section “Prevention”" in out.message
    assert "section “Fixes” has 2 word(s)" in out.message
    headings = next(e for e in out.evidence if e.title.startswith("Headings"))
    assert "## 1. Summary:" in headings.body


def test_report_missing_or_outside_the_submission(ctx_for, tmp_path):
    ctx = ctx_for()
    out = report_has_sections(ctx, path="report.md", sections=["Summary"])
    assert not out.passed and "was not found" in out.message
    (tmp_path / "secret.md").write_text("# Summary\n" + WORDS)
    out = report_has_sections(ctx, path="../secret.md", sections=["Summary"])
    assert not out.passed and "outside the submission" in out.message
    (Path(ctx.submission_dir) / "link.md").symlink_to(tmp_path / "secret.md")
    # a link is never followed, wherever it points (pgdrill/submission.py)
    assert "link.md is a symbolic link" in report_has_sections(ctx, path="link.md", sections=["Summary"]).message


# ------------------------------------------------------------------------------ report_mentions_numbers

def test_report_mentions_numbers(ctx_for):
    ctx = ctx_for()
    write(ctx, "report.md", REPORT)
    facts = {
        "orphaned order items": "SELECT 15",
        "negative stock": 3,
        "share an email|duplicate email": "SELECT count(*) - 1 FROM customers WHERE email IS NOT NULL",
        "unused indexes": 4,
    }
    out = report_mentions_numbers(ctx, path="report.md", facts=facts, against="graded")
    assert not out.passed and out.score == pytest.approx(0.5)
    assert ("near “share an email” the report says 3, 142 MB, which is not what the incident's data say"
            in out.message)
    assert "“unused indexes” is not mentioned" in out.message
    # The expected numbers are the graded seed's answer: instructors see them, learners never do.
    learner = [e for e in out.evidence if not e.instructor_only]
    (expected,) = [e for e in out.evidence if e.instructor_only]
    assert sorted(r[1] for r in expected.rows) == ["1", "15", "3", "4"]
    assert "expected" not in out.message and all("expected" not in e.columns for e in learner)
    assert learner[0].columns == ("finding", "numbers near it", "correct")  # what the learner wrote, only
    assert [r[2] for r in learner[0].rows] == ["yes", "yes", "no", "no"]
    size = {"database": "SELECT 142 * 1024 * 1024 + 300000"}
    assert report_mentions_numbers(ctx, path="report.md", facts=size, against="graded").passed


def test_report_numbers_come_from_the_untouched_incident(ctx_for):
    baseline = ctx_for()
    ctx = ctx_for(baseline_clone=baseline.clone)
    with ctx.clone.connect(LEARNER) as conn:
        conn.execute("DELETE FROM orders WHERE id > 15")  # the learner fixed things since the diagnosis
    write(ctx, "report.md", "# Findings\nThe orders table had 200 rows before the cleanup.\n")
    facts = {"orders table": "SELECT count(*) FROM orders"}
    assert report_mentions_numbers(ctx, path="report.md", facts=facts).passed
    assert not report_mentions_numbers(ctx, path="report.md", facts=facts, against="graded").passed


# ------------------------------------------------------------------------------ sections in their own words

SECTIONS = ["Summary", "Root cause", "Prevention"]
OWN_WORDS = {
    "Summary": "Orders went missing because the nightly purge skipped the foreign key triggers, and the "
               "shop kept selling while nobody noticed the gaps in the order history for a whole week.",
    "Root cause": "A maintenance script set session_replication_role to replica, which disables the triggers "
                  "that enforce foreign keys, so deleting a customer left its rows in orders pointing at nothing.",
    "Prevention": "Maintenance scripts are reviewed before they run, the replica setting is forbidden outside "
                  "replication, and a nightly query counts rows of orders whose customer is missing.",
}


def report_of(bodies: dict) -> str:
    return "\n".join(f"## {title}\n{body}\n" for title, body in bodies.items())


def test_sections_in_their_own_words_pass(ctx_for):
    ctx = ctx_for()
    write(ctx, "report.md", report_of(OWN_WORDS))
    out = report_has_sections(ctx, path="report.md", sections=SECTIONS, min_words=20, distinct=True, specific=True)
    assert out.passed, out.message
    assert [r[3] for r in out.evidence[0].rows] == ["orders", "orders", "orders"]


def test_repeated_filler_counts_once(ctx_for):
    ctx = ctx_for()
    filler = "The team handled the orders incident professionally and learned many valuable lessons. "
    write(ctx, "report.md", report_of({t: filler * 6 for t in OWN_WORDS}))
    # Word counts alone are fooled: 6 × 12 words in every section.
    assert report_has_sections(ctx, path="report.md", sections=SECTIONS, min_words=20).passed
    out = report_has_sections(ctx, path="report.md", sections=SECTIONS, min_words=20, distinct=True)
    assert not out.passed and out.score == 0
    assert "section “Summary” has 12 word(s) not written elsewhere in the report" in out.message
    assert "section “Prevention” repeats section “Summary”" in out.message


def test_a_section_copied_into_every_section_counts_once(ctx_for):
    ctx = ctx_for()
    body = OWN_WORDS["Root cause"]
    write(ctx, "report.md", report_of({t: body for t in OWN_WORDS}))
    out = report_has_sections(ctx, path="report.md", sections=SECTIONS, min_words=20, distinct=True)
    assert not out.passed and out.score == pytest.approx(1 / 3)
    assert "section “Root cause” repeats section “Summary”" in out.message
    # Changing a word here and there does not make it another section.
    reworded = {"Summary": body, "Root cause": body.replace("maintenance", "housekeeping"),
                "Prevention": body.replace("deleting", "removing").replace("rows", "records")}
    write(ctx, "report.md", report_of(reworded))
    out = report_has_sections(ctx, path="report.md", sections=SECTIONS, min_words=20, distinct=True)
    assert out.score == pytest.approx(1 / 3) and "section “Prevention” repeats section “Summary”" in out.message


def test_nested_sections_and_comments_are_not_counted_twice(ctx_for):
    ctx = ctx_for()
    text = ("# Summary\n<!-- a long comment that is not part of the report at all and should never count -->\n"
            + OWN_WORDS["Summary"] + "\n\n## Root cause\n" + OWN_WORDS["Root cause"]
            + "\n\n## Prevention\n" + OWN_WORDS["Prevention"] + "\n")
    write(ctx, "report.md", text)
    # Summary (level 1) contains the other two; their sentences still count where they are.
    assert report_has_sections(ctx, path="report.md", sections=SECTIONS, min_words=20, distinct=True).passed
    write(ctx, "report.md", "# Summary\n<!-- " + OWN_WORDS["Summary"] + " -->\n")
    out = report_has_sections(ctx, path="report.md", sections=["Summary"], min_words=20)
    assert not out.passed and "has 0 word(s)" in out.message


def test_a_section_must_name_an_object_of_the_database(ctx_for):
    baseline = ctx_for()
    with baseline.clone.connect(LEARNER) as conn:
        conn.execute("CREATE INDEX idx_orders_note ON orders (note)")
    ctx = ctx_for(baseline_clone=baseline.clone)
    generic = dict(OWN_WORDS, Prevention="We will be more careful from now on, review every change twice, "
                                         "document the procedures properly and train the whole team regularly.")
    write(ctx, "report.md", report_of(generic))
    out = report_has_sections(ctx, path="report.md", sections=SECTIONS, min_words=20, specific=True)
    assert not out.passed and out.score == pytest.approx(2 / 3)
    assert "section “Prevention” names no table, index or constraint of the database" in out.message
    # A column qualified by its table, and an index only the untouched incident has, are objects too.
    for mention in ("customers.email gets a check", "the redundant index idx_orders_note was dropped",
                    "the constraint orders_pkey stays", "order items are compared"):
        named = dict(generic, Prevention=generic["Prevention"] + " Also, " + mention + ".")
        write(ctx, "report.md", report_of(named))
        out = report_has_sections(ctx, path="report.md", sections=SECTIONS, min_words=20, specific=True)
        assert out.passed == (mention != "order items are compared"), (mention, out.message)


# ------------------------------------------------------------------------------ report_findings

FINDINGS = {
    "orders without a note": {"words": ["order note without|missing|null", "unannotated order"],
                              "value": "SELECT count(*) FROM orders WHERE note IS NULL",
                              "share_of": "SELECT count(*) FROM orders"},
    "customers without an e-mail": {"words": ["customer email|address without|missing|null"],
                                    "value": "SELECT count(*) FROM customers WHERE email IS NULL"},
    "order value": {"words": ["order total|value|revenue"], "value": "SELECT sum(total) FROM orders"},
}


def counts(ctx) -> tuple[int, int, str]:
    with ctx.clone.connect(LEARNER) as conn:
        notes, mails, value = conn.execute(
            "SELECT (SELECT count(*) FROM orders WHERE note IS NULL), "
            "(SELECT count(*) FROM customers WHERE email IS NULL), (SELECT sum(total) FROM orders)").fetchone()
    return notes, mails, value


def test_findings_in_a_table_and_in_a_list(ctx_for):
    ctx = ctx_for()
    notes, mails, value = counts(ctx)
    write(ctx, "report.md", f"""
        # Findings

        Several findings; the orders without a note and customers without an e-mail were the first.

        | finding | found | after the fix |
        |---|---:|---:|
        | **Orders** without a note | {notes} | 0 |
        | customers without an e-mail address | `{mails}` | 0 |

        - total order value: {value:,.2f}
        """)
    out = report_findings(ctx, path="report.md", findings=FINDINGS, against="graded")
    assert out.passed, out.message
    # Reordered, reworded, as sentences with the number first, a thousands space, a share.
    write(ctx, "report.md", f"""
        ## Integrity findings
        1. Revenue recorded in orders (order value): {int(value):,}
        2. {mails} customer has a missing email
        3. {100 * notes / 200:.1f} % of the orders have a NULL note
        """.replace(",", " "))
    out = report_findings(ctx, path="report.md", findings=FINDINGS, against="graded",
                          section=["Findings", "Integrity findings"])
    assert out.passed, out.message


def test_numbers_on_one_line_or_swapped_do_not_count(ctx_for):
    ctx = ctx_for()
    notes, mails, value = counts(ctx)
    # Every right number, all on one line: each finding's is next to another finding's name.
    write(ctx, "report.md", f"""
        # Findings
        Orders without a note {mails}, customers without an e-mail {notes}, order value {value}.
        """)
    out = report_findings(ctx, path="report.md", findings=FINDINGS, against="graded")
    assert not out.passed and out.score == 0
    assert "names “orders without a note” and “customers without an e-mail” and “order value” at once" in out.message
    # Each on its own line, but swapped.
    write(ctx, "report.md", f"""
        # Findings
        | orders without a note | {mails} |
        | customers without an e-mail | {notes} |
        | order value | {value} |
        """)
    out = report_findings(ctx, path="report.md", findings=FINDINGS, against="graded")
    assert not out.passed and out.score == pytest.approx(1 / 3)
    assert f"“orders without a note” is given as {mails}, which is not what the incident's data say" in out.message
    # The learner never sees the expected numbers (only what the report said); the instructor does.
    shown = [e for e in out.evidence if not e.instructor_only]
    assert [r[:2] for r in shown[0].rows] == [("orders without a note", str(mails)),
                                              ("customers without an e-mail", str(notes)), ("order value", str(value))]
    assert "expected" not in out.message
    hidden = next(e for e in out.evidence if e.instructor_only)
    assert ("orders without a note", str(notes), str(mails)) in hidden.rows


def test_findings_precision_percentages_and_conflicts(ctx_for):
    ctx = ctx_for()
    notes, mails, value = counts(ctx)
    share = 100 * notes / 200

    def grade(lines: str):
        write(ctx, "report.md", "# Findings\n" + lines)
        return report_findings(ctx, path="report.md", against="graded",
                               findings={"orders without a note": FINDINGS["orders without a note"],
                                         "order value": FINDINGS["order value"]})

    assert grade(f"- orders without a note: {share:.0f}%\n- order value: {round(value):,}\n").passed
    assert not grade(f"- orders without a note: {share + 1:.0f} %\n- order value: {value}\n").passed
    assert not grade(f"- orders without a note: {notes}\n- order value: {value + 1:,.2f}\n").passed
    # A percentage of a count without a total to take it of is not that count.
    write(ctx, "report.md", f"# Findings\n- customers without an e-mail: {mails} %\n")
    assert not report_findings(ctx, path="report.md", against="graded",
                               findings={"customers without an e-mail": FINDINGS["customers without an e-mail"]}
                               ).passed
    # Two entries of one finding must agree; a time on the line is no number.
    out = grade(f"- orders without a note: {notes}\n- orders without a note (after 09:30): {notes + 2}\n"
                f"- order value: {value}\n")
    assert not out.passed and "has entries with different numbers" in out.message
    assert grade(f"- 09:30 orders without a note: {notes}\n- order value: {value}\n").passed
    out = grade(f"- orders without a note\n- order value: {value}\n")
    assert "the entry for “orders without a note” has no number" in out.message
    write(ctx, "report.md", f"# Summary\n- orders without a note: {notes}\n")
    out = report_findings(ctx, path="report.md", findings=FINDINGS, against="graded")
    assert not out.passed and "has no section “Findings”" in out.message


def test_findings_are_counted_on_the_untouched_incident_of_the_graded_seed(ctx_for):
    # The "lab" has other data than the graded copy: numbers taken from it do not pass.
    lab = ctx_for()
    graded_incident = ctx_for()
    with graded_incident.clone.connect(LEARNER) as conn:
        conn.execute("UPDATE orders SET note = NULL WHERE id % 5 = 0")
    ctx = ctx_for(baseline_clone=graded_incident.clone)
    with ctx.clone.connect(LEARNER) as conn:  # the learner's fixes, after the diagnosis
        conn.execute("UPDATE orders SET note = 'fixed' WHERE note IS NULL")
    finding = {"orders without a note": FINDINGS["orders without a note"]}
    lab_notes, graded_notes = counts(lab)[0], counts(graded_incident)[0]
    assert lab_notes != graded_notes
    write(ctx, "report.md", f"# Findings\n- orders without a note: {lab_notes}\n")
    assert not report_findings(ctx, path="report.md", findings=finding).passed
    write(ctx, "report.md", f"# Findings\n- orders without a note: {graded_notes}\n")
    assert report_findings(ctx, path="report.md", findings=finding).passed
    assert not report_findings(ctx, path="report.md", findings=finding, against="graded").passed


def test_finding_entries_and_names():
    entries = finding_entries("| a | b |\n|---|:-:|\n| orphaned `order_items` | **15** | 0 |\n- 2 dupes\ntext 1,234.5 and 09:30")
    assert [(label.strip(), [m.group(0) for m in nums]) for label, nums in entries] == [
        ("a b", []), ("orphaned order_items", ["15", "0"]), ("dupes", ["2"]), ("text   and 09:30", ["1,234.5"])]
    words = ["order", "lines", "orphaned"]
    assert names_finding(words, "orphan item|line") and not names_finding(words, "orphan customer")


# ------------------------------------------------------------------------------ backup_restores

GOOD_SCRIPT = """
#!/bin/bash
set -euo pipefail
pg_dump --format=custom --file="$BACKUP_DIR/techshop.dump" "$PGDATABASE"
"""


def test_backup_script_that_works(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", GOOD_SCRIPT)
    out = backup_restores(ctx)
    assert out.passed, out.message
    table = next(e for e in out.evidence if e.kind == "rows")
    assert ("public.orders", "200", "200", "same") in table.rows
    assert "custom" in out.message
    with ctx.server.connect() as conn:  # the scratch database is gone
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgdrill_restore_%'").fetchone() == (0,)


def test_plain_dump_partial_and_gzip(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", 'pg_dump -t orders -t customers "$PGDATABASE" | gzip > "$BACKUP_DIR/plain.sql.gz"\n')
    out = backup_restores(ctx)  # every table in public by default
    assert not out.passed and out.score == pytest.approx(2 / 3)
    assert "public.empty_table is missing from the restore" in out.message
    assert "gzip-plain" in next(e for e in out.evidence if e.title == "Dump").body
    assert backup_restores(ctx, tables=["orders", "public.customers"]).passed


def test_backup_compares_content_not_just_counts(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", """
        pg_dump -Fp -f "$BACKUP_DIR/dump.sql" "$PGDATABASE"
        sed -i 's/\\t1\\.50$/\\t9.99/' "$BACKUP_DIR/dump.sql"
    """)
    out = backup_restores(ctx, tables=["orders", "customers"])
    assert not out.passed and out.score == pytest.approx(0.5)
    assert "same row count but different content" in out.message


def test_backup_script_that_writes_nothing(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", 'pg_dump -Fc -f techshop.dump "$PGDATABASE"\n')
    out = backup_restores(ctx)
    assert not out.passed
    assert "wrote nothing to $BACKUP_DIR" in out.message and "techshop.dump" in out.message


def test_backup_script_that_fails(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", 'pg_dump -Fc -f "$BACKUP_DIR/x.dump" no_such_database\n')
    out = backup_restores(ctx)
    assert not out.passed and "exited with status 1" in out.message
    assert "no_such_database" in out.evidence[0].body
    write(ctx, "backup.sh", "echo 'not a dump' > \"$BACKUP_DIR/x.dump\"; exit 3\n")
    assert "exited with status 3" in backup_restores(ctx).message


def test_backup_script_that_hangs_is_killed(ctx_for, tmp_path):
    ctx = ctx_for()
    marker = tmp_path / "survived"
    write(ctx, "backup.sh", f"(sleep 3; touch {marker}) &\nsleep 60\n")
    out = backup_restores(ctx, timeout=1)
    assert not out.passed and "did not finish within 1 s" in out.message
    import time
    time.sleep(3.5)
    assert not marker.exists()  # its background children were killed too


def test_plain_dump_cannot_run_shell_commands(ctx_for, tmp_path):
    ctx = ctx_for()
    marker = tmp_path / "pwned"
    write(ctx, "backup.sh", f"""
        pg_dump -Fp -f "$BACKUP_DIR/dump.sql" "$PGDATABASE"
        echo '\\! touch {marker}' >> "$BACKUP_DIR/dump.sql"
    """)
    out = backup_restores(ctx)
    assert out.passed, out.message
    assert not marker.exists()


def test_backup_script_environment_is_scrubbed(ctx_for, monkeypatch):
    ctx = ctx_for()
    monkeypatch.setenv("PGDRILL_SECRET", "do-not-leak")
    write(ctx, "backup.sh", f"""
        test -z "${{PGDRILL_SECRET:-}}" || exit 7
        case "$PGUSER" in pgdrill_prog_*) ;; *) exit 8;; esac  # a role made for this run
        test -n "$PGPASSWORD" || exit 11
        test "$(command -v pg_dump)" = "{ctx.server.bindir}/pg_dump" || exit 9
        test "$PWD" != "{Path.cwd()}" || exit 10
        pg_dump -Fd -f "$BACKUP_DIR/dir" "$PGDATABASE"
    """)
    out = backup_restores(ctx)
    assert out.passed, out.message
    assert "directory" in out.message
