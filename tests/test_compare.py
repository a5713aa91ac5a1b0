"""Tests for pgdrill.compare: result-row and column-name comparison."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgdrill.compare import compare_columns, compare_rows, display_order

PROPERTY = settings(deadline=None, max_examples=200, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

ROWS = [(1, "alice", Decimal("10.50")), (2, "bob", None), (3, "carol", Decimal("0"))]


# ---------------------------------------------------------------------------------------
# Examples


def test_identical_rows_are_equal():
    c = compare_rows(ROWS, list(ROWS))
    assert c.equal and c.missing_count == c.extra_count == 0
    assert c.message == "rows match (3 rows)"


def test_permutation_is_equal_unordered_and_order_only_when_ordered():
    shuffled = [ROWS[2], ROWS[0], ROWS[1]]
    assert compare_rows(ROWS, shuffled).equal
    c = compare_rows(ROWS, shuffled, ordered=True)
    assert not c.equal and c.order_only and c.first_difference == 1
    assert c.message == "right rows, wrong order (first difference at row 1)"
    assert compare_rows(ROWS, ROWS, ordered=True).equal


def test_missing_and_extra_rows_are_counted_and_shown():
    actual = [ROWS[0], (4, "dave", None)]
    c = compare_rows(ROWS, actual)
    assert not c.equal and not c.order_only
    assert (c.missing_count, c.extra_count) == (2, 1)
    assert c.missing == (ROWS[1], ROWS[2]) and c.extra == ((4, "dave", None),)
    assert c.message == "2 expected rows are missing and 1 row is unexpected"


def test_messages_use_singular_and_plural():
    assert compare_rows([(1,)], []).message == "1 expected row is missing"
    assert compare_rows([], [(1,), (2,)]).message == "2 rows are unexpected"
    assert compare_rows([(1,), (2,), (3,), (4,)], [(1,), (5,)]).message == (
        "3 expected rows are missing and 1 row is unexpected")


def test_max_examples_limits_examples_not_counts():
    c = compare_rows([(i,) for i in range(20)], [], max_examples=3)
    assert c.missing == ((0,), (1,), (2,)) and c.missing_count == 20


def test_unordered_examples_are_sorted_whatever_order_the_rows_came_in():
    # An unordered result's order can change from run to run (rows read from a hash); the
    # evidence a learner reads must not. Ties on the first column are ordered by the next.
    expected = [("orders", Decimal("23.3")), ("customers", 0.0), ("categories", 0.0), ("products", None)]
    actual = [("products", 1), ("order_items", 2), ("categories", 3)]
    for seed in range(5):
        e, a = expected[:], actual[:]
        random.Random(seed).shuffle(e)
        random.Random(seed + 1).shuffle(a)
        c = compare_rows(e, a)
        assert c.missing == (("categories", 0.0), ("customers", 0.0), ("orders", Decimal("23.3")),
                             ("products", None))
        assert c.extra == (("categories", 3), ("order_items", 2), ("products", 1))
        mismatch = compare_rows(e, [r[:1] for r in a])
        assert mismatch.column_count_mismatch and mismatch.missing == tuple(display_order(e))
    # Which rows are shown does not depend on the order either: the first ones by value, of
    # all that are missing (a reference planned another way returns them in another order).
    c = compare_rows([(3,), (1,), (2,)], [], max_examples=2)
    assert c.missing == ((1,), (2,)) and c.missing_count == 3
    rows = [(i, f"film {i}") for i in range(42)]
    for seed in range(5):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        c = compare_rows(shuffled, shuffled[:3] + [(99, "extra")] + shuffled[5:], max_examples=5)
        assert c.missing == tuple(sorted(shuffled[3:5])) and c.extra == ((99, "extra"),)
        assert compare_rows(shuffled, [], max_examples=5).missing == tuple(rows[:5])


def test_ordered_examples_keep_the_order_of_their_result():
    c = compare_rows([("b",), ("a",)], [("d",), ("c",)], ordered=True)
    assert c.missing == (("b",), ("a",)) and c.extra == (("d",), ("c",))


def test_display_order_sorts_numbers_by_value_nan_then_null_last():
    rows = [(None,), (Decimal("NaN"),), (2,), (Decimal("1.5"),), (float("nan"),), (-1.0,), ("x",)]
    shown = display_order(rows)
    assert shown[:3] == [(-1.0,), (Decimal("1.5"),), (2,)]
    assert {str(r[0]) for r in shown[3:5]} == {"nan", "NaN"} and shown[-1] == (None,)
    assert display_order(reversed(rows)) == shown


def test_duplicates_matter_in_bag_mode_only():
    c = compare_rows([(1,), (1,), (2,)], [(1,), (2,)])
    assert not c.equal and c.missing_count == 1 and c.missing == ((1,),)
    assert compare_rows([(1,), (1,), (2,)], [(1,), (2,), (2,)], mode="set").equal
    c = compare_rows([(1,), (1,), (3,)], [(1,), (2,)], mode="set")
    assert (c.missing_count, c.extra_count) == (1, 1)


def test_null_equals_null():
    assert compare_rows([(None, 1)], [(None, 1)]).equal
    assert not compare_rows([(None,)], [(0,)]).equal
    assert not compare_rows([(None,)], [("",)]).equal


def test_numbers_compare_across_python_types():
    # count(*) is bigint (int) for the learner, sum() numeric (Decimal) for the reference.
    assert compare_rows([(Decimal("3"),)], [(3,)]).equal
    assert compare_rows([(Decimal("2.5"),)], [(2.5,)]).equal
    assert compare_rows([(Decimal("0.1"),)], [(0.1,)]).equal  # float 0.1 is not exact


def test_tolerance_is_absolute_near_zero_and_relative_for_large_values():
    tol = 1e-6
    assert compare_rows([(0.0,)], [(1e-7,)], numeric_tolerance=tol).equal
    assert not compare_rows([(0.0,)], [(1e-5,)], numeric_tolerance=tol).equal
    assert compare_rows([(1e9,)], [(1e9 + 100,)], numeric_tolerance=tol).equal
    assert not compare_rows([(1e9,)], [(1e9 + 10000,)], numeric_tolerance=tol).equal
    assert compare_rows([(Decimal("1000000.0000001"),)], [(1000000,)]).equal
    assert not compare_rows([(Decimal("1.001"),)], [(1,)]).equal


def test_zero_tolerance_is_exact():
    assert not compare_rows([(Decimal("0.1"),)], [(0.1,)], numeric_tolerance=0).equal
    assert compare_rows([(Decimal("1.0"),)], [(1,)], numeric_tolerance=0).equal


def test_text_never_equals_a_number():
    assert not compare_rows([("1",)], [(1,)]).equal
    assert not compare_rows([("1.0",)], [(1,)]).equal
    assert not compare_rows([(1,)], [("1.0000000001",)]).equal


def test_booleans_are_not_numbers():
    assert not compare_rows([(True,)], [(1,)]).equal
    assert compare_rows([(True, False)], [(True, False)]).equal


def test_exact_types_have_no_tolerance():
    d = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert compare_rows([(date(2024, 1, 1), d, b"\x00")],
                        [(date(2024, 1, 1), d, bytearray(b"\x00"))]).equal
    assert not compare_rows([(date(2024, 1, 1),)], [(datetime(2024, 1, 1),)]).equal
    assert not compare_rows([(b"a",)], [("a",)]).equal


def test_nan_and_infinity():
    assert compare_rows([(float("nan"),)], [(Decimal("NaN"),)]).equal
    assert compare_rows([(float("inf"),)], [(Decimal("Infinity"),)]).equal
    assert not compare_rows([(float("inf"),)], [(1e308,)]).equal
    assert not compare_rows([(float("nan"),)], [(0,)]).equal


def test_arrays_records_and_json():
    assert compare_rows([([1, 2], {"a": 1, "b": [True]})],
                        [([Decimal(1), 2], {"b": [True], "a": 1})]).equal
    assert not compare_rows([([1, 2],)], [([2, 1],)]).equal
    assert not compare_rows([({"a": 1},)], [({"a": "1"},)]).equal


def test_column_count_mismatch():
    c = compare_rows([(1, 2, 3)], [(1, 2)])
    assert c.column_count_mismatch and not c.equal
    assert c.message == "your query returns 2 columns, 3 expected"
    assert compare_rows([(1,)], [(1, 2)]).message == "your query returns 2 columns, 1 expected"


def test_empty_results():
    assert compare_rows([], []).equal
    assert compare_rows([], [], ordered=True).equal


def test_ordered_with_different_rows_reports_the_difference():
    c = compare_rows([(1,), (2,), (3,)], [(1,), (2,)], ordered=True)
    assert not c.equal and not c.order_only and c.first_difference == 3
    assert c.message == "1 expected row is missing"


def test_ordered_uses_tolerance_position_by_position():
    assert compare_rows([(1.0,), (2.0,)], [(1.0 + 1e-12,), (2,)], ordered=True).equal


def test_tolerance_chain_is_matched_correctly():
    # 0 ≈ 0.5 ≈ 1.0 with tol 0.5, but 0 ≉ 1.0: a naive "cancel exact matches first"
    # pairs 0.5 with 0.5 and leaves 0 and 1.0 unmatched.
    assert compare_rows([(0,), (0.5,)], [(0.5,), (1.0,)], numeric_tolerance=0.5).equal
    assert compare_rows([(0, "a"), (0.5, "a")], [(0.5, "a"), (1.0, "a")],
                        numeric_tolerance=0.5).equal
    # Two chained columns take the general matching path.
    assert compare_rows([(0, 0), (0.5, 0.5)], [(0.5, 0.5), (1.0, 1.0)],
                        numeric_tolerance=0.5).equal
    assert compare_rows([(0, 1.0), (0.5, 0.5)], [(0.5, 0.5), (1.0, 0)],
                        numeric_tolerance=0.5).equal
    c = compare_rows([(0, 0), (0, 0)], [(0.5, 0.5), (1.0, 1.0)], numeric_tolerance=0.5)
    assert (c.missing_count, c.extra_count) == (1, 1)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        compare_rows([], [], mode="list")
    with pytest.raises(ValueError):
        compare_rows([], [], ordered=True, mode="set")
    with pytest.raises(ValueError):
        compare_rows([], [], numeric_tolerance=1.0)
    with pytest.raises(ValueError):
        compare_rows([], [], numeric_tolerance=-1e-9)


def test_compare_columns():
    assert compare_columns(["id", "Total"], ["ID", "total"]).equal
    c = compare_columns(["id", "revenue"], ["id", "total"])
    assert not c.equal and c.mismatches == ((2, "revenue", "total"),)
    assert c.message == 'column 2 is named "total", expected "revenue"'
    c = compare_columns(["a", "b", "c"], ["a", "b"])
    assert c.count_mismatch and c.message == "your query returns 2 columns, 3 expected"


# ---------------------------------------------------------------------------------------
# Performance


def _big(n=100_000):
    rng = random.Random(7)
    return [(i, f"name {i}", Decimal(rng.randint(0, 10**6)) / 100, rng.random() * 1000,
             date(2024, 1, 1 + i % 28)) for i in range(n)]


def test_100k_rows_compare():
    # How fast is for bench/, not for a test on a shared machine: this checks the answers.
    rows = _big()
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    assert compare_rows(rows, shuffled).equal
    # unequal: one row changed, floats perturbed below tolerance → exercises clustering
    changed = [(a, b, c, d * (1 + 1e-12), e) for a, b, c, d, e in shuffled]
    changed[500] = (-1, "x", Decimal(0), 0.0, date(2024, 1, 1))
    c = compare_rows(rows, changed)
    assert (c.missing_count, c.extra_count) == (1, 1)


# ---------------------------------------------------------------------------------------
# Properties, checked against an independent brute-force maximum matching


def _num(v):
    return type(v) in (int, float, Decimal) and not isinstance(v, bool)


def _ref_value_eq(x, y, tol):
    if x is None or y is None:
        return x is None and y is None
    if _num(x) and _num(y):
        fx, fy = float(x), float(y)
        if math.isnan(fx) or math.isnan(fy):
            return math.isnan(fx) and math.isnan(fy)
        if x == y:
            return True
        return abs(fx - fy) <= tol * max(1.0, abs(fx), abs(fy))
    return type(x) is type(y) and x == y


def _ref_row_eq(e, a, tol):
    return len(e) == len(a) and all(_ref_value_eq(x, y, tol) for x, y in zip(e, a))


def _ref_max_matching(exp, act, tol):
    """Kuhn's augmenting paths on the full compatibility graph (small inputs only)."""
    adj = [[j for j, a in enumerate(act) if _ref_row_eq(e, a, tol)] for e in exp]
    match_a = [-1] * len(act)

    def augment(u, seen):
        for v in adj[u]:
            if v not in seen:
                seen.add(v)
                if match_a[v] < 0 or augment(match_a[v], seen):
                    match_a[v] = u
                    return True
        return False

    return sum(augment(u, set()) for u in range(len(exp)))


TOL = 0.1
# Values spaced around the tolerance so that chains (a ≈ b ≈ c, a ≉ c) are common.
_VALUE = st.one_of(
    st.sampled_from([0, 0.05, 0.1, 0.15, 0.2, 0.3, 1, 1.05, 1.2]),
    st.sampled_from([Decimal("0.05"), Decimal("0.1"), Decimal("1.1"), Decimal("NaN")]),
    st.sampled_from(["a", "b", "0.1"]),
    st.none(),
)


@st.composite
def _two_results(draw):
    width = draw(st.integers(1, 3))
    row = st.tuples(*[_VALUE] * width)
    exp = draw(st.lists(row, max_size=7))
    act = draw(st.lists(row, max_size=7))
    return exp, act


@PROPERTY
@given(_two_results())
def test_property_bag_counts_equal_a_maximum_matching(pair):
    exp, act = pair
    c = compare_rows(exp, act, numeric_tolerance=TOL, max_examples=100)
    m = _ref_max_matching(exp, act, TOL)
    assert (c.missing_count, c.extra_count) == (len(exp) - m, len(act) - m)
    assert c.equal == (m == len(exp) == len(act))
    # the reported leftovers really are rows of each side
    assert all(r in [tuple(e) for e in exp] or any(x != x for x in r) for r in c.missing)


@PROPERTY
@given(_two_results())
def test_property_symmetry(pair):
    exp, act = pair
    for mode in ("bag", "set"):
        ab = compare_rows(exp, act, numeric_tolerance=TOL, mode=mode)
        ba = compare_rows(act, exp, numeric_tolerance=TOL, mode=mode)
        assert ab.equal == ba.equal
        assert (ab.missing_count, ab.extra_count) == (ba.extra_count, ba.missing_count)


@PROPERTY
@given(_two_results(), st.randoms(use_true_random=False))
def test_property_permutation_invariance(pair, rnd):
    exp, act = pair
    base = compare_rows(exp, act, numeric_tolerance=TOL)
    act2 = act[:]
    rnd.shuffle(act2)
    again = compare_rows(exp, act2, numeric_tolerance=TOL)
    assert (again.equal, again.missing_count, again.extra_count) == (
        base.equal, base.missing_count, base.extra_count)
    assert compare_rows(act, act2).equal
    ordered = compare_rows(act, act2, ordered=True)
    assert ordered.equal or ordered.order_only


@PROPERTY
@given(_two_results(), st.data())
def test_property_adding_or_removing_a_row_is_detected(pair, data):
    exp, _ = pair
    extra_row = ("zz",) * (len(exp[0]) if exp else 1)
    c = compare_rows(exp, exp + [extra_row], numeric_tolerance=TOL)
    assert not c.equal and (c.missing_count, c.extra_count) == (0, 1)
    assert c.extra == (extra_row,)
    if exp:
        i = data.draw(st.integers(0, len(exp) - 1))
        fewer = exp[:i] + exp[i + 1:]
        c = compare_rows(exp, fewer, numeric_tolerance=TOL)
        assert not c.equal and (c.missing_count, c.extra_count) == (1, 0)


@PROPERTY
@given(_two_results())
def test_property_set_mode_is_existence(pair):
    exp, act = pair
    c = compare_rows(exp, act, numeric_tolerance=TOL, mode="set", max_examples=100)
    distinct_e = list(dict.fromkeys(exp))
    want_missing = [e for e in distinct_e if not any(_ref_row_eq(e, a, TOL) for a in act)]
    distinct_a = list(dict.fromkeys(act))
    want_extra = [a for a in distinct_a if not any(_ref_row_eq(e, a, TOL) for e in exp)]
    # NaN rows are never dict-equal to themselves unless identical objects: compare counts
    # only when no NaN is present.
    if not any(isinstance(v, Decimal) and v.is_nan() for r in exp + act for v in r):
        assert (c.missing_count, c.extra_count) == (len(want_missing), len(want_extra))
    assert c.equal == (not c.missing_count and not c.extra_count)
