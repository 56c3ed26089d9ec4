"""Give every static finding a verdict from what the examples did.

An event (divergence, error, TracerWarning) under a target the finding predicts confirms it when
it is associated with the finding; the first of these that applies decides:
  1. it is localised inside the finding's lines;
  2. the nearest finding above it in the same function predicts a failure (a cause precedes its
     effect: `sizes = []` then the failing `sizes.append(...)`; a signature on the def line);
  3. it is at a call into a function that holds a finding predicting a failure (a
     `@torch.compiler.disable` or `@torch.jit.ignore` helper fails where it is called);
  4. the finding is a class attribute or in `__init__` (state: an unregistered list, a scripted
     submodule, a NumPy array) and the event is in the same class - such hazards fail where the
     attribute is used, not where it is set;
  5. the event could not be localised and the example executed the finding, which predicts a
     failure under that target (a TracerWarning torch.jit raises about the output goes to findings
     on `return` lines).
confirmed: an associated event. not-reproduced: executed, nothing associated. not-reached: no
example executed it. Events no finding explains are returned (they become TL9xx findings).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from tracelint.diagnostics import Diagnostic
from tracelint.dynamic.events import Event, ExampleRef
from tracelint.dynamic.scopes import class_lines, function_at, in_class_body, scope_of, top_class
from tracelint.dynamic.userfiles import display_path, norm
from tracelint.targets import FAIL

CONFIRMED, NOT_REPRODUCED, NOT_REACHED = "confirmed", "not-reproduced", "not-reached"
TOOL_CODES = ("TL000", "TL001", "TL002")
MAX_EVIDENCE = 6


def is_dynamic_code(code: str) -> bool:
    return code.startswith("TL9")


@dataclass
class _Finding:
    slot: int
    diag: Diagnostic
    path: str
    span: set[int]
    executed_by: set[int]          # example ids
    state_class: str               # the class whose attribute/__init__ it is in, "" otherwise

    def predicts(self, target: str, strict: bool) -> bool:
        effects = self.diag.effect_map
        if not effects:
            return not strict
        e = effects.get(target)
        if e is None or not e.applies:
            return False
        return e.outcome == FAIL if strict else True


def _executed(path: str, span: set[int], ref: ExampleRef) -> bool:
    if span & ref.coverage.get(path, set()):
        return True
    # class-body lines run at import: they count when the example used that class
    if span & ref.imported.get(path, set()):
        line = min(span)
        cls = top_class(path, line)
        if cls and in_class_body(path, line):
            return bool(set(class_lines(path, cls)) & ref.coverage.get(path, set()))
    return False


def _state_class(path: str, line: int) -> str:
    scope = scope_of(path, line)
    if in_class_body(path, line) or scope.endswith(".__init__"):
        return top_class(path, line)
    return ""


def _evidence(events: list[tuple[Event, bool]], extra: Iterable[str] = ()) -> tuple[str, ...]:
    ordered = sorted(events, key=lambda p: (p[0].kind == "warning", not p[1], p[0].example_id))
    texts: list[str] = []
    for e, exact in ordered:
        t = e.evidence()
        if not exact:
            t += f" (at {display_path(e.path)}:{e.line})" if e.localised else " (not localised to a line)"
        if t not in texts:
            texts.append(t)
    texts.extend(x for x in extra if x not in texts)
    if len(texts) > MAX_EVIDENCE:
        texts = texts[:MAX_EVIDENCE] + [f"... and {len(texts) - MAX_EVIDENCE} more"]
    return tuple(texts)


def _nearest_above(e: Event, findings: list[_Finding]) -> list[_Finding]:
    body = function_at(e.path, e.line)
    if not body:
        return []
    above = [f for f in findings if f.path == e.path and min(f.span) in body and min(f.span) <= e.line
             and e.example_id in f.executed_by and f.predicts(e.target, True)]
    if not above:
        return []
    nearest = max(min(f.span) for f in above)
    return [f for f in above if min(f.span) == nearest]


def _in_callees(e: Event, findings: list[_Finding], ref: ExampleRef | None) -> list[_Finding]:
    if ref is None:
        return []
    owners = []
    for path, first in ref.calls.get((e.path, e.line), ()):
        body = function_at(path, first)
        owners += [f for f in findings if f.path == path and min(f.span) in body
                   and f.predicts(e.target, True) and f not in owners]
    return owners


def _associate(events: list[Event], findings: list[_Finding], refs: list[ExampleRef]) -> dict[int, list[tuple[int, bool]]]:
    """finding slot -> [(event index, exact?)] for every event it explains."""
    by_id = {r.id: r for r in refs}
    out: dict[int, list[tuple[int, bool]]] = {}
    for i, e in enumerate(events):
        if e.kind == "example-failed":
            continue
        exact = [f for f in findings if f.path == e.path and e.line in f.span and f.predicts(e.target, False)]
        if exact:
            for f in exact:
                out.setdefault(f.slot, []).append((i, True))
            continue
        owners: list[_Finding] = []
        if e.kind == "warning":
            if not e.path and "output" in e.what:
                owners = [f for f in findings if e.example_id in f.executed_by and f.predicts(e.target, False)
                          and f.diag.source_line.strip().startswith("return")]
        elif e.localised:
            cls = top_class(e.path, e.line)
            owners = (_nearest_above(e, findings) or _in_callees(e, findings, by_id.get(e.example_id))
                      or [f for f in findings if f.state_class and f.state_class == cls and f.path == e.path
                          and e.example_id in f.executed_by and f.predicts(e.target, True)])
        else:
            owners = [f for f in findings if e.example_id in f.executed_by and f.predicts(e.target, True)]
        for f in owners:
            out.setdefault(f.slot, []).append((i, False))
    return out


def _unchecked(f: _Finding, refs: dict[int, ExampleRef], events: list[Event]) -> list[str]:
    """Notes for predicted targets whose capture failed elsewhere first, in every example that ran f."""
    notes = []
    for target, effect in f.diag.effects:
        if effect.outcome != FAIL:
            continue
        entries = [t for r in (refs[i] for i in f.executed_by) for t in (r.result or {}).get("targets", [])
                   if t["target"] == target]
        if entries and all(t["status"] == "error" for t in entries):
            loc = (entries[0].get("error") or {}).get("location") or {}
            where = f" at line {loc['line']}" if loc.get("line") and norm(loc.get("path", "")) == f.path else ""
            notes.append(f"{target}: not checked here: the capture failed first{where}")
    return notes


def assign(diagnostics: list[Diagnostic], events: list[Event], refs: list[ExampleRef],
           targets: tuple[str, ...]) -> tuple[list[Diagnostic], list[Event]]:
    """(diagnostics with verdicts, events left unexplained)."""
    out: list[Diagnostic] = []
    findings: list[_Finding] = []
    for d in diagnostics:
        if d.code in TOOL_CODES or is_dynamic_code(d.code):
            out.append(d)
            continue
        path = norm(d.path)
        span = set(range(d.line, max(d.end_line, d.line) + 1))
        executed = {r.id for r in refs if _executed(path, span, r)}
        findings.append(_Finding(len(out), d, path, span, executed, _state_class(path, d.line)))
        out.append(d)

    associated = _associate(events, findings, refs)
    explained = {i for pairs in associated.values() for i, _ in pairs}
    by_id = {r.id: r for r in refs}
    for f in findings:
        pairs = associated.get(f.slot, [])
        if pairs:
            out[f.slot] = replace(f.diag, verdict=CONFIRMED,
                                  evidence=_evidence([(events[i], exact) for i, exact in pairs]))
        elif f.executed_by:
            ran = [by_id[i] for i in sorted(f.executed_by)]
            names = ", ".join(r.label for r in ran[:3]) + (" ..." if len(ran) > 3 else "")
            runs = sum(len([x for x in (r.result or {}).get("runs", []) if x["status"] == "match"]) for r in ran)
            tried = sorted({t for r in ran for t in (r.result or {}).get("run_targets", [])},
                           key=lambda t: targets.index(t) if t in targets else 99)
            out[f.slot] = replace(f.diag, verdict=NOT_REPRODUCED, evidence=(
                f"executed by {names}; {runs} variant run(s) under {', '.join(tried) or 'no target'} "
                f"matched eager, with no error or TracerWarning here", *_unchecked(f, by_id, events)))
        else:
            why = "not executed by any example" if refs else "no example ran"
            out[f.slot] = replace(f.diag, verdict=NOT_REACHED, evidence=(why,))
    return out, [e for i, e in enumerate(events) if i not in explained and e.kind != "warning"]
