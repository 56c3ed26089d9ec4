"""Run several example sources one after the other, each isolated (see isolation)."""
from __future__ import annotations

from typing import Callable

from tracelint.dynamic.discover import Source
from tracelint.dynamic.isolation import Options, run_source
from tracelint.dynamic.outcome import SourceOutcome


def run_sources(sources: list[Source], opts: Options, say: Callable[[str], None] | None = None) -> list[SourceOutcome]:
    out: list[SourceOutcome] = []
    for i, (target, display) in enumerate(sources):
        prefix = f"[{i + 1}/{len(sources)}] "
        out.append(run_source(target, display, opts, (lambda s, p=prefix: say(p + s)) if say else None))
    return out
