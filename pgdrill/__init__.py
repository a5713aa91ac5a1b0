"""pgdrill: auto-graded PostgreSQL incident drills."""

__version__ = "0.1.0"
