"""Turn events no static finding explains into TL901/TL902/TL903 diagnostics, one per line and code."""
from __future__ import annotations

import linecache

from tracelint.diagnostics import Diagnostic, Severity
from tracelint.dynamic.events import Event
from tracelint.dynamic.scopes import scope_of
from tracelint.dynamic.userfiles import display_path
from tracelint.targets import TARGETS, fail

_CODES = {"diverged": "TL901", "error": "TL902", "capture-error": "TL902", "example-failed": "TL903",
          "not-checked": "TL903"}
_NAMES = {"TL901": "capture-divergence", "TL902": "capture-error", "TL903": "example-failed"}


def _advice(e: Event) -> str:
    """What to do, from how the line was found."""
    detail = e.detail
    if e.how == "settrace" and detail.startswith("loop runs"):
        return ("the capture unrolled this loop for the example's size: loop over a fixed count or use tensor "
                "ops over the dimension (or torch.jit.script this part)")
    if e.how == "settrace" and detail.startswith("Tensor."):
        return ("a tensor became a Python value here and the capture froze it: keep it a tensor "
                "(tensor indexing, torch.where, torch.gather) or move the decision out of forward")
    if e.how == "settrace":
        return ("this line took another path on the variant than during capture and the capture kept the "
                "capture's path: use torch.where / torch.cond, or move the decision out of forward")
    if e.how == "specialization":
        return "this line turns a dynamic size into a Python value: keep it symbolic (tensor ops, x.size(d) in ops)"
    if e.how == "tracer-warning":
        return f"the TracerWarning here explains it ({detail})" if detail else "see the TracerWarning at this line"
    if e.how == "guard":
        return ("export guarded a dynamic size here and the variant breaks the guard: keep the size symbolic "
                "(no Python branch or arithmetic on it) or declare the constraint")
    if e.how == "fallback" and e.kind == "capture-error":
        return ("the error names no line of the model's code (reported at forward): it concerns forward's "
                "signature, inputs or outputs, or the module as a whole")
    if e.how == "fallback":
        return ("no line could be named (no Python-level difference between the runs; reported at forward): "
                "look for state the capture froze (attributes, globals, buffers) or a semantic difference "
                "of the mechanism")
    return ""


def _variants(events: list[Event], limit: int = 4) -> str:
    names: list[str] = []
    for e in events:
        if e.variant and e.variant not in names:
            names.append(e.variant)
    text = ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
    return f"variant{'s' if len(names) > 1 else ''} {text}" if names else "the example"


def _per_target(group: list[Event]) -> str:
    """`trace: capture fails: X; script: capture fails: Y` - one clause per target, first event each."""
    parts = []
    for t in TARGETS:
        mine = [e for e in group if e.target == t]
        if not mine:
            continue
        first = mine[0]
        if first.kind == "capture-error":
            text = f"{t}: capture fails: {first.what}"
            runs = [e for e in mine if e.kind == "error"]
            if runs:
                text += f"; the captured model also raises on {_variants(runs)}"
        elif first.kind == "error":
            text = f"{t}: the captured model raises on {_variants(mine)} (eager does not): {first.what}"
        else:
            text = f"{t}: output differs from eager on {_variants(mine)}: {first.what}"
        parts.append(text)
    return "; ".join(parts)


def _message(code: str, group: list[Event]) -> str:
    first = group[0]
    if code == "TL903":
        return f"{first.example}: {first.what}"
    text = _per_target(group)
    if first.detail:
        text += f" [{first.detail}]"
    advice = _advice(first)
    return f"{text}. Fix: {advice}" if advice else text


def _effects(code: str, group: list[Event], run_targets: tuple[str, ...]):
    if code == "TL903":
        named = [e.target for e in group if e.target]
        return tuple((t, fail("not checked")) for t in (named or run_targets))
    effects = []
    for t in TARGETS:
        mine = [e for e in group if e.target == t]
        if not mine:
            continue
        if code == "TL901":
            text = f"wrong output on {_variants(mine)}"
        elif any(e.kind == "capture-error" for e in mine):
            text = "capture fails"
        else:
            text = f"raises on {_variants(mine)}"
        effects.append((t, fail(text)))
    return tuple(effects)


def build(unexplained: list[Event], run_targets: tuple[str, ...], fallback_display: dict[int, str]) -> list[Diagnostic]:
    groups: dict[tuple[str, str, int], list[Event]] = {}
    for e in unexplained:
        code = _CODES[e.kind]
        groups.setdefault((code, e.path or f"<{e.example_id}>", e.line), []).append(e)
    out: list[Diagnostic] = []
    for (code, _, line), group in groups.items():
        group.sort(key=lambda e: (e.kind != "capture-error", TARGETS.index(e.target) if e.target in TARGETS else 9))
        first = group[0]
        if first.path:
            display = display_path(first.path)
            src = linecache.getline(first.path, line).rstrip("\n")
        else:
            display, src = fallback_display.get(first.example_id, first.example), ""
        col = len(src) - len(src.lstrip()) + 1 if src.strip() else 1
        evidence: list[str] = []
        for e in group if code != "TL903" else ():   # TL903's message says it all
            t = e.evidence()
            if t not in evidence:
                evidence.append(t)
        if len(evidence) > 8:
            evidence = evidence[:8] + [f"... and {len(evidence) - 8} more"]
        effects = _effects(code, group, run_targets)
        verdict = "not-checked" if code == "TL903" else "confirmed"
        out.append(Diagnostic(
            path=display, line=line, column=col, end_line=line, end_column=max(len(src) + 1, col + 1),
            code=code, name=_NAMES[code], message=_message(code, group), severity=Severity.ERROR,
            effects=effects, scope=scope_of(first.path, line) if first.path else "",
            help=_help(code), source_line=src, verdict=verdict,
            verdicts=tuple((t, verdict) for t, _ in effects), evidence=tuple(evidence),
            short=_short(code)))
    return out


def _short(code: str) -> str:
    from tracelint.rules import all_rules

    rule = all_rules().get(code)
    return rule.short_message if rule is not None else ""


def _help(code: str) -> str:
    from tracelint.rules import all_rules

    rule = all_rules().get(code)
    return rule.help if rule is not None else ""
