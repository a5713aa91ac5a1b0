"""The fixture registry (fixtures/kinds/): a new kind of starting state is one module.

The toy kind of tests/toy_kind.py is such a module, and nothing else in pgdrill names it: once
it is imported, a spec may say ``fixture: toy``, and the exercise of tests/data/toy_kind/ is
graded through the normal path — the spec loaded and validated, the template built into the
template cache, a grading server started from that cache, the Grader cloning and checking —
on a real PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pgdrill import checks
from pgdrill.fixtures import kinds
from pgdrill.fixtures.cache import ClusterCache
from pgdrill.grading import Grader, GradingOptions, fixture_key, start_grading_server
from pgdrill.report import Status
from pgdrill.spec import SpecError, load_spec

DATA = Path(__file__).resolve().parent / "data" / "toy_kind"
EXERCISE = DATA / "exercises" / "toy-low-stock" / "exercise.yaml"
SOLUTIONS = DATA / "solutions"


@pytest.fixture
def toy():
    """The toy kind, registered for one test and removed after: importing its module registers
    it (once per process; later tests register it again), and no other test may see it (the
    generated docs list the registered kinds)."""
    import toy_kind

    kinds.register(toy_kind.KIND)
    yield toy_kind.KIND
    kinds.unregister(toy_kind.KIND.name)


def _spec():
    return load_spec(EXERCISE, checks.load_all())


def test_the_built_in_kinds_are_found_in_their_folder():
    assert kinds.fixture_names() == ("techshop", "sample:pagila", "sample:chinook", "sample:northwind", "empty")
    assert kinds.kind_of("sample:chinook").name == "sample"
    assert kinds.seeded_fixtures() == ("techshop",)
    with pytest.raises(kinds.UnknownFixture):
        kinds.kind_of("sample:sakila")


def test_a_spec_names_the_toy_kind_only_while_it_is_registered(toy):
    spec = _spec()
    assert spec.incident.fixture == "toy"
    # Seeded: the grader's seed picks the template, and scale and seed are kept in its name.
    key = fixture_key(spec, GradingOptions(seed=5))
    assert (key.fixture, key.scale, key.seed) == ("toy", 1, 5)
    assert key.template_name == "pgdrill_toy_s1_r5_tmpl"
    kinds.unregister("toy")
    with pytest.raises(SpecError) as refused:
        _spec()
    assert "incident.fixture" in str(refused.value) and "'toy'" in str(refused.value)


def test_a_contrast_variant_the_kind_does_not_have_is_refused(toy, tmp_path):
    folder = tmp_path / "toy-low-stock"
    folder.mkdir()
    text = EXERCISE.read_text(encoding="utf-8").replace(
        "files:", "contrasts:\n  - id: other\n    variant: elsewhere\nfiles:", 1)
    (folder / "exercise.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as refused:
        load_spec(folder / "exercise.yaml", checks.load_all())
    assert "contrasts[0].variant: toy has no variant 'elsewhere'" in str(refused.value)


def _typed_in(items: list[str]) -> str:
    values = ", ".join("'" + item.replace("'", "''") + "'" for item in items) or "NULL"
    return ("-- name: low_stock\n"
            f"SELECT item FROM unnest(ARRAY[{values}]::text[]) AS t(item) WHERE item IS NOT NULL;\n"
            "CREATE TABLE restock (item text, wanted integer);\n")


def test_an_exercise_on_the_toy_kind_is_graded_through_the_normal_path(toy, tmp_path):
    spec = _spec()
    cache = ClusterCache(tmp_path / "cache")
    off_by_one = tmp_path / "off-by-one" / spec.id
    off_by_one.mkdir(parents=True)
    (off_by_one / "solution.sql").write_text(
        (SOLUTIONS / spec.id / "solution.sql").read_text(encoding="utf-8").replace("quantity < 3", "quantity <= 3"))
    low_stock: dict[int, list[str]] = {}
    typed_in = tmp_path / "typed-in" / spec.id
    for seed in (3, 11):
        options = GradingOptions(seed=seed)
        server = start_grading_server([spec], options, cache=cache)
        try:
            # The template was built into the cache and this server is a copy of it.
            key = fixture_key(spec, options)
            assert server.cached is not None and key.template_name in server.cached.templates
            grader = Grader(server, options=options)
            with grader.templates.clone(key) as clone, clone.connect() as conn:
                low_stock[seed] = [r[0] for r in conn.execute(
                    "SELECT item FROM public.shelf WHERE quantity < 3 ORDER BY item").fetchall()]
            if seed == 3:  # the answer of seed 3, typed in
                typed_in.mkdir(parents=True)
                (typed_in / "solution.sql").write_text(_typed_in(low_stock[3]))
            reports = {name: grader.grade(folder.parent, [spec]).exercises[0]
                       for name, folder in (("reference", SOLUTIONS / spec.id), ("off-by-one", off_by_one),
                                            ("typed-in", typed_in))}
        finally:
            server.stop()
        reference = reports["reference"]
        assert not reference.error and reference.points == reference.max_points == 3, reference
        statuses = {c.check_id: c.status for c in reports["off-by-one"].checks}
        assert statuses == {"low-stock": Status.FAILED, "restock-table": Status.PASSED}
        typed = {c.check_id: c.status for c in reports["typed-in"].checks}
        assert typed["low-stock"] == (Status.PASSED if seed == 3 else Status.FAILED)
    # The seed picks the data: what is right for one seed is not for the other.
    assert low_stock[3] and low_stock[11] and low_stock[3] != low_stock[11]
