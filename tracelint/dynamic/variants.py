"""Inputs a capture must generalise to, derived from the one example the user gave.

check_trace re-runs the same example, so it never sees a trace fail to generalise; these variants
change what a capture may have baked in: the batch size, the number of items of a list of
tensors (a list of images is a batch), the other lengths, the dtype, and the values (signs,
magnitudes, zeros, a fresh draw). An input is an (args, kwargs) pair. Integer inputs such as token
ids keep their observed range; attention-mask-like inputs (an argument named `*mask*`) keep their
values and follow the lengths consistently (padding stays padding); variants identical to the
example are dropped.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from tracelint.dynamic import trees

Call = tuple   # (args tuple, kwargs dict)


@dataclass
class Variant:
    name: str
    inputs: Call
    kind: str                 # example | batch | count | length | dtype | value | user


def parameter_names(model: Any, n_args: int) -> list[str]:
    """The names forward's positional parameters have, for the first `n_args` arguments."""
    try:
        fn = model.forward if hasattr(model, "forward") else model
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return [""] * n_args
    names: list[str] = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            names += [p.name] * max(0, n_args - len(names))
    return (names + [""] * n_args)[:n_args]


class Layout:
    """What the example's inputs look like: tensor leaves, lists of tensors, batch size, masks."""

    def __init__(self, inputs: Call, arg_names: list[str] | None = None) -> None:
        self.inputs = inputs
        args, _ = inputs
        names = arg_names or [""] * len(args)
        # path of a list-of-tensors argument (or part of one) -> length; not the argument tuple itself
        self.sequences = {p: n for p, n in trees.tensor_sequences(inputs) if len(p) >= 2}
        self.leaves = trees.with_paths(inputs)
        self.masks = {p for p, _ in self.leaves if _is_mask(_name(p, names))}
        top = [t for p, t in self.leaves if not self.in_sequence(p) and t.dim() >= 1]
        sizes = [int(t.shape[0]) for t in top]
        if sizes:
            self.batch: int | None = max(sorted(set(sizes)), key=sizes.count)   # the most common dim 0
            self.batch_from_sequence = False
        elif self.sequences:
            self.batch = next(iter(self.sequences.values()))
            self.batch_from_sequence = True
        else:
            self.batch, self.batch_from_sequence = None, False

    def in_sequence(self, path: tuple) -> bool:
        return path[:-1] in self.sequences

    def batch_dims(self, path: tuple, t) -> bool:
        return (not self.in_sequence(path) and t.dim() >= 1 and self.batch is not None
                and int(t.shape[0]) == self.batch)

    def length_dims(self, path: tuple, t) -> range:
        """The dimensions that are lengths (not the batch, not an item count)."""
        return range(1, t.dim())


def _name(path: tuple, arg_names: list[str]) -> str:
    if len(path) >= 2 and path[0] == 0 and isinstance(path[1], int) and path[1] < len(arg_names):
        return arg_names[path[1]]
    if len(path) >= 2 and path[0] == 1:
        return str(path[1])
    return ""


def _is_mask(name: str) -> bool:
    return "mask" in name.lower()


def _resize(t, dim: int, size: int, extend_last: bool = False):
    """Crop or grow the tensor along `dim`: cyclically (values stay observed ones), or by
    repeating the last slice (a mask keeps its padding at the end)."""
    import torch

    old = t.shape[dim]
    if old == 0:
        shape = list(t.shape)
        shape[dim] = size
        return torch.zeros(shape, dtype=t.dtype)
    index = torch.arange(size)
    index = index.clamp(max=old - 1) if extend_last else index % old
    return t.index_select(dim, index)


def _resize_sequence(seq, size: int):
    items = [seq[i % len(seq)] for i in range(size)]
    return type(seq)(items)


def _int_range(t) -> tuple[int, int]:
    if t.numel() == 0:
        return 0, 1
    lo, hi = int(t.min()), int(t.max())
    if lo == hi:  # one observed value: widen towards 0 so a draw can differ
        lo, hi = (0, hi) if hi > 0 else ((0, 1) if hi == 0 else (lo, 0))
    return lo, hi


def _value(t, how: str, gen):
    import torch

    if t.dtype == torch.bool:
        if how == "neg":
            return ~t
        if how == "zeros":
            return torch.zeros_like(t)
        if how == "ones":
            return torch.ones_like(t)
        if how == "random":
            return torch.rand(t.shape, generator=gen) < 0.5
        return t
    if not (t.is_floating_point() or t.is_complex()):
        lo, hi = _int_range(t)
        if how == "zeros":
            return torch.full_like(t, lo)
        if how == "ones":
            return torch.full_like(t, hi)
        if how == "random":
            return torch.randint(lo, hi + 1, t.shape, generator=gen, dtype=t.dtype)
        return t  # negating or scaling ids would leave their range
    if how == "neg":
        return -t
    if how == "x1e3":
        return t * 1e3
    if how == "x1e-3":
        return t * 1e-3
    if how == "zeros":
        return torch.zeros_like(t)
    if how == "ones":
        return torch.ones_like(t)
    if how == "random":
        real = t.real if t.is_complex() else t
        if t.numel() and float(real.min()) < float(real.max()):
            lo, hi = float(real.min()), float(real.max())
            draw = torch.rand(t.shape, generator=gen, dtype=torch.float64) * (hi - lo) + lo
        else:
            draw = torch.randn(t.shape, generator=gen, dtype=torch.float64)
        return draw.to(t.dtype)
    return t


def resize_batch(inputs: Call, layout: Layout, new: int) -> Call:
    """The inputs with the batch changed to `new`: dim 0 of batch-sized tensors, and the length
    of lists of tensors that hold one item per batch element."""
    out = trees.map_with_path(
        lambda p, t: _resize(t, 0, new) if layout.batch_dims(p, t) else t, inputs)
    for path, n in layout.sequences.items():
        if n == layout.batch:
            out = trees.replace_at(out, path, _resize_sequence(trees.get(out, path), new))
    return out


def _batch_sizes(b: int) -> list[tuple[str, int]]:
    larger = 2 * b if b > 1 else 2
    odd = next(n for n in range(3, 4 * b + 8, 2) if n not in (b, larger))
    return [("batch=1", 1), (f"batch={larger}", larger), (f"batch={odd}", odd)]


def _length_sizes(layout: Layout) -> list[int]:
    """Distinct sizes of the length dimensions, in order of first appearance."""
    seen: list[int] = []
    for p, t in layout.leaves:
        for d in layout.length_dims(p, t):
            s = int(t.shape[d])
            if s not in seen and s > 0:
                seen.append(s)
    return seen


def _grow(layout: Layout, s: int, new: int):
    def grow(path, t):
        for d in layout.length_dims(path, t):
            if t.shape[d] == s:
                t = _resize(t, d, new, extend_last=path in layout.masks)
        return t
    return grow


def _dtype_variants(layout: Layout) -> list[tuple[str, Any]]:
    import torch

    out = []
    if any(t.dtype == torch.float32 for _, t in layout.leaves):
        out.append(("float64", lambda p, t: t.double() if t.dtype == torch.float32 else t))
    if any(t.dtype == torch.int64 for _, t in layout.leaves):
        out.append(("int32", lambda p, t: t.int() if t.dtype == torch.int64 else t))
    return out


def generate(inputs: Call, more_inputs: tuple = (), limit: int | None = None, seed: int = 0, *,
             more_kwargs: tuple = (), arg_names: list[str] | None = None) -> list[Variant]:
    """The example first, then automatic variants (at most `limit`), then the user's more_inputs
    and more_kwargs."""
    import torch

    if not (isinstance(inputs, tuple) and len(inputs) == 2 and isinstance(inputs[1], dict)):
        inputs = (tuple(inputs), {})
    gen = torch.Generator().manual_seed(seed)
    layout = Layout(inputs, arg_names)
    shape_variants: list[Variant] = []
    b = layout.batch
    if b is not None:
        for name, size in _batch_sizes(b):
            if size != b:
                shape_variants.append(Variant(name, resize_batch(inputs, layout, size), "batch"))
    for path, n in layout.sequences.items():
        if n != b:   # a list that is not the batch: one more item
            grown = trees.replace_at(inputs, path, _resize_sequence(trees.get(inputs, path), n + 1))
            shape_variants.append(Variant(f"items {n}->{n + 1}", grown, "count"))
    for s in _length_sizes(layout)[:3]:
        new = s + max(1, s // 2)
        shape_variants.append(Variant(f"len {s}->{new}", trees.map_with_path(_grow(layout, s, new), inputs),
                                      "length"))
    for name, fn in _dtype_variants(layout):
        shape_variants.append(Variant(name, trees.map_with_path(fn, inputs), "dtype"))

    def values(how: str):
        return trees.map_with_path(lambda p, t: t if p in layout.masks else _value(t, how, gen), inputs)

    value_variants = [Variant(how, values(how), "value") for how in ("neg", "random", "x1e3", "zeros", "ones", "x1e-3")]
    auto: list[Variant] = []
    # interleave so a small --variants budget still covers shapes and values
    while shape_variants or value_variants:
        if shape_variants:
            auto.append(shape_variants.pop(0))
        if value_variants:
            auto.append(value_variants.pop(0))

    out = [Variant("example", inputs, "example")]
    seen = {trees.digest(inputs)}
    kept = 0
    for v in auto:
        if limit is not None and kept >= limit:
            break
        d = trees.digest(v.inputs)
        if d in seen:
            continue
        seen.add(d)
        out.append(v)
        kept += 1
    args, kwargs = inputs
    for i, more in enumerate(more_inputs):
        out.append(Variant(f"more_inputs[{i}]", (tuple(more), dict(kwargs)), "user"))
    for i, more in enumerate(more_kwargs):
        out.append(Variant(f"more_kwargs[{i}]", (args, {**kwargs, **more}), "user"))
    return out


def changed_dims(variants: list[Variant]) -> dict[tuple, set[int]]:
    """Leaf path -> the dimensions whose size some variant changes (for export's dynamic shapes)."""
    if not variants:
        return {}
    base = dict(trees.with_paths(variants[0].inputs))
    out: dict[tuple, set[int]] = {}
    for v in variants[1:]:
        for path, t in trees.with_paths(v.inputs):
            ref = base.get(path)
            if ref is None or ref.dim() != t.dim():
                continue
            for d in range(t.dim()):
                if int(ref.shape[d]) != int(t.shape[d]):
                    out.setdefault(path, set()).add(d)
    return out
