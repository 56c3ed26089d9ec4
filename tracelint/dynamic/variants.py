"""Inputs a capture must generalise to, derived from the one example the user gave.

check_trace re-runs the same example, so it never sees a trace fail to generalise; these variants
change what a capture may have baked in: the batch size (dim 0), the other lengths, and the
values (signs, magnitudes, zeros, a fresh draw). Integer inputs such as token ids keep their
observed range; variants identical to the example are dropped.
"""
from __future__ import annotations

from dataclasses import dataclass

from tracelint.dynamic import trees


@dataclass
class Variant:
    name: str
    inputs: tuple
    kind: str                 # example | batch | length | value | user
    static_dims_changed: bool = False   # a non-batch dimension changed (export declares those static)


def batch_size(inputs: tuple) -> int | None:
    """Dim 0 of the first tensor with at least one dimension: the batch size."""
    for t in trees.leaves(inputs):
        if t.dim() >= 1:
            return int(t.shape[0])
    return None


def _resize(t, dim: int, size: int):
    """Crop or repeat the tensor cyclically along `dim`: values stay the observed ones."""
    import torch

    old = t.shape[dim]
    if old == 0:
        shape = list(t.shape)
        shape[dim] = size
        return torch.zeros(shape, dtype=t.dtype)
    index = torch.arange(size) % old
    return t.index_select(dim, index)


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


def resize_batch(inputs: tuple, old: int, new: int) -> tuple:
    """The inputs with dim 0 of every batch-sized tensor changed from `old` to `new`."""
    return trees.tree_map(lambda t: _resize(t, 0, new) if t.dim() >= 1 and t.shape[0] == old else t, inputs)


def _batch_sizes(b: int) -> list[tuple[str, int]]:
    larger = 2 * b if b > 1 else 2
    odd = next(n for n in range(3, 4 * b + 8, 2) if n not in (b, larger))
    return [("batch=1", 1), (f"batch={larger}", larger), (f"batch={odd}", odd)]


def _length_sizes(inputs: tuple) -> list[int]:
    """Distinct sizes of the non-batch dimensions, in order of first appearance."""
    seen: list[int] = []
    for t in trees.leaves(inputs):
        for s in t.shape[1:]:
            if s not in seen and s > 0:
                seen.append(int(s))
    return seen


def generate(inputs: tuple, more_inputs: tuple = (), limit: int | None = None, seed: int = 0) -> list[Variant]:
    """The example first, then automatic variants (at most `limit`), then the user's more_inputs."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    auto: list[Variant] = []
    b = batch_size(inputs)
    shape_variants: list[Variant] = []
    if b is not None:
        for name, size in _batch_sizes(b):
            if size == b:
                continue
            shape_variants.append(Variant(name, resize_batch(inputs, b, size), "batch"))
    for s in _length_sizes(inputs)[:3]:
        new = s + max(1, s // 2)

        def grow(t, s=s, new=new):
            for d in range(1, t.dim()):
                if t.shape[d] == s:
                    t = _resize(t, d, new)
            return t
        shape_variants.append(Variant(f"len {s}->{new}", trees.tree_map(grow, inputs), "length",
                                      static_dims_changed=True))
    value_variants = [Variant(how, trees.tree_map(lambda t, how=how: _value(t, how, gen), inputs), "value")
                      for how in ("neg", "random", "x1e3", "zeros", "ones", "x1e-3")]
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
    for i, more in enumerate(more_inputs):
        static = _static_dims_differ(inputs, more)
        out.append(Variant(f"more_inputs[{i}]", more, "user", static_dims_changed=static))
    return out


def _static_dims_differ(a: tuple, b: tuple) -> bool:
    la, lb = trees.leaves(a), trees.leaves(b)
    if len(la) != len(lb):
        return True
    return any(x.dim() != y.dim() or tuple(x.shape[1:]) != tuple(y.shape[1:]) for x, y in zip(la, lb))
