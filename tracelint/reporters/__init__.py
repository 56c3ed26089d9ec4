"""Output formats. Each is a pure function `render(report, *, color=False) -> str`.

A renderer returns the complete output: every line ends in a newline, and an empty report may render
as "" (text, full, jsonl, github). Write the string as it is (`click.echo(out, nl=False)`); do not add
a newline. `summary(report)` is the one human line for stderr; only text-like formats should print it.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Callable, Iterator

from tracelint.diagnostics import Report
from tracelint.reporters.text import summary

Renderer = Callable[..., str]


class _Renderers(Mapping):
    """format -> render function; a reporter module is imported only when its format is used."""

    MODULES = {"text": "text", "full": "full", "json": "json", "jsonl": "jsonl", "sarif": "sarif",
               "github": "github"}

    def __getitem__(self, fmt: str) -> Renderer:
        return importlib.import_module(f"{__name__}.{self.MODULES[fmt]}").render

    def __iter__(self) -> Iterator[str]:
        return iter(self.MODULES)

    def __len__(self) -> int:
        return len(self.MODULES)


FORMATS: Mapping[str, Renderer] = _Renderers()


def render(report: Report, fmt: str, color: bool = False) -> str:
    """Render `report` in format `fmt` (a key of FORMATS); colour applies to text and full only."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})") from None
    return renderer(report, color=color)


__all__ = ["FORMATS", "Renderer", "render", "summary"]
