"""Give every static finding a verdict from what the examples did.

confirmed: an event under a target the finding predicts (divergence, error, TracerWarning) is
localised inside the finding's lines, or an unlocalised failure happened under such a target in an
example that executed the finding. not-reproduced: executed, nothing happened. not-reached: no
example executed it. Returns the events no finding explains (they become TL9xx findings).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from tracelint.diagnostics import Diagnostic
from tracelint.dynamic.events import FAILURES, Event, ExampleRef
from tracelint.dynamic.userfiles import norm
from tracelint.targets import FAIL

CONFIRMED, NOT_REPRODUCED, NOT_REACHED = "confirmed", "not-reproduced", "not-reached"
TOOL_CODES = ("TL000", "TL001", "TL002")
MAX_EVIDENCE = 6


def is_dynamic_code(code: str) -> bool:
    return code.startswith("TL9")


def _predicts(d: Diagnostic, target: str) -> bool:
    effects = d.effect_map
    if not effects:
        return True
    e = effects.get(target)
    return e is not None and e.applies


def _evidence(events: list[Event], extra: Iterable[str] = ()) -> tuple[str, ...]:
    ordered = sorted(events, key=lambda e: (e.kind == "warning", e.example_id))
    texts: list[str] = []
    for e in ordered:
        t = e.evidence()
        if t not in texts:
            texts.append(t)
    texts.extend(x for x in extra if x not in texts)
    if len(texts) > MAX_EVIDENCE:
        texts = texts[:MAX_EVIDENCE] + [f"... and {len(texts) - MAX_EVIDENCE} more"]
    return tuple(texts)


def assign(diagnostics: list[Diagnostic], events: list[Event], refs: list[ExampleRef],
           targets: tuple[str, ...]) -> tuple[list[Diagnostic], list[Event]]:
    """(diagnostics with verdicts, events left unexplained)."""
    explained: set[int] = set()
    out: list[Diagnostic] = []
    by_file: dict[str, list[int]] = {}
    for i, e in enumerate(events):
        by_file.setdefault(e.path, []).append(i)
    pending: list[tuple[int, Diagnostic, list[int], list[ExampleRef]]] = []
    for d in diagnostics:
        if d.code in TOOL_CODES or is_dynamic_code(d.code):
            out.append(d)
            continue
        path = norm(d.path)
        span = set(range(d.line, max(d.end_line, d.line) + 1))
        hits = [i for i in by_file.get(path, ()) if events[i].localised and events[i].line in span
                and events[i].kind != "example-failed" and _predicts(d, events[i].target)]
        executed = [r for r in refs if span & r.coverage.get(path, set())]
        pending.append((len(out), d, hits, executed))
        out.append(d)

    # failures no line could be named for: blame findings that predict them in code the example ran
    attributed: dict[int, list[int]] = {}
    for i, e in enumerate(events):
        if e.kind not in FAILURES or e.localised:
            continue
        for slot, d, hits, executed in pending:
            effect = d.effect_map.get(e.target)
            if effect is not None and effect.outcome == FAIL and any(r.id == e.example_id for r in executed):
                attributed.setdefault(slot, []).append(i)
                explained.add(i)

    ran = [r for r in refs if r.result is not None and r.result.get("status") == "ok"]
    for slot, d, hits, executed in pending:
        extra = attributed.get(slot, [])
        if hits or extra:
            explained.update(hits)
            notes = ["(the failure above was not localised to a line; this finding predicts it)"] if extra and not hits else []
            out[slot] = replace(d, verdict=CONFIRMED,
                                evidence=_evidence([events[i] for i in hits + extra], notes))
        elif executed:
            names = ", ".join(r.label for r in executed[:3]) + (" ..." if len(executed) > 3 else "")
            runs = sum(len([x for x in (r.result or {}).get("runs", []) if x["status"] == "match"])
                       for r in executed)
            tried = sorted({t for r in executed for t in (r.result or {}).get("run_targets", [])},
                           key=lambda t: targets.index(t) if t in targets else 99)
            out[slot] = replace(d, verdict=NOT_REPRODUCED, evidence=(
                f"executed by {names}; {runs} variant run(s) under {', '.join(tried) or 'no target'} "
                f"matched eager with no TracerWarning here",))
        else:
            why = "not executed by any example" if ran or refs else "no example ran"
            out[slot] = replace(d, verdict=NOT_REACHED, evidence=(why,))
    return out, [e for i, e in enumerate(events) if i not in explained and e.kind != "warning"]
