"""Give every static finding a verdict per target from what the examples' forwards did.

Only a failure (a divergence, a captured model raising, a capture error) confirms, and only
through evidence at the finding; a TracerWarning alone never does, and an event no line could be
found for confirms nothing (it becomes its own TL9xx). A failure under a target the finding
predicts is associated with it when:
  1. it is localised inside the finding's lines;
  2. it is below the finding in the same function and its line uses a name the finding's line
     assigns (`sizes = []` then the failing `sizes.append(...)`);
  3. it is at a call into a function whose decorator or `def` line holds the finding (a
     `@torch.compiler.disable` or `@torch.jit.ignore` helper fails where it is called);
  4. the finding assigns an attribute in `__init__` or the class body (an unregistered list, a
     scripted submodule, a NumPy array) and the failure is in the same class on a line that
     uses that attribute - such hazards fail where the attribute is used, not where it is set.
Per target: confirmed (an associated failure); not-reproduced (the forward executed the finding
and the target was captured and run on every variant with nothing here); not-checked (executed,
but that target's capture failed elsewhere first or did not finish); not-reached (no forward
executed it). The summary verdict is the strongest of these. Events no finding explains are
returned (they become TL9xx findings).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from tracelint.diagnostics import Diagnostic
from tracelint.dynamic.events import NOT_CHECKED, Event, ExampleRef
from tracelint.dynamic.scopes import class_lines, function_at, in_class_body, scope_of, top_class
from tracelint.dynamic.userfiles import display_path, norm
from tracelint.targets import FAIL

CONFIRMED, NOT_REPRODUCED, NOT_CHECKED_VERDICT, NOT_REACHED = ("confirmed", "not-reproduced", "not-checked",
                                                              "not-reached")
ORDER = (CONFIRMED, NOT_REPRODUCED, NOT_CHECKED_VERDICT, NOT_REACHED)
TOOL_CODES = ("TL000", "TL001", "TL002")
MAX_EVIDENCE = 6

_ASSIGNED = re.compile(r"^\s*((?:[\w.]+\s*,\s*)*[\w.]+)\s*(?::[^=]+)?(?<![=!<>])=(?!=)")
_ATTRIBUTE = re.compile(r"^\s*self\.(\w+)\s*(?::[^=]+)?(?<![=!<>])=(?!=)")
_CLASS_ATTRIBUTE = re.compile(r"^\s*(\w+)\s*(?::[^=]+)?(?<![=!<>])=(?!=)")


def is_dynamic_code(code: str) -> bool:
    return code.startswith("TL9")


@dataclass
class _Finding:
    slot: int
    diag: Diagnostic
    path: str
    span: set[int]
    executed_by: set[int]          # example ids whose forward ran it
    state_attr: str                # the attribute it sets in __init__ / the class body, "" otherwise
    state_class: str
    assigned: tuple[str, ...]      # names its line assigns

    def predicts(self, target: str, strict: bool) -> bool:
        effects = self.diag.effect_map
        if not effects:
            return not strict
        e = effects.get(target)
        if e is None or not e.applies:
            return False
        return e.outcome == FAIL if strict else True

    def targets(self, run: tuple[str, ...]) -> list[str]:
        effects = self.diag.effect_map
        return [t for t in run if not effects or (t in effects and effects[t].applies)]


def _executed(path: str, span: set[int], ref: ExampleRef) -> bool:
    covered = ref.coverage.get(path, set())
    if span & covered:
        return True
    # class-body lines and __init__ run while the example is built: they count when the forward
    # executed that class
    line = min(span)
    cls = top_class(path, line)
    if cls and (in_class_body(path, line) or scope_of(path, line).endswith(".__init__")):
        return bool(set(class_lines(path, cls)) & covered)
    return False


def _line(path: str, line: int) -> str:
    import linecache

    return linecache.getline(path, line)


def _uses(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None


def _evidence(events: list[tuple[Event, bool]], extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    ordered = sorted(events, key=lambda p: (p[0].kind == "warning", not p[1], p[0].example_id))
    texts: list[str] = []
    for e, exact in ordered:
        t = e.evidence()
        if not exact:
            t += f" (at {display_path(e.path)}:{e.line})"
        if t not in texts:
            texts.append(t)
    texts.extend(x for x in extra if x not in texts)
    if len(texts) > MAX_EVIDENCE:
        texts = texts[:MAX_EVIDENCE] + [f"... and {len(texts) - MAX_EVIDENCE} more"]
    return tuple(texts)


def _below_in_function(e: Event, findings: list[_Finding]) -> list[_Finding]:
    body = function_at(e.path, e.line)
    if not body:
        return []
    text = _line(e.path, e.line)
    return [f for f in findings if f.path == e.path and min(f.span) in body and min(f.span) < e.line
            and e.example_id in f.executed_by and f.predicts(e.target, True)
            and any(_uses(text, n) for n in f.assigned)]


def _at_callee_header(e: Event, findings: list[_Finding], ref: ExampleRef | None) -> list[_Finding]:
    if ref is None:
        return []
    owners = []
    for path, first in ref.calls.get((e.path, e.line), ()):
        body = function_at(path, first)
        if not body:
            continue
        header = set(range(body.start, first + 1))   # decorators and the def line
        owners += [f for f in findings if f.path == path and min(f.span) in header
                   and f.predicts(e.target, True) and f not in owners]
    return owners


def _state_users(e: Event, findings: list[_Finding]) -> list[_Finding]:
    cls = top_class(e.path, e.line)
    if not cls:
        return []
    text = _line(e.path, e.line)
    return [f for f in findings if f.state_attr and f.state_class == cls and f.path == e.path
            and e.example_id in f.executed_by and f.predicts(e.target, True)
            and (_uses(text, f"self.{f.state_attr}") or _uses(text, f".{f.state_attr}"))]


def _associate(events: list[Event], findings: list[_Finding], refs: list[ExampleRef]) -> dict[int, list[tuple[int, bool]]]:
    """finding slot -> [(event index, exact?)] for every event it explains (warnings included,
    as supporting evidence only)."""
    by_id = {r.id: r for r in refs}
    out: dict[int, list[tuple[int, bool]]] = {}
    for i, e in enumerate(events):
        if e.kind in NOT_CHECKED or not e.localised:
            continue
        exact = [f for f in findings if f.path == e.path and e.line in f.span and f.predicts(e.target, False)]
        if exact:
            for f in exact:
                out.setdefault(f.slot, []).append((i, True))
            continue
        if e.kind == "warning":
            continue
        owners = (_below_in_function(e, findings) or _at_callee_header(e, findings, by_id.get(e.example_id))
                  or _state_users(e, findings))
        for f in owners:
            out.setdefault(f.slot, []).append((i, False))
    return out


def _finding(slot: int, d: Diagnostic, refs: list[ExampleRef]) -> _Finding:
    path = norm(d.path)
    span = set(range(d.line, max(d.end_line, d.line) + 1))
    executed = {r.id for r in refs if _executed(path, span, r)}
    source = d.source_line or _line(path, d.line)
    attr, cls = "", ""
    if in_class_body(path, d.line) or scope_of(path, d.line).endswith(".__init__"):
        m = _ATTRIBUTE.match(source) or (_CLASS_ATTRIBUTE.match(source) if in_class_body(path, d.line) else None)
        if m:
            attr, cls = m.group(1), top_class(path, d.line)
    m = _ASSIGNED.match(source)
    assigned = tuple(n.strip() for n in m.group(1).split(",")) if m else ()
    return _Finding(slot, d, path, span, executed, attr, cls, assigned)


def assign(diagnostics: list[Diagnostic], events: list[Event], refs: list[ExampleRef],
           targets: tuple[str, ...]) -> tuple[list[Diagnostic], list[Event]]:
    """(diagnostics with verdicts, events left unexplained)."""
    out: list[Diagnostic] = []
    findings: list[_Finding] = []
    for d in diagnostics:
        if d.code in TOOL_CODES or is_dynamic_code(d.code):
            out.append(d)
            continue
        findings.append(_finding(len(out), d, refs))
        out.append(d)

    associated = _associate(events, findings, refs)
    explained = {i for pairs in associated.values() for i, _ in pairs if events[i].kind != "warning"}
    by_id = {r.id: r for r in refs}
    for f in findings:
        pairs = associated.get(f.slot, [])
        failures = [(events[i], exact) for i, exact in pairs if events[i].failure]
        warnings_here = [(events[i], exact) for i, exact in pairs if events[i].kind == "warning"]
        per_target: dict[str, str] = {}
        notes: list[str] = []
        ran = [by_id[i] for i in sorted(f.executed_by)]
        for t in f.targets(targets):
            if any(e.target == t for e, _ in failures):
                per_target[t] = CONFIRMED
            elif not ran:
                per_target[t] = NOT_REACHED
            elif any(r.checked(t) for r in ran):
                per_target[t] = NOT_REPRODUCED
            else:
                per_target[t] = NOT_CHECKED_VERDICT
                notes.append(f"{t}: not checked: {ran[0].why_unchecked(t)}")
        summary = next((v for v in ORDER if v in per_target.values()), NOT_REACHED)
        verdicts = tuple(per_target.items())
        if failures:
            evidence = _evidence(failures + warnings_here, tuple(notes))
        elif ran:
            names = ", ".join(r.label for r in ran[:3]) + (" ..." if len(ran) > 3 else "")
            checked = [t for t, v in per_target.items() if v == NOT_REPRODUCED]
            runs = sum(len([x for x in (r.result or {}).get("runs", []) if x["status"] == "match"
                            and x["target"] in checked]) for r in ran)
            first = (f"executed by {names}; {runs} variant run(s) under {', '.join(checked)} matched eager, "
                     f"with no error here" if checked else f"executed by {names}")
            seen = [f"{e.target}: {e.what} here, but the outputs matched" for e, _ in warnings_here]
            evidence = (first, *dict.fromkeys(seen), *notes)
        else:
            evidence = ("not executed by any example's forward" if refs else "no example ran",)
        out[f.slot] = replace(f.diag, verdict=summary, verdicts=verdicts, evidence=evidence)
    return out, [e for i, e in enumerate(events) if i not in explained and e.kind != "warning"]
