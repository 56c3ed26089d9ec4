"""Compare an eager output with a captured one over nested structures, dtype-aware.

Shape, dtype, structure and NaN/inf placement differences count as divergence; values are
compared with tolerances that follow the eager tensor's dtype unless the user gives rtol/atol.
Equivalent containers are compared by value: a list and a tuple, a namedtuple and a tuple, a
ModelOutput (or any mapping) and the tuple of its values; the container difference itself is
returned as a note (TorchScript returns tuples where eager returns lists, by design), not as a
divergence.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from tracelint.dynamic import trees

# (rtol, atol) per dtype: captured graphs may reorder float ops, never change integer results
_TOLERANCES = {
    "float64": (1e-6, 1e-8), "complex128": (1e-6, 1e-8),
    "float32": (1e-4, 1e-5), "complex64": (1e-4, 1e-5),
    "float16": (1e-2, 1e-3), "bfloat16": (1.6e-2, 1e-2),
}


@dataclasses.dataclass
class Comparison:
    match: bool
    max_abs_diff: float | None = None
    why: str = ""            # what differed, for the table and the message
    notes: list[str] = dataclasses.field(default_factory=list)   # equivalent containers of other types

    def to_dict(self) -> dict[str, Any]:
        return {"match": self.match, "max_abs_diff": self.max_abs_diff, "why": self.why}


def tolerances(dtype, rtol: float | None, atol: float | None) -> tuple[float, float]:
    name = str(dtype).replace("torch.", "")
    if name not in _TOLERANCES:
        return (rtol or 0.0, atol or 0.0)
    r, a = _TOLERANCES[name]
    return (r if rtol is None else rtol, a if atol is None else atol)


class _Diverged(Exception):
    pass


def compare(eager: Any, captured: Any, rtol: float | None = None, atol: float | None = None) -> Comparison:
    state: dict[str, Any] = {"max": 0.0, "notes": []}
    try:
        inner = _wrapped(eager, captured)
        if inner is not None:
            i, captured = inner
            state["notes"].append(f"output: captured gives a tuple holding the eager output at [{i}] and other "
                                  "items with no tensors (compared by value)")
        _walk(eager, captured, "output", rtol, atol, state)
    except _Diverged as d:
        return Comparison(False, state.get("bad"), str(d), state["notes"])
    except Exception as e:  # noqa: BLE001 - a comparison bug must not look like a capture failure
        return Comparison(False, None, f"could not compare outputs: {type(e).__name__}: {e}")
    return Comparison(True, state["max"], "", state["notes"])


def _holds_tensors(x: Any) -> bool:
    return any(trees.is_tensor(v) for v in trees.leaves(trees.plain(x)))


def _wrapped(eager: Any, captured: Any) -> tuple[int, Any] | None:
    """(i, captured[i]) when the captured model wraps the eager output in a tuple whose other items
    hold no tensors: torchvision's detection models return `(losses, detections)` when scripted
    (by design) and `detections` in eager mode. None when the outputs line up item by item."""
    captured = trees.plain(captured)
    if not isinstance(captured, tuple) or len(captured) < 2 or not _holds_tensors(eager):
        return None
    holding = [i for i, item in enumerate(captured) if _holds_tensors(item)]
    if len(holding) != 1:
        return None
    eager = trees.plain(eager)
    if isinstance(eager, (tuple, list)) and len(eager) == len(captured) and \
            [i for i, item in enumerate(eager) if _holds_tensors(item)] == holding:
        return None
    return holding[0], captured[holding[0]]


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _walk(a: Any, b: Any, where: str, rtol, atol, state) -> None:
    a, b = trees.plain(a), trees.plain(b)
    if trees.is_tensor(a) or trees.is_tensor(b):
        if not (trees.is_tensor(a) and trees.is_tensor(b)):
            raise _Diverged(f"{where}: eager gives {_kind(a)}, captured gives {_kind(b)}")
        _tensor(a, b, where, rtol, atol, state)
        return
    seq = (tuple, list)
    if isinstance(a, Mapping) and isinstance(b, seq) or isinstance(a, seq) and isinstance(b, Mapping):
        _note(state, where, a, b)   # a ModelOutput/dict and the tuple of its values
        a, b = (list(a.values()) if isinstance(a, Mapping) else a), (list(b.values()) if isinstance(b, Mapping) else b)
        if len(a) != len(b):
            raise _Diverged(f"{where}: eager gives {len(a)} items, captured gives {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            _walk(x, y, f"{where}[{i}]", rtol, atol, state)
        return
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        if not (isinstance(a, Mapping) and isinstance(b, Mapping)):
            raise _Diverged(f"{where}: eager gives {_kind(a)}, captured gives {_kind(b)}")
        if set(a) != set(b):
            raise _Diverged(f"{where}: keys differ: eager {sorted(map(str, a))} vs captured {sorted(map(str, b))}")
        if type(a) is not type(b):
            _note(state, where, a, b)
        for k in a:
            _walk(a[k], b[k], f"{where}[{k!r}]", rtol, atol, state)
        return
    if isinstance(a, seq) or isinstance(b, seq):
        if not (isinstance(a, seq) and isinstance(b, seq)):
            raise _Diverged(f"{where}: eager gives {_kind(a)}, captured gives {_kind(b)}")
        if _is_namedtuple(a) and _is_namedtuple(b) and tuple(a._fields) != tuple(b._fields):
            raise _Diverged(f"{where}: fields differ: eager {a._fields} vs captured {b._fields}")
        if type(a) is not type(b):
            _note(state, where, a, b)
        if len(a) != len(b):
            raise _Diverged(f"{where}: eager gives {len(a)} items, captured gives {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            _walk(x, y, f"{where}[{i}]", rtol, atol, state)
        return
    if isinstance(a, float) or isinstance(b, float):
        if not (isinstance(b, (int, float)) and isinstance(a, (int, float))):
            raise _Diverged(f"{where}: eager gives {a!r}, captured gives {b!r}")
        if math.isnan(a) and math.isnan(b):
            return
        r, t = (1e-6 if rtol is None else rtol), (1e-8 if atol is None else atol)
        diff = abs(a - b)
        if not diff <= t + r * abs(a):
            state["bad"] = diff
            raise _Diverged(f"{where}: eager {a!r} vs captured {b!r}")
        state["max"] = max(state["max"], diff)
        return
    if a != b:
        raise _Diverged(f"{where}: eager {_short(a)} vs captured {_short(b)}")


def _note(state, where: str, a: Any, b: Any) -> None:
    text = f"{where}: eager gives {_kind(a)}, captured gives {_kind(b)} (compared by value)"
    if text not in state["notes"]:
        state["notes"].append(text)


def _tensor(a, b, where: str, rtol, atol, state) -> None:
    import torch

    if tuple(a.shape) != tuple(b.shape):
        raise _Diverged(f"{where}: shape {tuple(a.shape)} (eager) vs {tuple(b.shape)} (captured)")
    if a.dtype != b.dtype:
        raise _Diverged(f"{where}: dtype {a.dtype} (eager) vs {b.dtype} (captured)")
    if a.device.type == "meta" or b.device.type == "meta" or a.numel() == 0:
        return
    a, b = a.detach().cpu(), b.detach().cpu()
    if not (a.is_floating_point() or a.is_complex()):
        if not torch.equal(a, b):
            d = (a.long() - b.long()).abs().max().item() if a.dtype != torch.bool else 1
            state["bad"] = float(d)
            raise _Diverged(f"{where}: values differ (max |diff| {_num(d)}): {_sample(a, b)}")
        return
    r, t = tolerances(a.dtype, rtol, atol)
    a64 = a.to(torch.complex128 if a.is_complex() else torch.float64)
    b64 = b.to(a64.dtype)
    nan_a, nan_b = torch.isnan(a64), torch.isnan(b64)
    if not torch.equal(nan_a, nan_b):
        state["bad"] = float("nan")
        side = "captured" if nan_b.any() and not nan_a.any() else "eager"
        raise _Diverged(f"{where}: NaN where the other has a number ({side} output has NaN)")
    inf_a, inf_b = torch.isinf(a64), torch.isinf(b64)
    if not torch.equal(inf_a, inf_b) or not torch.equal(a64[inf_a], b64[inf_b]):
        state["bad"] = float("inf")
        raise _Diverged(f"{where}: infinities differ")
    finite = ~(nan_a | inf_a)
    if finite.any():
        diff = (a64[finite] - b64[finite]).abs()
        md = float(diff.max())
        ok = bool((diff <= t + r * a64[finite].abs()).all())
        if not ok:
            state["bad"] = md
            raise _Diverged(f"{where}: values differ (max |diff| {_num(md)}): {_sample(a, b)}")
        state["max"] = max(state["max"], md)


def _sample(a, b) -> str:
    def s(t):
        vals = t.flatten()[:4].tolist()
        return "[" + ", ".join(_num(v) for v in vals) + (", ..." if t.numel() > 4 else "") + "]"
    return f"eager {s(a)} vs captured {s(b)}"


def _num(v: Any) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, complex):
        return f"{v:.4g}"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _kind(x: Any) -> str:
    if trees.is_tensor(x):
        return "a tensor"
    if _is_namedtuple(x):
        return f"a namedtuple {type(x).__name__}"
    return f"a {type(x).__name__}"


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."
