"""Shared by the bench scripts: print a section and append it to a Markdown results file."""

from __future__ import annotations

from pathlib import Path


def publish(lines: list[str], markdown: Path | None) -> None:
    text = "\n".join(lines) + "\n"
    print(text)
    if markdown:
        with open(markdown, "a") as fh:
            fh.write("\n" + text)
