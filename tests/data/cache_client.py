"""A grader in its own process, for tests/test_cache.py: fill the cache, start from it, clone.

    python cache_client.py CACHE_DIR SERVER_KIND KEYS_JSON

Imports ``pgdrill.fixtures`` from PYTHONPATH (the test may point it at a modified copy of the tree).
Prints one JSON object: the progress lines, the templates the started cluster was copied
with, and for each key the row count of one table in a fresh clone.
"""

import json
import sys
from pathlib import Path

from pgdrill.fixtures.cache import ClusterCache
from pgdrill.fixtures.server import start_server
from pgdrill.fixtures.templates import FixtureKey, TemplateCache, ensure_cached

root, kind, raw_keys = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
said: list[str] = []
cache = ClusterCache(root, progress=said.append)
keys = [FixtureKey(**key) for key in raw_keys]
ensure_cached(cache, keys, kind=kind, progress=said.append)
server = start_server(kind, cache=cache)
try:
    templates = TemplateCache(server, progress=said.append)
    rows = {}
    for key in keys:
        with templates.clone(key, replay=False) as clone, clone.connect() as conn:
            table = "orders" if key.fixture == "techshop" else "pg_catalog.pg_class"
            rows[key.template_name] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    copied = sorted(server.cached.templates) if server.cached else []
finally:
    server.stop()
print(json.dumps({"progress": said, "copied_with": copied, "rows": rows}))
