"""Turn events no static finding explains into TL901/TL902/TL903 diagnostics, one per line and code."""
from __future__ import annotations

import ast
import linecache
from functools import lru_cache

from tracelint.diagnostics import Diagnostic, Severity
from tracelint.dynamic.events import Event
from tracelint.dynamic.userfiles import display_path
from tracelint.targets import TARGETS, fail

_CODES = {"diverged": "TL901", "error": "TL902", "capture-error": "TL902", "example-failed": "TL903"}
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
        return ("this line took another path on the variant than on the example and the capture kept the "
                "example's: use torch.where / torch.cond, or move the decision out of forward")
    if e.how == "specialization":
        return "this line turns a dynamic size into a Python value: keep it symbolic (tensor ops, x.size(d) in ops)"
    if e.how == "tracer-warning":
        return f"the TracerWarning here explains it ({detail})" if detail else "see the TracerWarning at this line"
    if e.how == "fallback":
        return "no line could be named: compare eager and captured outputs on this variant to find the cause"
    return ""


def _variants(events: list[Event], limit: int = 4) -> str:
    names: list[str] = []
    for e in events:
        if e.variant and e.variant not in names:
            names.append(e.variant)
    text = ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
    return f"variant{'s' if len(names) > 1 else ''} {text}" if names else "the example"


def _message(code: str, group: list[Event]) -> str:
    first = group[0]
    targets = [t for t in TARGETS if any(e.target == t for e in group)]
    tgt = ", ".join(targets)
    if code == "TL903":
        return f"{first.example}: {first.what}" + (f" ({first.detail})" if first.detail else "")
    if code == "TL901":
        text = f"{tgt}: output differs from eager on {_variants(group)}: {first.what}"
    elif first.kind == "capture-error":
        text = f"{tgt}: capture fails: {first.what}"
        runs = [e for e in group if e.kind == "error"]
        if runs:
            text += f"; the captured model also raises on {_variants(runs)}"
    else:
        text = f"{tgt}: the captured model raises on {_variants(group)} (eager does not): {first.what}"
    if first.detail:
        text += f" [{first.detail}]"
    advice = _advice(first)
    return f"{text}. Fix: {advice}" if advice else text


def _effects(code: str, group: list[Event], run_targets: tuple[str, ...]):
    if code == "TL903":
        return tuple((t, fail("not checked: the example did not run")) for t in run_targets)
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


@lru_cache(maxsize=256)
def _scopes(path: str) -> tuple[tuple[int, int, str], ...]:
    try:
        tree = ast.parse("".join(linecache.getlines(path)))
    except (SyntaxError, ValueError):
        return ()
    out: list[tuple[int, int, str]] = []

    def walk(node, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}.{child.name}" if prefix else child.name
                out.append((child.lineno, child.end_lineno or child.lineno, name))
                walk(child, name)
            else:
                walk(child, prefix)

    walk(tree, "")
    return tuple(out)


def scope_of(path: str, line: int) -> str:
    """The innermost function or class around `line` (`Model.forward`), for the scope field."""
    best = ""
    for start, end, name in _scopes(path):
        if start <= line <= end:
            best = name
    return best


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
        for e in group:
            t = e.evidence()
            if t not in evidence:
                evidence.append(t)
        if len(evidence) > 8:
            evidence = evidence[:8] + [f"... and {len(evidence) - 8} more"]
        out.append(Diagnostic(
            path=display, line=line, column=col, end_line=line, end_column=max(len(src) + 1, col + 1),
            code=code, name=_NAMES[code], message=_message(code, group), severity=Severity.ERROR,
            effects=_effects(code, group, run_targets),
            scope=scope_of(first.path, line) if first.path else "",
            help=_help(code), source_line=src, verdict="confirmed", evidence=tuple(evidence)))
    return out


def _help(code: str) -> str:
    from tracelint.rules import all_rules

    rule = all_rules().get(code)
    return rule.help if rule is not None else ""
