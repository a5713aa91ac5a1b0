"""A toy fixture kind, all of it in this one module: ``toy``, a stockroom shelf of a few items.

It shows what a new kind of starting state takes (docs/architecture.md, "How to add a fixture
kind"): a subclass of ``pgdrill.fixtures.kinds.FixtureKind`` that says how its template is built, and
``register`` at the end. Nothing else in pgdrill names it: specs accept ``fixture: toy`` once
this module is imported, the grader builds and caches its templates, clones them and grades on
them (tests/test_fixture_kinds.py). It is seeded like TechShop: the seed picks the quantities,
so an answer typed in from one seed's rows is wrong on another.
"""

from __future__ import annotations

from pathlib import Path

from pgdrill.fixtures.kinds import Builder, FixtureKey, FixtureKind, register

SCHEMA = Path(__file__).resolve().parent / "data" / "toy_kind" / "schema.sql"


class Toy(FixtureKind):
    name = "toy"
    order = 80
    title = "the toy stockroom"
    seeded = True

    def sources(self, fixture: str) -> list[Path]:
        return [*super().sources(fixture), SCHEMA]

    def build(self, conn, key: FixtureKey, builder: Builder) -> dict:
        builder.say(f"stocking the toy shelf (seed {key.seed}) …")
        # setseed takes a fraction in [-1, 1]: one per seed, the same on every build.
        conn.execute("SELECT pg_catalog.setseed(%s)", ((key.seed % 1000) / 1000,))
        conn.execute(SCHEMA.read_text(encoding="utf-8"))
        count = conn.execute("SELECT count(*) FROM public.shelf").fetchone()[0]
        return {"fixture": key.fixture, "seed": key.seed, "faults": [], "counts": {"shelf": count}}


KIND = register(Toy())
