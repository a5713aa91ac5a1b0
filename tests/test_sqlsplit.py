"""Tests for pgdrill.sqlsplit: psql-compatible statement splitting."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pgdrill.sqlsplit import (
    META_ALLOWED,
    META_REFUSED,
    Statement,
    classify,
    decide,
    split_sql,
)

PROPERTY = settings(deadline=None, max_examples=200, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def sqls(text: str) -> list[str]:
    return [s.sql for s in split_sql(text) if s.kind == "sql"]


# ---------------------------------------------------------------------------------------
# Quoting and comments


def test_simple_statements_and_line_numbers():
    text = "select 1;\n\nselect\n  2;\nselect 3"
    got = split_sql(text)
    assert [(s.sql, s.line, s.end_line, s.terminator) for s in got] == [
        ("select 1", 1, 1, ";"),
        ("select\n  2", 3, 4, ";"),
        ("select 3", 5, 5, "eof"),
    ]


def test_two_statements_on_one_line():
    got = split_sql("select 1; select 2;")
    assert [(s.sql, s.line) for s in got] == [("select 1", 1), ("select 2", 1)]


def test_semicolons_inside_single_quotes_with_doubled_quotes():
    assert sqls("select 'a;b''c;'; select 2;") == ["select 'a;b''c;'", "select 2"]


def test_standard_strings_do_not_treat_backslash_as_escape():
    # standard_conforming_strings=on: 'a\' is a complete string.
    assert sqls("select 'a\\'; select 2;") == ["select 'a\\'", "select 2"]


def test_e_strings_use_backslash_escapes():
    assert sqls("select E'it\\'s; ok'; select 2;") == ["select E'it\\'s; ok'", "select 2"]
    assert sqls("select e'\\\\'; select 2;") == ["select e'\\\\'", "select 2"]


def test_e_must_start_a_token_to_make_an_e_string():
    # "xE" is an identifier, so 'a\' is a standard string and the ';' ends the statement.
    assert sqls("select xE'a\\'; select 2;") == ["select xE'a\\'", "select 2"]
    # a real E-string: \' is escaped, the rest of the text is inside the string.
    got = split_sql("select E'a\\'; select 2;")
    assert len(got) == 1 and got[0].terminator == "eof"


def test_dollar_quotes_with_semicolons_and_tags():
    text = ("create function f() returns int language plpgsql as $$\n"
            "begin\n  perform 1; return 2;\nend;\n$$;\n"
            "do $body$ begin raise notice '$$;'; end $body$;\n"
            "select $x$ $y$ ; $y$ $x$;")
    got = sqls(text)
    assert len(got) == 3
    assert got[0].endswith("end;\n$$")
    assert got[1] == "do $body$ begin raise notice '$$;'; end $body$"
    assert got[2] == "select $x$ $y$ ; $y$ $x$"


def test_dollar_parameter_and_identifier_dollars_are_not_quotes():
    assert sqls("prepare p as select $1; select a$$b, $2$$;$$;") == [
        "prepare p as select $1", "select a$$b, $2$$;$$"]


def test_dollar_tag_must_follow_identifier_rules():
    # "$1a$" is not a tag (a tag cannot start with a digit): ';' ends the statement.
    assert sqls("select $1a$; select 2;") == ["select $1a$", "select 2"]


def test_double_quoted_identifiers():
    assert sqls('select "a;""b" from "t;"; select 2;') == ['select "a;""b" from "t;"', "select 2"]


def test_line_comments_hide_semicolons_and_quotes():
    text = "select 1 -- not the end; it's fine\n, 2;\nselect 3;"
    assert sqls(text) == ["select 1 -- not the end; it's fine\n, 2", "select 3"]


def test_nested_block_comments():
    text = "select /* a /* b; */ still ; comment */ 1; select 2;"
    assert sqls(text) == ["select /* a /* b; */ still ; comment */ 1", "select 2"]


def test_comment_starts_inside_operators():
    assert sqls("select 2*/*c;*/3; select 4<--c;\n5;") == ["select 2*/*c;*/3", "select 4<--c;\n5"]


def test_parentheses_keep_semicolons():
    text = "select (1;\n2); select 3;"
    got = split_sql(text)
    assert [(s.sql, s.line, s.end_line) for s in got] == [("select (1;\n2)", 1, 2),
                                                          ("select 3", 2, 2)]


def test_leading_comments_are_not_part_of_the_statement():
    text = "-- a comment\n/* block */\n\n  select 1 /* kept */;"
    got = split_sql(text)
    assert [(s.sql, s.line) for s in got] == [("select 1 /* kept */", 4)]


def test_whitespace_and_comment_only_files_yield_nothing():
    assert split_sql("") == []
    assert split_sql("  \n\t\n") == []
    assert split_sql("-- just a comment\n/* and /* nested */ another */\n;;\n ; ") == []


def test_unterminated_comment_is_sent_so_the_server_reports_it():
    got = split_sql("select 1;\n/* forgot to close\nselect 2;")
    assert [(s.sql, s.line, s.terminator) for s in got] == [
        ("select 1", 1, ";"), ("/* forgot to close\nselect 2;", 2, "eof")]


def test_unterminated_string_runs_to_the_end():
    got = split_sql("select 'oops;\nselect 2;\n")
    assert len(got) == 1
    assert got[0].terminator == "eof" and got[0].end_line == 2


def test_missing_final_semicolon():
    got = split_sql("select 1;\nselect 2\n\n")
    assert got[-1] == Statement("select 2", 2, 2, "sql", terminator="eof")


def test_crlf_line_endings():
    got = split_sql("select 1;\r\nselect\r\n 2;\r\n-- name: q\r\nselect 3;\r\n")
    assert [(s.sql, s.line, s.end_line, s.name) for s in got] == [
        ("select 1", 1, 1, ""), ("select\r\n 2", 2, 3, ""), ("select 3", 5, 5, "q")]


def test_utf8_bom_is_dropped():
    got = split_sql("\ufeffselect 1;\nselect 2;")
    assert [(s.sql, s.line) for s in got] == [("select 1", 1), ("select 2", 2)]


def test_non_ascii_identifiers_and_strings():
    assert sqls("select 'é;ü' as \"ñ;\", café$$x; select 2;") == [
        "select 'é;ü' as \"ñ;\", café$$x", "select 2"]


# ---------------------------------------------------------------------------------------
# BEGIN ATOMIC (psql 14+ heuristic)


def test_begin_atomic_body_is_kept_whole():
    text = ("create function add(a int, b int) returns int language sql\n"
            "begin atomic\n"
            "  select a + b;\n"
            "  select case when a > 0 then 1 else 0 end;\n"
            "end;\n"
            "select add(1, 2);")
    got = split_sql(text)
    assert len(got) == 2
    assert got[0].sql.endswith("end") and (got[0].line, got[0].end_line) == (1, 5)
    assert got[1].sql == "select add(1, 2)" and got[1].line == 6


def test_begin_atomic_with_or_replace_procedure():
    body = ("CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC "
            "insert into t values (1); insert into t values (2); END")
    assert sqls(body + ";\nCALL p();") == [body, "CALL p()"]


def test_transaction_begin_is_not_a_body():
    assert sqls("begin; insert into t values (1); commit;") == [
        "begin", "insert into t values (1)", "commit"]


def test_plain_create_table_named_begin_does_not_confuse():
    assert sqls("create table t (begin int); select 1;") == [
        "create table t (begin int)", "select 1"]


# ---------------------------------------------------------------------------------------
# Meta-commands


def test_meta_commands_inside_a_file():
    text = "\\timing on\nselect 1;\n\\x\n\\d+ orders\nselect 2;\n\\dt\n"
    got = split_sql(text)
    assert [(s.kind, s.meta, s.args, s.line) for s in got] == [
        ("meta", "timing", "on", 1), ("sql", "", "", 2), ("meta", "x", "", 3),
        ("meta", "d+", "orders", 4), ("sql", "", "", 5), ("meta", "dt", "", 6)]
    assert all(decide(s).action == "skip" for s in got if s.kind == "meta")


def test_meta_command_inside_a_statement_runs_first():
    got = split_sql("select 1,\n\\x\n 2;")
    assert [(s.kind, s.meta, s.sql, s.line) for s in got] == [
        ("meta", "x", "", 2), ("sql", "", "select 1,\n\n 2", 1)]


def test_meta_arguments_end_at_a_backslash_or_double_backslash():
    got = split_sql("\\echo 'a \\ b' \\x\n\\echo hi \\\\ select 1;")
    assert [(s.kind, s.meta, s.args, s.sql) for s in got] == [
        ("meta", "echo", "'a \\ b'", ""), ("meta", "x", "", ""),
        ("meta", "echo", "hi", ""), ("sql", "", "", "select 1")]


def test_backslash_semicolon_is_not_a_terminator():
    got = split_sql("select 1 \\; select 2;\nselect 3;")
    assert [s.sql for s in got] == ["select 1 ; select 2", "select 3"]


def test_g_and_gx_terminate_and_send():
    got = split_sql("select 1 \\g\nselect 2\n\\gx\nselect 3 \\g out.txt\nselect 4 \\g |cat \\x\n")
    assert [(s.sql, s.terminator, s.args, s.line, s.end_line) for s in got] == [
        ("select 1", "\\g", "", 1, 1), ("select 2", "\\gx", "", 2, 3),
        ("select 3", "\\g", "out.txt", 4, 4), ("select 4", "\\g", "|cat \\x", 5, 5)]
    assert [decide(s).action for s in got] == ["run", "run", "refuse", "refuse"]


def test_gset_and_gexec_are_terminators_that_are_refused():
    got = split_sql("select 1 as x \\gset\nselect 'select 1' \\gexec\n")
    assert [s.terminator for s in got] == ["\\gset", "\\gexec"]
    assert all(decide(s).action == "refuse" for s in got)


def test_g_with_nothing_buffered_is_a_refused_meta_command():
    got = split_sql("insert into t values (1);\n\\g\n")
    assert got[1].kind == "meta" and got[1].meta == "g"
    assert decide(got[1]).action == "refuse"


def test_shell_escape_takes_the_whole_line():
    got = split_sql("\\! rm -rf / \\\\ select 1;\nselect 2;")
    assert got[0].meta == "!" and got[0].args == "rm -rf / \\\\ select 1;"
    assert decide(got[0]).action == "refuse"
    assert sqls("\\! ls\nselect 2;") == ["select 2"]


@pytest.mark.parametrize("line", [
    "\\o /tmp/out", "\\w file.sql", "\\copy t to 'x.csv'", "\\i other.sql", "\\ir x.sql",
    "\\c otherdb", "\\connect postgres", "\\lo_import /etc/passwd", "\\setenv A b",
    "\\cd /", "\\if :x", "\\prompt x", "\\unknowncommand",
])
def test_dangerous_or_unknown_meta_commands_are_refused(line):
    (stmt,) = split_sql(line)
    assert stmt.kind == "meta"
    assert decide(stmt).action == "refuse" and decide(stmt).reason


@pytest.mark.parametrize("line", [
    "\\timing", "\\x auto", "\\d", "\\d+ t", "\\dt+", "\\dRp", "\\echo done", "\\pset null ∅",
    "\\conninfo", "\\set ON_ERROR_STOP 1", "\\unset x", "\\encoding UTF8", "\\l", "\\dconfig",
])
def test_display_meta_commands_are_skipped(line):
    (stmt,) = split_sql(line)
    assert decide(stmt).action == "skip"


def test_backquotes_in_arguments_are_refused():
    (stmt,) = split_sql("\\echo `id`")
    assert decide(stmt).action == "refuse"


def test_meta_sets_are_disjoint_and_cover_the_brief():
    assert not META_ALLOWED & META_REFUSED
    assert {"timing", "x", "d", "echo", "pset", "conninfo", "set", "unset", "encoding",
            "l", "dt"} <= META_ALLOWED
    assert {"!", "o", "w", "copy", "i", "ir", "c", "connect", "lo_import", "lo_export",
            "setenv", "cd"} <= META_REFUSED


def test_reset_discards_the_buffer_and_quit_stops():
    got = split_sql("select oops\n\\r\nselect 1;\n\\q\nselect 2;")
    assert [(s.kind, s.meta, s.sql) for s in got] == [
        ("meta", "r", ""), ("sql", "", "select 1"), ("meta", "q", "")]


def test_meta_commands_inside_quotes_and_comments_are_text():
    assert sqls("select '\\x'; -- \\x\n/* \\x */ select $$\\q$$;") == [
        "select '\\x'", "select $$\\q$$"]


# ---------------------------------------------------------------------------------------
# Named statements


def test_name_markers_name_the_next_sql_statement():
    text = ("-- name: first\nselect 1;\n\n--name:second_one\n\\x\nselect 2;\n"
            "select 3; -- name: not_a_marker\nselect 4;\n-- name: q5\n/* c */ select 5;")
    got = [s for s in split_sql(text) if s.kind == "sql"]
    assert [(s.sql, s.name) for s in got] == [
        ("select 1", "first"), ("select 2", "second_one"), ("select 3", ""),
        ("select 4", ""), ("select 5", "q5")]


def test_name_marker_inside_a_statement_is_ignored():
    got = split_sql("select 1\n-- name: inside\n, 2;\nselect 3;")
    assert [s.name for s in got] == ["", ""]


# ---------------------------------------------------------------------------------------
# classify


@pytest.mark.parametrize("sql, kind", [
    ("select 1", "query"), ("-- hi\n/* c */ WITH x AS (select 1) select * from x", "query"),
    ("values (1)", "query"), ("table t", "query"), ("show work_mem", "query"),
    ("explain analyze select 1", "query"), ("(select 1) union (select 2)", "query"),
    ("delete from t where id = 1 returning *", "query"),
    ("insert into t select * from u where x in (select 1)", "other"),
    ("update t set \"returning\" = 1", "other"),
    ("begin", "transaction_control"), ("START TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                                      "transaction_control"),
    ("commit", "transaction_control"), ("end", "transaction_control"),
    ("rollback to savepoint a", "transaction_control"), ("abort", "transaction_control"),
    ("savepoint a", "transaction_control"), ("release a", "transaction_control"),
    ("prepare transaction 'x'", "transaction_control"),
    ("commit prepared 'x'", "no_transaction"),
    ("create index concurrently i on t (a)", "no_transaction"),
    ("/* x */ CREATE UNIQUE INDEX CONCURRENTLY i on t (a)", "no_transaction"),
    ("create index i on t (a)", "other"),
    ("drop index concurrently if exists i", "no_transaction"),
    ("drop index i", "other"),
    ("reindex index concurrently i", "no_transaction"),
    ("reindex (verbose) table concurrently t", "no_transaction"),
    ("reindex table t", "other"), ("reindex database d", "no_transaction"),
    ("vacuum (analyze) t", "no_transaction"), ("VACUUM", "no_transaction"),
    ("create database d", "no_transaction"), ("drop database d", "no_transaction"),
    ("alter system set work_mem = '8MB'", "no_transaction"),
    ("create tablespace ts location '/x'", "no_transaction"),
    ("alter table p detach partition c concurrently", "no_transaction"),
    ("alter table p detach partition c", "other"),
    ("cluster", "no_transaction"), ("cluster t using i", "other"),
    ("discard all", "no_transaction"),
    ("analyze t", "other"), ("create table t (a int)", "other"), ("", "other"),
    ("select 'vacuum'", "query"), ("'vacuum'", "other"),
])
def test_classify(sql, kind):
    assert classify(sql) == kind
    assert classify(Statement(sql, 1, 1, "sql")) == kind


def test_classify_meta():
    assert classify(split_sql("\\x")[0]) == "meta"


# ---------------------------------------------------------------------------------------
# Performance: linear time


def test_multi_megabyte_file_splits_quickly():
    block = ("-- name: q\nselect 'a;b', $$x;y$$, \"c;d\" /* ; */ from t where a = (1);\n"
             "create function f() returns int language sql begin atomic select 1; end;\n")
    text = block * 30000   # ~4 MB
    t0 = time.perf_counter()
    got = split_sql(text)
    elapsed = time.perf_counter() - t0
    assert len(got) == 60000
    assert got[-1].line == 90000 and got[-2].name == "q"
    assert elapsed < 30  # sanity only; it is linear (about a second here)


def test_one_huge_statement_is_not_quadratic():
    text = "select " + ", ".join(f"'{i};'" for i in range(200000)) + ";"
    t0 = time.perf_counter()
    (stmt,) = split_sql(text)
    assert stmt.sql == text[:-1]
    assert time.perf_counter() - t0 < 30


# ---------------------------------------------------------------------------------------
# Properties

_SAFE_IDENT = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda w: w not in {"create", "begin", "end", "case", "e", "u", "b", "x", "n"})


def _chunks(options):
    return st.lists(st.sampled_from(options), max_size=6).map("".join)


_STRING = _chunks(["a", ";", "''", "--", "/*", "*/", "\n", '"', "$$", "\\", " ", "é"]).map(
    lambda s: f"'{s}'")
_E_STRING = _chunks(["a", ";", "\\'", "\\\\", "''", "\n", "--", "$"]).map(lambda s: f"E'{s}'")
_QIDENT = _chunks(["a", ";", '""', "--", "'", "/*", " "]).map(lambda s: f'"{s}"')


@st.composite
def _dollar(draw):
    tag = draw(st.sampled_from(["", "a", "tag", "x_1", "é"]))
    body = draw(_chunks(["a", ";", "'", '"', "--", "/*", "$", "$b$", "\n", "\\"]))
    close = f"${tag}$"
    assume((body + close).find(close) == len(body))
    return f"{close}{body}{close}"


_SIGNIFICANT = st.one_of(
    _SAFE_IDENT, _STRING, _E_STRING, _QIDENT, _dollar(),
    st.integers(0, 10**6).map(str), st.integers(1, 99).map(lambda i: f"${i}"),
    st.lists(_SAFE_IDENT, min_size=1, max_size=3).map(lambda ws: "(" + " ; ".join(ws) + ")"),
    st.sampled_from(["+", "*", "=", "<>", "::", ",", ".", "-", "/"]),
)
_COMMENT = st.one_of(
    _chunks(["a", ";", "'", '"', "$$", "/*", " ", "\\"]).map(lambda s: f"--{s}\n"),
    _chunks(["a", ";", "'", '"', "$$", "--", "\n", " ", "/* x */"]).map(lambda s: f"/*{s}*/"),
)
_SEP = st.sampled_from([" ", "\n", "\t", "  \n "])


@st.composite
def _statement(draw):
    """(leading comment text, statement text starting with a significant piece)."""
    lead = "".join(draw(st.lists(st.tuples(_COMMENT, _SEP).map("".join), max_size=2)))
    pieces = [draw(_SIGNIFICANT)]
    for _ in range(draw(st.integers(0, 6))):
        pieces.append(draw(st.one_of(_SIGNIFICANT, _SIGNIFICANT, _COMMENT)))
    body = ""
    for p in pieces:
        body += (draw(_SEP) if body else "") + p
    return lead, body


@PROPERTY
@given(st.lists(_statement(), min_size=1, max_size=6), st.booleans())
def test_property_joined_statements_split_back(stmts, final_semicolon):
    text = ""
    expected = []
    for i, (lead, body) in enumerate(stmts):
        if i:
            text += ";\n"
        text += lead
        expected.append((body.rstrip(" \t\n"), text.count("\n") + 1))
        text += body
    if final_semicolon:
        text += ";"
    got = split_sql(text)
    assert [(s.sql, s.line) for s in got] == expected
    assert all(s.kind == "sql" and s.name == "" for s in got)
    assert [s.terminator for s in got[:-1]] == [";"] * (len(got) - 1)
    assert got[-1].terminator == (";" if final_semicolon else "eof")


def _strip_gap(gap: str) -> str:
    """Remove comments from text between statements; return what is left."""
    out, i, n = [], 0, len(gap)
    while i < n:
        if gap.startswith("--", i):
            j = gap.find("\n", i)
            i = n if j < 0 else j
        elif gap.startswith("/*", i):
            depth, i = 1, i + 2
            while depth and i < n:
                if gap.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif gap.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            assert depth == 0, "unterminated comment between statements"
        else:
            out.append(gap[i])
            i += 1
    return "".join(out)


_SQLISH = st.text(alphabet=st.sampled_from(list("ab eE$'\";-/*()\n\r\t1_éU&x")), max_size=80)


@PROPERTY
@given(st.one_of(st.text(max_size=200), _SQLISH))
def test_property_never_raises_and_lines_are_sane(text):
    got = split_sql(text)
    last_line = text.count("\n") + 1
    prev = 0
    for s in got:
        assert 1 <= s.line <= s.end_line <= last_line
        assert s.kind in ("sql", "meta")
        if s.kind == "sql":
            assert s.sql and s.sql == s.sql.rstrip(" \t\n\r\f\v")
            assert s.line >= prev
            prev = s.end_line


@PROPERTY
@given(st.one_of(st.text(alphabet=st.characters(blacklist_characters="\\\ufeff"),
                         max_size=200), _SQLISH))
def test_property_every_significant_character_is_kept_in_order(text):
    got = split_sql(text)
    pos = 0
    for s in got:
        j = text.find(s.sql, pos)
        assert j >= 0, "statement text is not a slice of the input, in order"
        left = _strip_gap(text[pos:j])
        assert set(left) <= set(" \t\n\r\f\v;"), (text[pos:j], left)
        pos = j + len(s.sql)
    assert set(_strip_gap(text[pos:])) <= set(" \t\n\r\f\v;")


@PROPERTY
@given(st.lists(_statement(), min_size=1, max_size=4))
def test_property_resplitting_a_statement_gives_itself(stmts):
    text = ";\n".join(lead + body for lead, body in stmts)
    for s in split_sql(text):
        (again,) = split_sql(s.sql)
        assert again.sql == s.sql and again.line == 1


# ---------------------------------------------------------------------------------------
# Cases found by differential testing against psql 15 (kept as regressions)


def test_identifier_glued_to_a_number_swallows_dollars():
    # psql lexes "1abc$x$" as a number with trailing junk: no dollar quote opens.
    assert sqls("select 1abc$x$; select 2;") == ["select 1abc$x$", "select 2"]


def test_parameter_glued_to_e_is_not_an_e_string():
    assert sqls("select $1E'a\\'; select 2;") == ["select $1E'a\\'", "select 2"]


def test_unknown_meta_command_discards_the_rest_of_its_line():
    got = split_sql("select 1 \\nosuch ; select 2;\n;")
    assert [(s.kind, s.meta, s.args, s.sql) for s in got] == [
        ("meta", "nosuch", "; select 2;", ""), ("sql", "", "", "select 1")]
    assert decide(got[0]).action == "refuse"


def test_name_marker_after_other_comments_and_blank_lines():
    """Regression: a marker not at the very start of the file was ignored."""
    text = "-- Reference solution.\n\n-- name: first\nSELECT 1;\n\n   -- name: second\nSELECT 2;\n"
    assert [(s.name, s.line) for s in split_sql(text)] == [("first", 4), ("second", 7)]


def test_identifier_classes_match_postgres_lexer_spelling_on_every_code_point():
    """The tokenizer's character classes are spelled as the ASCII characters they leave out
    (fast to compile); each matches exactly the code points of the lexer's own spelling —
    ASCII letters, '_', digits, '$' and the whole non-ASCII range — and none other."""
    import re

    from pgdrill import sqlsplit

    non_ascii = "\u0080-\U0010ffff"
    spelled = {
        "_IDENT_START": f"[A-Za-z_{non_ascii}]",
        "_IDENT_CONT": f"[A-Za-z0-9_${non_ascii}]",
        "_DOLQ_CONT": f"[A-Za-z0-9_{non_ascii}]",
        "_OTHER": rf"[^ \t\n\r\f\v'\"$\\;()A-Za-z0-9_${non_ascii}/-]",
    }
    every = "".join(map(chr, range(0x110000)))
    for name, lexer in spelled.items():
        ours = re.compile(getattr(sqlsplit, name))
        assert "".join(ours.findall(every)) == "".join(re.findall(lexer, every)), name
