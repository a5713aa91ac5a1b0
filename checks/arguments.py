"""Check arguments: the types a spec's ``with:`` values must have, and the arguments checks share.

A check's parameters carry ordinary annotations — ``str``, ``int``, ``float``, ``bool``,
``list[str]``, ``X | None`` and ``Literal[...]`` for a fixed set of choices. ``pgdrill.spec``
holds every ``with:`` value against its annotation (``argument_problems``), so ``factor: fast``
or ``mode: sett`` is reported with file, line and key by ``grade.py validate``, never as a
TypeError while grading.

An argument that several checks take with one meaning is defined here once, as
``Annotated[type, Shared(doc)]``; a check annotates its parameter with that alias and need not
document it again (its docstring may, to say more). ``pgdrill.docgen`` renders the shared
definitions in docs/checks.md and their meaning in every check that takes them.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import functools
import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union

KeyPath = list[str | int]


@dataclasses.dataclass(frozen=True)
class Shared:
    """The documentation of an argument many checks share (see the module docstring)."""

    name: str
    doc: str


# --------------------------------------------------------------------------------------------
# Shared arguments (rendered in this order in docs/checks.md)

Schema = Annotated[str, Shared(
    "schema", "schema of the names given without one (``orders`` rather than ``public.orders``); default public.")]
Table = Annotated[str, Shared("table", "a table, ``name`` or ``schema.name``.")]
Tables = Annotated[Union[str, list[str]], Shared(
    "tables", "a table or a list of tables (``name`` or ``schema.name``).")]
Columns = Annotated[Union[str, list[str]], Shared("columns", "a column name or a list of column names.")]
CapturedQuery = Annotated[str, Shared(
    "query", "name of the learner's captured query (``-- name: query`` above it in their SQL file).")]
ScenarioQuery = Annotated[str, Shared(
    "query", "the scenario's SQL (a single SELECT) the grader runs itself; ``$1``, ``$2`` … are parameters.")]
Scalar = Union[str, int, float, bool, None]
Params = Annotated[Union[list[Scalar], None], Shared(
    "params", "values for ``$1``, ``$2`` … in the SQL they go with (default: none).")]
Against = Annotated[Literal["graded", "baseline"], Shared(
    "against", "where the grader runs its own SQL: ``graded`` (the learner's database, at grading time) "
               "or ``baseline`` (an untouched clone of the same incident) — use ``baseline`` when the "
               "learner later changes the data the query looks at (finds orphans, then deletes them).")]
RowsMode = Annotated[Literal["bag", "set"], Shared(
    "mode", "``bag`` (duplicates count, like pgTAP's bag_eq) or ``set`` (duplicates ignored).")]
NumericTolerance = Annotated[float, Shared(
    "numeric_tolerance", "largest difference at which two numbers are still equal.")]
SqlState = Annotated[Union[str, list[str]], Shared(
    "sqlstate", "an SQLSTATE code, quoted (``\"23505\"``), or a condition name (``unique_violation``), "
                "or a list of them: any one is accepted.")]
ProbeTimeout = Annotated[str, Shared(
    "timeout", "statement and lock timeout of each probe, a PostgreSQL duration (default ``5s``).")]
RowKey = Annotated[str, Shared("key", "the column identifying a row (default id).")]
FaultIds = Annotated[Union[str, list[str]], Shared(
    "faults", "a fault id of the incident's manifest or a list of them, e.g. [orphan_order_items].")]
SubmissionPath = Annotated[str, Shared("path", "the file's path in the submission, e.g. ``incident-report.md``.")]
ScriptTimeout = Annotated[int, Shared("timeout", "seconds a learner's script may run before it is killed.")]
# A moment maintenance must come after: ``setup`` (the end of the exercise's setup), or a
# timestamp, which YAML may read as a date or datetime when it is not quoted.
Since = Union[str, datetime.datetime, datetime.date, None]


def shared_arguments() -> list[tuple[str, Any]]:
    """(alias name, annotation) of every shared argument defined above, in order."""
    return [(name, value) for name, value in globals().items() if shared_of(value) is not None]


def shared_of(annotation: Any) -> Shared | None:
    """The ``Shared`` definition an annotation carries (directly, or inside ``X | None``)."""
    if typing.get_origin(annotation) is Annotated:
        return next((m for m in annotation.__metadata__ if isinstance(m, Shared)), None)
    if _is_union(annotation):
        for member in typing.get_args(annotation):
            found = shared_of(member)
            if found is not None:
                return found
    return None


@functools.cache
def parameter_types(func: Callable[..., Any]) -> Mapping[str, Any]:
    """A check's keyword parameters and their annotations (with ``Annotated`` extras kept).

    Only these annotations are evaluated: ``ctx`` and the return type may name what the
    check's module imports for type checkers only."""
    func = inspect.unwrap(func)
    names = [
        name for name, p in inspect.signature(func).parameters.items()
        if name != "ctx" and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    annotations = getattr(func, "__annotations__", {})
    probe = types.FunctionType(func.__code__, func.__globals__)
    probe.__annotations__ = {name: annotations[name] for name in names if name in annotations}
    hints = typing.get_type_hints(probe, include_extras=True)
    return {name: hints.get(name, Any) for name in names}


# --------------------------------------------------------------------------------------------
# Describing types (messages and docs)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    return tp


_NAMES: dict[Any, tuple[str, str]] = {
    str: ("string", "strings"), int: ("integer", "integers"), float: ("number", "numbers"),
    bool: ("boolean", "booleans"), type(None): ("null", "nulls"), datetime.datetime: ("timestamp", "timestamps"),
    datetime.date: ("date", "dates"), Any: ("any value", "any values"),
}


def describe(tp: Any, plural: bool = False) -> str:
    """``list[str] | None`` -> ``list of strings or null``; ``Literal['a', 'b']`` -> ``'a' or 'b'``."""
    tp = _strip(tp)
    if tp in _NAMES:
        return _NAMES[tp][plural]
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " or ".join(repr(c) for c in typing.get_args(tp))
    if _is_union(tp):
        members = list(typing.get_args(tp))
        if {str, float, bool}.issubset(members):  # any scalar YAML can write
            return "values" if plural else "value"
        if float in members and int in members:  # int | float reads as "number"
            members.remove(int)
        return " or ".join(describe(m, plural) for m in members)
    if origin in (list, tuple, Sequence):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        item = describe(args[0], plural=True) if args else "values"
        return f"lists of {item}" if plural else f"list of {item}"
    if origin in (dict, Mapping):
        key, value = typing.get_args(tp) or (Any, Any)
        text = f"mapping of {describe(key)} to {describe(value)}"
        return text.replace("mapping", "mappings") if plural else text
    return getattr(tp, "__name__", str(tp))


def type_name(value: Any) -> str:
    """What YAML made of ``value``, in a spec author's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "date"
    return type(value).__name__


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# Holding values against types


def value_problems(value: Any, tp: Any) -> list[tuple[KeyPath, str]]:
    """Why ``value`` (as YAML reads it) does not fit ``tp``: (path inside the value, message)."""
    tp = _strip(tp)
    if tp is Any:
        return []
    if _fits_plainly(value, tp):
        return []
    origin = typing.get_origin(tp)
    if origin is Literal:
        choices = typing.get_args(tp)
        if any(value == c and type(value) is type(c) for c in choices):
            return []
        close = difflib.get_close_matches(value, [c for c in choices if isinstance(c, str)], n=1, cutoff=0.6) \
            if isinstance(value, str) else []
        typo = f" (did you mean {close[0]!r}?)" if close else ""
        return [([], f"{short(value)} is not allowed{typo}; choose one of: {', '.join(map(str, choices))}")]
    if _is_union(tp):
        members = typing.get_args(tp)
        found = [value_problems(value, m) for m in members]
        if any(not f for f in found):
            return []
        # One member of the value's own kind explains best (a list with a bad item, a typo in a choice).
        same_kind = [f for m, f in zip(members, found) if _same_kind(value, _strip(m))]
        if len(same_kind) == 1:
            return same_kind[0]
        return [([], _expected(tp, value))]
    if origin in (list, tuple, Sequence):
        if not isinstance(value, (list, tuple)):
            return [([], _expected(tp, value))]
        item_types = [a for a in typing.get_args(tp) if a is not Ellipsis]
        if not item_types:
            return []
        out: list[tuple[KeyPath, str]] = []
        for i, item in enumerate(value):
            out += [([i, *path], message) for path, message in value_problems(item, item_types[0])]
        return out
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            return [([], _expected(tp, value))]
        key_type, value_type = typing.get_args(tp) or (Any, Any)
        out = []
        for key, item in value.items():
            out += [([str(key)], message) for _, message in value_problems(key, key_type)]
            out += [([str(key), *path], message) for path, message in value_problems(item, value_type)]
        return out
    return [([], _expected(tp, value))]


def _fits_plainly(value: Any, tp: Any) -> bool:
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if tp is str:
        return isinstance(value, str)
    if tp is datetime.datetime:
        return isinstance(value, datetime.datetime)
    if tp is datetime.date:
        return isinstance(value, datetime.date)
    return False


def _same_kind(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return any(type(value) is type(c) for c in typing.get_args(tp))
    if origin in (list, tuple, Sequence):
        return isinstance(value, (list, tuple))
    if origin in (dict, Mapping):
        return isinstance(value, dict)
    return False


def _expected(tp: Any, value: Any) -> str:
    hint = ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "string" in describe(tp):
        hint = f" (write it in quotes: \"{value}\")"
    elif isinstance(value, float) and not math.isfinite(value):
        hint = " (a finite number)"
    return f"expected {describe(tp)}, got {type_name(value)} {short(value)}{hint}"


def argument_problems(func: Callable[..., Any], args: Mapping[str, Any]) -> list[tuple[KeyPath, str]]:
    """Type problems of the given ``args`` (those the check takes) as (key path, message);
    the path starts with the argument's name. Missing and unknown arguments are the caller's."""
    types_ = parameter_types(func)
    out: list[tuple[KeyPath, str]] = []
    for name, value in args.items():
        if name in types_:
            out += [([name, *path], message) for path, message in value_problems(value, types_[name])]
    return out
