"""`--statistics`: how many findings per rule, most frequent first (ties by code), as ruff prints them."""
from __future__ import annotations

import json
from collections import Counter

from tracelint.diagnostics import Report


def rows(report: Report) -> list[tuple[int, str, str]]:
    """(count, code, name), sorted by count descending, then code."""
    counts = Counter((d.code, d.name) for d in report.diagnostics)
    return sorted(((n, code, name) for (code, name), n in counts.items()), key=lambda r: (-r[0], r[1]))


def render(report: Report, *, machine: bool = False) -> str:
    """Aligned `count  code  name` lines; `machine=True`: a JSON list of {code, name, count}."""
    table = rows(report)
    if machine:
        return json.dumps([{"code": c, "name": n, "count": k} for k, c, n in table], indent=2) + "\n"
    width = max((len(str(k)) for k, _, _ in table), default=1)
    return "".join(f"{k:>{width}}  {c}  {n}\n" for k, c, n in table)
