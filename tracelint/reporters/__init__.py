"""Output formats. Each is a pure function `render(report, *, color=False) -> str`.

A renderer returns the complete output: every line ends in a newline, and an empty report may render
as "" (text, full, jsonl, github). Write the string as it is (`click.echo(out, nl=False)`); do not add
a newline. `summary(report)` is the one human line for stderr; only text-like formats should print it.
"""
from __future__ import annotations

from typing import Callable

from tracelint.diagnostics import Report
from tracelint.reporters import full, github, jsonl, sarif, text
from tracelint.reporters import json as json_
from tracelint.reporters.text import summary

Renderer = Callable[..., str]

FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "full": full.render,
    "json": json_.render,
    "jsonl": jsonl.render,
    "sarif": sarif.render,
    "github": github.render,
}


def render(report: Report, fmt: str, color: bool = False) -> str:
    """Render `report` in format `fmt` (a key of FORMATS); colour applies to text and full only."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})") from None
    return renderer(report, color=color)


__all__ = ["FORMATS", "Renderer", "render", "summary"]
