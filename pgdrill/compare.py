"""Compare a learner query's rows with a reference query's rows (pgTAP's bag_eq/set_eq/results_eq).

Both queries run on the same clone, so the comparison is about values, not about
drivers: psycopg hands us Python objects and we decide which of them are "the same".

Equality of two values (columns are matched by position, never by name):

* NULL equals NULL — a grader asking "is the answer right?" wants SQL's IS NOT
  DISTINCT FROM, not ``=``.
* ``int``, ``Decimal`` and ``float`` compare *numerically* with each other: a learner's
  ``count(*)`` (bigint → int) must equal a reference ``sum(...)`` (numeric → Decimal).
  NaN equals NaN (as PostgreSQL sorts them); infinities equal only themselves.
* Numeric tolerance applies only when *both* values are finite numbers: ``a`` and ``b``
  are equal when ``|a − b| ≤ tol × max(1, |a|, |b|)``.  That is an absolute tolerance
  of ``tol`` near zero and a relative one for large values (``math.isclose`` with
  ``rel_tol = abs_tol = tol``), computed in double precision.  ``tol`` must be in
  [0, 1); 0 means exact.
* Everything else compares exactly with Python's ``==``: text never equals a number
  (``'1.0'`` ≠ ``1``), booleans are not numbers (``True`` ≠ ``1``), bytes, dates,
  timestamps, UUIDs, intervals compare exactly; arrays and records compare element by
  element with the same rules *without* tolerance, JSON objects ignore key order.

Why the matching needs care.  Tolerance-equality is not transitive (with tol = 0.5:
0 ≈ 0.5 ≈ 1 but 0 ≉ 1), so "group equal values, then count" can give wrong answers,
and even cancelling identical rows first can (expected {0, 0.5} vs actual {0.5, 1}
matches completely as 0–0.5, 0.5–1, but not after cancelling 0.5–0.5).  We compute a
*maximum matching* between expected and actual rows — rows match when every column is
equal as above — and report what is left over.  Three facts make that fast:

1. For a fixed ``a`` the set of ``b`` equal to it is an interval containing ``a`` whose
   ends never decrease as ``a`` grows (d/da of ``a − tol·max(1,|a|,|b|)`` is ≥ 1 − tol > 0).
2. Hence, per column, sorting the distinct numbers and cutting between neighbours that
   are not equal gives clusters; if each cluster's smallest and largest member are
   equal, every pair inside is equal and no pair across clusters is — tolerance-equality
   *is* an equivalence on that column's data, and we replace each number by its cluster.
   This is the common case (rounding noise around genuinely different values), and the
   comparison becomes an exact multiset difference: O(n log n).
3. If exactly one column is "chained" (a cluster whose ends are not equal), rows are
   grouped by their other columns, and within a group the numbers are matched greedily
   in sorted order; by fact 1 the greedy matching of the smallest compatible pair is a
   maximum matching (exchange argument: a smaller value that cannot reach the current
   partner cannot reach any later one either).  With two or more chained columns we fall
   back to a general maximum bipartite b-matching (augmenting paths) on the distinct
   rows of each group — correct, slower, and only reached by adversarial data.

Most comparisons never get that far: tuples of plain values are counted as they are
(``Counter`` and dict equality run in C), and only an unequal result pays for keys,
clusters and matching — all of it column-wise and O(n log n).

Set mode asks a different question — does every expected row have an equal actual row
and vice versa? — and is answered per row, counting distinct rows.
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import chain
from typing import Any, Hashable, Iterable, Sequence, cast
from uuid import UUID

__all__ = ["Comparison", "ColumnComparison", "compare_rows", "compare_columns"]


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare_rows`.

    missing/extra hold at most ``max_examples`` rows each: for an ordered comparison the first
    ones in the order they appear in their result; otherwise the first ones by their values
    (:func:`display_order`) among all that are missing (or extra) — an unordered result's
    order means nothing and can change from run to run (a hash's order, another plan), and a
    learner must read the same evidence every time. The counts are complete.
    ``first_difference`` is the 1-based row where an ordered comparison first differs (None
    when unordered or equal).
    """

    equal: bool
    missing: tuple[tuple, ...] = ()
    extra: tuple[tuple, ...] = ()
    missing_count: int = 0
    extra_count: int = 0
    order_only: bool = False
    column_count_mismatch: bool = False
    message: str = ""
    expected_count: int = 0
    actual_count: int = 0
    first_difference: int | None = None


@dataclass(frozen=True)
class ColumnComparison:
    """The outcome of :func:`compare_columns`; mismatches are (1-based position, want, have)."""

    equal: bool
    count_mismatch: bool
    mismatches: tuple[tuple[int, str, str], ...]
    message: str


# ---------------------------------------------------------------------------------------
# Value keys: hashable stand-ins whose == is the exact part of the equality rules.


class _Tag:
    """A private marker; keys tagged with it can never equal a learner's value."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_NAN = _Tag("nan")
_BOOL = _Tag("bool")
_SEQ = _Tag("seq")
_MAP = _Tag("map")
_REPR = _Tag("repr")
_FUZZY = _Tag("fuzzy")

# Types whose own == and hash already follow the rules and that cannot hold a NaN: a
# column made only of these is used as is (int/float/Decimal compare numerically across
# types and hash alike, which is exactly the cross-type rule).
_RAW_OK = frozenset({str, int, type(None), date, datetime, time, timedelta, UUID, bytes})
_NUMBER_TYPES = frozenset({int, float, Decimal})
_SUMMABLE = frozenset({int, float, Decimal, type(None)})
_PLAIN = _RAW_OK | _NUMBER_TYPES


def _key(v: Any) -> Hashable:
    """A hashable stand-in for one value whose == is the exact part of the rules."""
    t = type(v)
    if t is float:
        return _NAN if v != v else v
    if t is Decimal:
        return _NAN if v.is_nan() else v
    if t in _RAW_OK:
        return v
    if isinstance(v, bool):
        return (_BOOL, bool(v))
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        f = float(v)
        return _NAN if f != f else f
    if isinstance(v, str):
        return str(v)
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, (list, tuple)):
        return (_SEQ, tuple(_key(x) for x in v))
    if isinstance(v, dict):
        items = sorted(((str(k), _key(x)) for k, x in v.items()), key=lambda kv: kv[0])
        return (_MAP, tuple(items))
    try:
        hash(v)
    except TypeError:
        return (_REPR, type(v).__qualname__, repr(v))
    return v


def _row_key(row: Sequence[Any]) -> tuple:
    return tuple(map(_key, row))


def _sort_key(v: Any) -> tuple:
    """A key that orders any two values: numbers by value (then by their text, so 1.0 and
    1.00 keep one order), NaN after them, NULL last (as PostgreSQL sorts ascending), anything
    else by its type and its text."""
    if v is None:
        return (3,)
    if isinstance(v, (numbers.Real, Decimal)) and not isinstance(v, bool):
        if _key(v) is _NAN:
            return (1, str(v))
        return (0, v, str(v))
    return (2, type(v).__qualname__, str(v))


def display_order(rows: Iterable[Sequence[Any]]) -> list[tuple]:
    """``rows`` sorted by every column's value (:func:`_sort_key`): the same order whatever
    order they came in, for showing rows whose order means nothing."""
    return sorted((tuple(r) for r in rows), key=lambda r: tuple(map(_sort_key, r)))


def _plain_rows(rows: Sequence[Sequence[Any]]) -> bool:
    """Whether rows are tuples of plain values (a C-level scan, no per-value call)."""
    return (not rows or set(map(type, rows)) == {tuple}) and _PLAIN.issuperset(
        map(type, chain.from_iterable(rows)))


def _keys(rows: Sequence[Sequence[Any]],
          width: int | None) -> tuple[list[tuple], list[tuple] | None, bool]:
    """(keys, columns or None, whether any value was rewritten), by column when possible.

    Working on columns lets a column of plain values (most of them) be taken as is,
    with C-level scans instead of a Python call per value; rows whose columns are all
    plain are used unchanged.  The columns are handed on to the matching, which needs
    them too.
    """
    if width is None:
        return [_row_key(r) for r in rows], None, True
    if width == 0 or not rows:
        return [()] * len(rows), None, False
    cols = list(zip(*rows))
    changed = False
    for c, col in enumerate(cols):
        types = set(map(type, col))
        if types <= _RAW_OK:
            continue
        if types <= _SUMMABLE:
            # NaN check at C speed: a NaN makes the sum NaN.  (None and zeros are
            # filtered out; a false alarm such as inf + -inf only costs the slow path.)
            try:
                total = sum(filter(None, col))
                if total == total:
                    continue
            except (TypeError, ArithmeticError):
                pass
        cols[c] = tuple(map(_key, col))
        changed = True
    if changed:
        return list(zip(*cols)), cols, True
    if set(map(type, rows)) == {tuple}:
        return cast("list[tuple]", list(rows)), cols, False
    return list(map(tuple, rows)), cols, False


def _is_finite_number(k: Any) -> bool:
    t = type(k)
    if t is int:
        return True
    if t is float:
        return math.isfinite(k)
    if t is Decimal:
        return k.is_finite()
    return False


def _as_float(x: Any) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _close(x: Any, y: Any, tol: float) -> bool:
    """The tolerance rule for two finite numbers (see the module docstring)."""
    if x == y:
        return True
    fx, fy = _as_float(x), _as_float(y)
    if not (math.isfinite(fx) and math.isfinite(fy)):
        return False  # beyond double range: exact only
    return abs(fx - fy) <= tol * max(1.0, abs(fx), abs(fy))


def _values_equal(x: Any, y: Any, tol: float) -> bool:
    return x == y or (tol > 0 and _is_finite_number(x) and _is_finite_number(y)
                      and _close(x, y, tol))


def _rows_equal(e: tuple, a: tuple, tol: float) -> bool:
    if e == a:
        return True
    return len(e) == len(a) and all(_values_equal(x, y, tol) for x, y in zip(e, a))


# ---------------------------------------------------------------------------------------
# Canonical keys: numbers replaced by their tolerance cluster where that is an equivalence.


def _numbers_by_float(values) -> tuple[list, list[float]]:
    """The distinct numbers among keys that are finite as doubles, sorted by value.

    Sorting the doubles (with the exact values carried along) is several times faster
    than sorting Decimals; numbers beyond double range, and infinities, are left out:
    they only ever compare exactly.
    """
    if _NUMBER_TYPES.issuperset(map(type, values)):
        nums = list(values)
    else:
        nums = [v for v in values if type(v) in _NUMBER_TYPES]
    try:
        floats = list(map(float, nums))
    except OverflowError:
        floats = [_as_float(v) for v in nums]
    order = sorted(range(len(nums)), key=floats.__getitem__)
    nums = [nums[i] for i in order]
    floats = [floats[i] for i in order]
    if floats and not (math.isfinite(floats[0]) and math.isfinite(floats[-1])):
        keep = [i for i, f in enumerate(floats) if math.isfinite(f)]
        nums = [nums[i] for i in keep]
        floats = [floats[i] for i in keep]
    return nums, floats


class _Canonical:
    """Canonical keys of both sides and how they were obtained.

    ``moved_e``/``moved_a`` list the rows whose key differs from the input key (None when
    every key was rebuilt), so callers can update counts instead of recounting.
    """

    __slots__ = ("ce", "ca", "chained", "moved_e", "moved_a")

    def __init__(self, ce, ca, chained, moved_e, moved_a):
        self.ce, self.ca, self.chained = ce, ca, chained
        self.moved_e, self.moved_a = moved_e, moved_a


def _canonicalise(ce: list[tuple], ca: list[tuple], width: int, tol: float,
                  cols_e: list | None = None, cols_a: list | None = None) -> _Canonical:
    """Canonical keys: numbers replaced by their tolerance cluster (fact 2).

    In a canonical key every finite number of a well-separated column is replaced by the
    smallest member of its cluster, and every finite number of a chained column by the
    _FUZZY marker (the real value stays in the original keys).
    """
    if width == 0 or tol == 0:
        return _Canonical(ce, ca, [], [], [])
    cols_e = list(cols_e) if cols_e is not None else (list(zip(*ce)) if ce else [()] * width)
    cols_a = list(cols_a) if cols_a is not None else (list(zip(*ca)) if ca else [()] * width)
    chained: list[int] = []
    moved: dict[int, dict] = {}   # column -> {value: cluster representative}
    for c in range(width):
        types = set(map(type, cols_e[c]))
        types.update(map(type, cols_a[c]))
        if _NUMBER_TYPES.isdisjoint(types):
            continue
        if types == {int}:
            lo = min(min(cols_e[c], default=0), min(cols_a[c], default=0))
            hi = max(max(cols_e[c], default=0), max(cols_a[c], default=0))
            if tol * max(1, -lo, hi) < 1:
                continue  # distinct integers this small are never within tolerance
        values = set(cols_e[c])
        values.update(cols_a[c])
        nums, floats = _numbers_by_float(values)
        if len(nums) < 2:
            continue
        # Neighbours within tolerance.  A cheap bound first (no Python call per pair):
        # max(|p|, |q|) never exceeds the largest magnitude in the column.
        bound = tol * max(1.0, -floats[0], floats[-1])
        maybe = [i for i, (p, q) in enumerate(zip(floats, floats[1:]), 1) if q - p <= bound]
        # Ascending, so max(|p|, |q|) = max(q, -p).
        linked = [i for i in maybe
                  if floats[i] - floats[i - 1] <= tol * max(1.0, floats[i], -floats[i - 1])]
        if not linked:
            continue  # every number is alone: the column is already exact
        # Clusters are the runs of linked neighbours: [first, last] index ranges.
        runs: list[list[int]] = []
        for i in linked:
            if runs and runs[-1][1] == i - 1:
                runs[-1][1] = i
            else:
                runs.append([i - 1, i])
        # Each cluster must be an equivalence class: its smallest and largest members
        # within tolerance.  Otherwise the column is "chained".
        if any(floats[b2] - floats[b1] > tol * max(1.0, floats[b2], -floats[b1])
               for b1, b2 in runs):
            chained.append(c)
            fuzzy = set(nums)
            cols_e[c] = tuple(_FUZZY if v in fuzzy else v for v in cols_e[c])
            cols_a[c] = tuple(_FUZZY if v in fuzzy else v for v in cols_a[c])
        else:
            moved[c] = {v: nums[b1] for b1, b2 in runs for v in nums[b1 + 1:b2 + 1]}
    if not moved and not chained:
        return _Canonical(ce, ca, [], [], [])
    many = sum(len(mv) for mv in moved.values()) * 8 > len(ce) + len(ca)
    if chained or many:
        # Rebuild every key from the columns (C-level maps and zips).
        for c, mv in moved.items():
            cols_e[c] = tuple(map(mv.get, cols_e[c], cols_e[c]))
            cols_a[c] = tuple(map(mv.get, cols_a[c], cols_a[c]))
        return _Canonical(list(zip(*cols_e)) if ce else ce, list(zip(*cols_a)) if ca else ca,
                          chained, None, None)

    def rewrite(keys, cols):
        # Usually a handful of rows hold a value that moves: rewrite only those.
        hit = sorted({i for c, mv in moved.items() for i, v in enumerate(cols[c]) if v in mv})
        if not hit:
            return keys, []
        keys = list(keys)
        for i in hit:
            row = list(keys[i])
            for c, mv in moved.items():
                row[c] = mv.get(row[c], row[c])
            keys[i] = tuple(row)
        return keys, hit

    new_e, moved_e = rewrite(ce, cols_e)
    new_a, moved_a = rewrite(ca, cols_a)
    return _Canonical(new_e, new_a, [], moved_e, moved_a)


# ---------------------------------------------------------------------------------------
# Bag matching


def _by_width(exp: list[tuple], act: list[tuple]):
    """Split rows by length (rows of different lengths never match), keeping indices."""
    widths = set(map(len, exp)) | set(map(len, act))
    if len(widths) <= 1:
        yield (next(iter(widths), 0), exp, act,
               range(len(exp)), range(len(act)))
        return
    for w in sorted(widths):
        ie = [i for i, k in enumerate(exp) if len(k) == w]
        ia = [i for i, k in enumerate(act) if len(k) == w]
        yield w, [exp[i] for i in ie], [act[i] for i in ia], ie, ia


def _recount(counts: Counter, old: list[tuple], new: list[tuple], moved: list[int]) -> Counter:
    """Counts of ``new`` from the counts of ``old`` when only rows ``moved`` differ."""
    if not moved:
        return counts
    counts = Counter(counts)
    for i in moved:
        k = old[i]
        counts[k] -= 1
        if not counts[k]:
            del counts[k]
        counts[new[i]] += 1
    return counts


def _count_difference(cnt_e: Counter, cnt_a: Counter, n_e: int, n_a: int) -> tuple[dict, dict]:
    """({key: surplus on the expected side}, {key: surplus on the actual side}).

    set(dict) and set.difference(dict) reuse the stored hashes, so keys present on one side
    only are found in C; counts of common keys only need comparing for duplicated keys.
    """
    more_e = {k: cnt_e[k] for k in set(cnt_e).difference(cnt_a)}
    more_a = {k: cnt_a[k] for k in set(cnt_a).difference(cnt_e)}
    if len(cnt_e) != n_e or len(cnt_a) != n_a:  # some key is duplicated
        dups = {k for k, n in cnt_e.items() if n > 1}
        dups.update(k for k, n in cnt_a.items() if n > 1)
        for k in dups:
            d = cnt_e.get(k, 0) - cnt_a.get(k, 0)
            if d > 0 and k in cnt_a:
                more_e[k] = d
            elif d < 0 and k in cnt_e:
                more_a[k] = -d
    return more_e, more_a


def _surplus(keys: list[tuple], extra_counts: dict) -> list[int]:
    """Indices of the last ``extra_counts[k]`` occurrences of each key."""
    if not extra_counts:
        return []
    hits = [i for i, k in enumerate(keys) if k in extra_counts]
    left = dict(extra_counts)
    out = []
    for i in reversed(hits):
        k = keys[i]
        if left[k]:
            out.append(i)
            left[k] -= 1
    return out


def _bag_unmatched(exp: list[tuple], act: list[tuple], tol: float,
                   exp_cols: list | None = None, act_cols: list | None = None,
                   counters: tuple[Counter, Counter] | None = None,
                   ) -> tuple[list[int], list[int]]:
    """Indices of expected and actual rows left over by a maximum matching."""
    missing: list[int] = []
    extra: list[int] = []
    for width, we, wa, ie, ia in _by_width(exp, act):
        same = we is exp and wa is act  # one width: the columns and counts given apply
        canon = _canonicalise(we, wa, width, tol, exp_cols if same else None,
                              act_cols if same else None)
        ce, ca, chained = canon.ce, canon.ca, canon.chained
        if not chained:
            # Equivalence classes: any expected row of a class matches any actual row of
            # it.  The earliest rows are matched and the surplus at the end reported.
            if counters is not None and same and canon.moved_e is not None:
                cnt_e = _recount(counters[0], we, ce, canon.moved_e)
                cnt_a = _recount(counters[1], wa, ca, canon.moved_a)
            else:
                cnt_e, cnt_a = Counter(ce), Counter(ca)
            more_e, more_a = _count_difference(cnt_e, cnt_a, len(ce), len(ca))
            missing.extend(ie[i] for i in _surplus(ce, more_e))
            extra.extend(ia[i] for i in _surplus(ca, more_a))
            continue
        groups_e: dict[tuple, list[int]] = defaultdict(list)
        groups_a: dict[tuple, list[int]] = defaultdict(list)
        for i, k in enumerate(ce):
            groups_e[k].append(i)
        for i, k in enumerate(ca):
            groups_a[k].append(i)
        for g in set(groups_e) | set(groups_a):
            ge, ga = groups_e.get(g, []), groups_a.get(g, [])
            fuzzy_cols = [c for c in chained if g[c] is _FUZZY]
            if not fuzzy_cols:
                common = min(len(ge), len(ga))
                me, ma = ge[common:], ga[common:]
            elif len(fuzzy_cols) == 1:
                me, ma = _greedy_1d(ge, ga, we, wa, fuzzy_cols[0], tol)
            else:
                me, ma = _b_matching(ge, ga, we, wa, fuzzy_cols, tol)
            missing.extend(ie[i] for i in me)
            extra.extend(ia[i] for i in ma)
    missing.sort()
    extra.sort()
    return missing, extra


def _greedy_1d(ge, ga, exp, act, c, tol):
    """Maximum matching on one numeric column (see fact 3 in the module docstring)."""
    se = sorted(ge, key=lambda i: (exp[i][c], i))
    sa = sorted(ga, key=lambda i: (act[i][c], i))
    missing, extra = [], []
    i = j = 0
    while i < len(se) and j < len(sa):
        x, y = exp[se[i]][c], act[sa[j]][c]
        if _close(x, y, tol):
            i += 1
            j += 1
        elif y < x:
            extra.append(sa[j])
            j += 1
        else:
            missing.append(se[i])
            i += 1
    missing.extend(se[i:])
    extra.extend(sa[j:])
    return missing, extra


def _window(v: Any, tol: float) -> tuple[float, float]:
    """Float bounds containing every number tolerance-equal to ``v`` (slightly widened)."""
    f = _as_float(v)
    half = tol * max(1.0, abs(f)) / (1.0 - tol)
    half = half * (1 + 1e-9) + 1e-300
    return f - half, f + half


def _b_matching(ge, ga, exp, act, cols, tol):
    """General maximum b-matching between the distinct rows of a group (rare fallback)."""
    def nodes(idx, rows):
        by_vec: dict[tuple, list[int]] = defaultdict(list)
        for i in idx:
            by_vec[tuple(rows[i][c] for c in cols)].append(i)
        return list(by_vec.items())

    ne, na = nodes(ge, exp), nodes(ga, act)
    order = sorted(range(len(na)), key=lambda v: _as_float(na[v][0][0]))
    firsts = [_as_float(na[v][0][0]) for v in order]
    adj: list[list[int]] = []
    for vec, _ in ne:
        lo, hi = _window(vec[0], tol)
        cand = order[bisect_left(firsts, lo):bisect_right(firsts, hi)]
        adj.append([v for v in cand
                    if all(_close(x, y, tol) for x, y in zip(vec, na[v][0]))])
    rem_e = [len(ix) for _, ix in ne]
    rem_a = [len(ix) for _, ix in na]
    flow: dict[tuple[int, int], int] = defaultdict(int)
    back: list[set[int]] = [set() for _ in na]  # expected nodes with flow into v
    while True:
        # Multi-source BFS over the residual graph: forward along any edge from an
        # expected node, backward along an edge carrying flow from an actual node.
        parent_e: dict[int, int | None] = {u: None for u in range(len(ne)) if rem_e[u] > 0}
        parent_a: dict[int, int] = {}
        queue = deque(parent_e)
        sink = None
        while queue and sink is None:
            u = queue.popleft()
            for v in adj[u]:
                if v in parent_a:
                    continue
                parent_a[v] = u
                if rem_a[v] > 0:
                    sink = v
                    break
                for u2 in back[v]:
                    if u2 not in parent_e:
                        parent_e[u2] = v
                        queue.append(u2)
        if sink is None:
            break
        # Walk back to find the path and its bottleneck.
        path = []
        v = sink
        while True:
            u = parent_a[v]
            path.append((u, v))
            pv = parent_e[u]
            if pv is None:
                break
            path.append((u, pv))  # backward edge u -> pv carries flow
            v = pv
        amount = min(rem_a[sink], rem_e[path[-1][0]])
        for k, (u, v) in enumerate(path):
            if k % 2 == 1:
                amount = min(amount, flow[(u, v)])
        for k, (u, v) in enumerate(path):
            if k % 2 == 0:
                flow[(u, v)] += amount
                back[v].add(u)
            else:
                flow[(u, v)] -= amount
                if flow[(u, v)] == 0:
                    back[v].discard(u)
        rem_a[sink] -= amount
        rem_e[path[-1][0]] -= amount
    missing = [i for (_, ix), r in zip(ne, rem_e) for i in ix[len(ix) - r:]]
    extra = [i for (_, ix), r in zip(na, rem_a) for i in ix[len(ix) - r:]]
    return missing, extra


# ---------------------------------------------------------------------------------------
# Set comparison: existence of an equal row on the other side


def _set_unmatched(exp: list[tuple], act: list[tuple], tol: float) -> tuple[list[int], list[int]]:
    """First occurrences of distinct rows that have no equal row on the other side."""
    first_e: dict[tuple, int] = {}
    for i, k in enumerate(exp):
        first_e.setdefault(k, i)
    first_a: dict[tuple, int] = {}
    for i, k in enumerate(act):
        first_a.setdefault(k, i)
    ue, ua = list(first_e), list(first_a)
    missing: list[int] = []
    extra: list[int] = []
    for width, we, wa, ie, ia in _by_width(ue, ua):
        canon = _canonicalise(we, wa, width, tol)
        ce, ca, chained = canon.ce, canon.ca, canon.chained
        if not chained:
            sa, se = set(ca), set(ce)
            missing.extend(first_e[ue[ie[j]]] for j, k in enumerate(ce) if k not in sa)
            extra.extend(first_a[ua[ia[j]]] for j, k in enumerate(ca) if k not in se)
            continue
        # A chained column: look for a partner among rows with the same canonical key,
        # through a window on the first chained number.
        for mine, theirs, my_rows, their_rows, my_idx, first, out in (
                (ce, ca, we, wa, ie, first_e, missing), (ca, ce, wa, we, ia, first_a, extra)):
            groups: dict[tuple, list[tuple[float, int]]] = defaultdict(list)
            for j, k in enumerate(theirs):
                fc = [c for c in chained if k[c] is _FUZZY]
                groups[k].append((_as_float(their_rows[j][fc[0]]) if fc else 0.0, j))
            for g in groups.values():
                g.sort()
            for j, k in enumerate(mine):
                cands = groups.get(k, [])
                fc = [c for c in chained if k[c] is _FUZZY]
                if fc and cands:
                    lo, hi = _window(my_rows[j][fc[0]], tol)
                    cands = cands[bisect_left(cands, (lo, -1)):
                                  bisect_right(cands, (hi, math.inf))]
                row = my_rows[j]
                if not any(_rows_equal(row, their_rows[t], tol) for _, t in cands):
                    out.append(first[row])
    return sorted(missing), sorted(extra)


# ---------------------------------------------------------------------------------------
# Public API


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _diff_message(missing: int, extra: int) -> str:
    parts = []
    if missing:
        parts.append(_plural(missing, "expected row is missing", "expected rows are missing"))
    if extra:
        parts.append(_plural(extra, "row is unexpected", "rows are unexpected"))
    return " and ".join(parts)


def _examples(rows: Sequence[Sequence], chosen: Sequence[int], ordered: bool, limit: int) -> tuple[tuple, ...]:
    """``limit`` of the rows at the indexes ``chosen``: the first ones in that order for an
    ordered comparison, else the first ones in :func:`display_order` of them all — which rows
    are shown must not depend on the order an unordered result came in (a plan's choice)."""
    if ordered:
        return tuple(tuple(rows[i]) for i in chosen[:limit])
    return tuple(display_order(tuple(rows[i]) for i in chosen)[:limit])


def compare_rows(expected: Sequence[Sequence], actual: Sequence[Sequence], *,
                 ordered: bool = False, mode: str = "bag",
                 numeric_tolerance: float = 1e-9, max_examples: int = 5) -> Comparison:
    """Compare result rows; see the module docstring for the equality rules.

    mode="bag": rows are a multiset — a duplicated row must be duplicated on both sides
    (pgTAP's bag_eq).  mode="set": duplicates are ignored and the counts are of distinct
    rows (set_eq).  ordered=True (bag only) also requires the same order (results_eq);
    when the rows are right but the order is not, ``order_only`` is set.
    """
    if mode not in ("bag", "set"):
        raise ValueError(f"mode must be 'bag' or 'set', not {mode!r}")
    if ordered and mode != "bag":
        raise ValueError("an ordered comparison counts duplicates: use mode='bag'")
    tol = float(numeric_tolerance)
    if not (0.0 <= tol < 1.0):
        raise ValueError("numeric_tolerance must be in [0, 1)")
    if max_examples < 0:
        raise ValueError("max_examples must be >= 0")

    n_exp, n_act = len(expected), len(actual)
    counts: dict[str, Any] = dict(expected_count=n_exp, actual_count=n_act)
    if n_exp and n_act and len(expected[0]) != len(actual[0]):
        want, have = len(expected[0]), len(actual[0])
        return Comparison(
            equal=False, column_count_mismatch=True,
            missing=_examples(expected, range(n_exp), ordered, max_examples),
            extra=_examples(actual, range(n_act), ordered, max_examples),
            missing_count=n_exp, extra_count=n_act,
            message=f"your query returns {_plural(have, 'column', 'columns')}, {want} expected",
            **counts)

    widths = set(map(len, expected)) | set(map(len, actual))
    width = next(iter(widths)) if len(widths) == 1 else None
    in_order = f"rows match ({_plural(n_exp, 'row', 'rows')}, in order)"

    # Fast path: tuples of plain values already compare by the rules (a NaN can only make
    # them look *unequal*, which the full path below then corrects).
    plain = (_plain_rows(expected) and _plain_rows(actual))
    counters = None
    if plain:
        if ordered and list(expected) == list(actual):
            return Comparison(True, message=in_order, **counts)
        if mode == "bag" and not ordered:
            counters = Counter(expected), Counter(actual)
            # dict equality (C) rather than Counter.__eq__ (a Python loop).
            if dict.__eq__(*counters):
                return Comparison(True, message=f"rows match ({_plural(n_exp, 'row', 'rows')})",
                                  **counts)

    exp_keys, exp_cols, exp_changed = _keys(expected, width)
    act_keys, act_cols, act_changed = _keys(actual, width)
    if exp_changed or act_changed or counters is None:
        counters = None  # the keys differ from the raw rows: count again

    first_difference = None
    if ordered:
        if exp_keys == act_keys:
            return Comparison(True, message=in_order, **counts)
        for i, (e, a) in enumerate(zip(exp_keys, act_keys)):
            if e != a and not _rows_equal(e, a, tol):
                first_difference = i + 1
                break
        else:
            if n_exp != n_act:
                first_difference = min(n_exp, n_act) + 1
        if first_difference is None:
            return Comparison(True, message=in_order, **counts)

    if mode == "bag":
        if counters is None:
            counters = Counter(exp_keys), Counter(act_keys)
        if dict.__eq__(*counters):
            missing_idx: list[int] = []
            extra_idx: list[int] = []
        else:
            missing_idx, extra_idx = _bag_unmatched(exp_keys, act_keys, tol,
                                                    exp_cols, act_cols, counters)
    else:
        missing_idx, extra_idx = _set_unmatched(exp_keys, act_keys, tol)

    missing = _examples(expected, missing_idx, ordered, max_examples)
    extra = _examples(actual, extra_idx, ordered, max_examples)
    if not missing_idx and not extra_idx:
        if ordered:
            return Comparison(False, order_only=True, first_difference=first_difference,
                              message=f"right rows, wrong order (first difference at row "
                                      f"{first_difference})", **counts)
        if mode == "set":
            return Comparison(True, message="rows match (as a set)", **counts)
        return Comparison(True, message=f"rows match ({_plural(n_exp, 'row', 'rows')})", **counts)
    return Comparison(False, missing=missing, extra=extra, missing_count=len(missing_idx),
                      extra_count=len(extra_idx), first_difference=first_difference,
                      message=_diff_message(len(missing_idx), len(extra_idx)), **counts)


def compare_columns(expected: Sequence[str], actual: Sequence[str]) -> ColumnComparison:
    """Compare result column names by position, case-insensitively.

    Case is ignored because PostgreSQL folds unquoted aliases to lower case, so
    ``AS Total`` and ``AS total`` are the same answer to a learner.
    """
    exp, act = list(expected), list(actual)
    mismatches = tuple((i + 1, e, a) for i, (e, a) in enumerate(zip(exp, act))
                       if str(e).casefold() != str(a).casefold())
    count_mismatch = len(exp) != len(act)
    if count_mismatch:
        message = (f"your query returns {_plural(len(act), 'column', 'columns')}, "
                   f"{len(exp)} expected")
    elif mismatches:
        shown = [f'column {i} is named "{a}", expected "{e}"' for i, e, a in mismatches[:3]]
        more = len(mismatches) - len(shown)
        message = "; ".join(shown) + (f" (and {more} more)" if more else "")
    else:
        message = "column names match"
    return ColumnComparison(not count_mismatch and not mismatches, count_mismatch,
                            mismatches, message)
