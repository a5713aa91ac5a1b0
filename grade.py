#!/usr/bin/env python3
"""Grade pgdrill exercises: a thin front for ``pgdrill.cli`` (run with --help)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pgdrill.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
