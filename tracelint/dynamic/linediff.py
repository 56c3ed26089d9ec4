"""Name the line whose Python-level outcome differs between two eager runs.

A trace bakes in every Python decision made while tracing: which branch ran, how many times a
loop went round, which Python value a tensor was turned into. When the captured artefact diverges
on a variant without any warning, the first event where the example's run and the variant's run
part ways is the line that was baked in.
"""
from __future__ import annotations

import linecache
from typing import Any

from tracelint.dynamic.linetrace import Event

_LOOP_WORDS = ("for ", "while ", "async for ")


def first_difference(example: list[Event], variant: list[Event], variant_name: str, *,
                     values: bool = True, reference: str = "the example") -> dict[str, Any] | None:
    """Location dict {path, line, how, detail} of the first differing outcome, or None if identical.

    `values=False` compares control flow only (for a side recorded without conversion hooks);
    `reference` names the first run in the detail text.
    """
    if not values:
        example = [e for e in example if e[0] == "L"]
        variant = [e for e in variant if e[0] == "L"]
    n = min(len(example), len(variant))
    i = 0
    while i < n and example[i] == variant[i]:
        i += 1
    if i == len(example) and i == len(variant):
        return None
    a = example[i] if i < len(example) else None
    b = variant[i] if i < len(variant) else None
    if a is not None and b is not None and a[0] == "V" and b[0] == "V" and a[1:4] == b[1:4]:
        path, line, kind = a[1], a[2], a[3]
        return _loc(path, line, f"Tensor.{kind} gave {_show(a[4])} on {reference} and "
                                f"{_show(b[4])} on variant {variant_name}")
    j = _deciding_line(example, i, a, b)
    if j is None:
        return None
    path, line = example[j][1], example[j][2]
    return _loc(path, line, _describe_flow(example, variant, path, line, a, b, variant_name, reference))


def _depth(event) -> int | None:
    return event[3] if event is not None and event[0] == "L" and len(event) > 3 else None


def _deciding_line(example: list[Event], i: int, a, b) -> int | None:
    """Index of the line whose outcome sent the two runs apart at event i.

    It is the last line run before i in the frame that continued differently: not a helper
    called from a condition (`if not is_exporting() and n == 3:` runs the helper's lines after
    the `if` line) - the frame is the shallower of the last common event's and the deeper of
    the two next events'.
    """
    j = i - 1
    while j >= 0 and example[j][0] != "L":
        j -= 1
    if j < 0:
        return None
    last = _depth(example[j])
    nexts = [d for d in (_depth(a), _depth(b)) if d is not None]
    if last is None or not nexts:
        return j
    frame = min(last, max(nexts))
    k = j
    while k >= 0:
        e = example[k]
        if e[0] == "L":
            d = _depth(e)
            if d == frame:
                return k
            if d is not None and d < frame:
                break   # that frame had not started yet: keep the last line
        k -= 1
    return j


def _describe_flow(example, variant, path: str, line: int, a, b, variant_name: str, reference: str) -> str:
    text = linecache.getline(path, line).strip()
    count_a = sum(1 for e in example if e[0] == "L" and e[1] == path and e[2] == line)
    count_b = sum(1 for e in variant if e[0] == "L" and e[1] == path and e[2] == line)
    if text.startswith(_LOOP_WORDS) and count_a != count_b:
        # the header line runs once per iteration plus once when the loop ends
        return (f"loop runs {max(count_a - 1, 0)} times on {reference} and {max(count_b - 1, 0)} "
                f"times on variant {variant_name}")
    nxt_a = _next_line(a)
    nxt_b = _next_line(b)
    if nxt_a is not None and nxt_b is not None:
        return (f"control flow differs after this line: {reference} continues at line {nxt_a}, "
                f"variant {variant_name} at line {nxt_b}")
    return f"Python-level outcome of this line differs on variant {variant_name}"


def _next_line(event) -> int | None:
    if event is None:
        return None
    return event[2]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _loc(path: str, line: int, detail: str) -> dict[str, Any]:
    return {"path": path, "line": line, "how": "settrace", "detail": detail}
