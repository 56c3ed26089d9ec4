"""What the runner needs to know about one model: how to build it, its example input, and the
varied inputs on which eager and captured must agree. Runs inside a library venv: torch only."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

import torch


@dataclass
class Inputs:
    """Positional and keyword inputs of one call (keyword-only inputs are traced with
    `example_kwarg_inputs`, as Hugging Face models are)."""
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def call(self, model):
        return model(*self.args, **self.kwargs)


@dataclass
class ModelSpec:
    id: str                                  # "torchvision/resnet18"
    family: str                              # torchvision, timm, transformers, diffusers, local
    build: Callable[[], torch.nn.Module]
    example: Inputs
    variants: dict[str, Inputs]
    dynamic_batch: bool = True               # export with dim 0 of the top-level tensors dynamic
    note: str = ""


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(batch: int = 2, channels: int = 3, size: tuple[int, int] = (64, 64),
           other_size: tuple[int, int] | None = (96, 80), name: str | None = None) -> tuple[Inputs, dict]:
    """An image batch, with variants: batch 1 and 3, another size, other values."""
    def make(b, hw, seed, scale=1.0):
        return torch.randn(b, channels, *hw, generator=_generator(seed)) * scale

    def wrap(t):
        return Inputs(kwargs={name: t}) if name else Inputs(args=(t,))

    example = wrap(make(batch, size, 0))
    variants = {"batch1": wrap(make(1, size, 1)), "batch3": wrap(make(3, size, 2)),
                "values": wrap(make(batch, size, 3, scale=3.0))}
    if other_size is not None:
        variants["size"] = wrap(make(batch, other_size, 4))
    return example, variants


def videos(batch: int = 2, frames: int = 8, size: tuple[int, int] = (64, 64),
           other_frames: int = 12) -> tuple[Inputs, dict]:
    def make(b, t, seed, scale=1.0):
        return torch.randn(b, 3, t, *size, generator=_generator(seed)) * scale
    example = Inputs(args=(make(batch, frames, 0),))
    variants = {"batch1": Inputs(args=(make(1, frames, 1),)), "batch3": Inputs(args=(make(3, frames, 2),)),
                "frames": Inputs(args=(make(batch, other_frames, 4),)),
                "values": Inputs(args=(make(batch, frames, 3, 3.0),))}
    return example, variants


def tokens(vocab: int, batch: int = 2, length: int = 8, other_length: int = 13,
           mask: bool = True, extra: Callable[[int, int, int], dict] | None = None) -> tuple[Inputs, dict]:
    """Token ids (keyword `input_ids`) and an attention mask with padding in the second sample;
    variants: batch 1 and 3, another length, other ids with no padding."""
    def make(b, n, seed, pad=True):
        kw: dict[str, Any] = {"input_ids": torch.randint(0, vocab, (b, n), generator=_generator(seed))}
        if mask:
            m = torch.ones(b, n, dtype=torch.long)
            if pad and b > 1:
                m[1, -2:] = 0
            kw["attention_mask"] = m
        if extra is not None:
            kw.update(extra(b, n, seed))
        return Inputs(kwargs=kw)

    example = make(batch, length, 0)
    variants = {"batch1": make(1, length, 1), "batch3": make(3, length, 2),
                "length": make(batch, other_length, 4), "values": make(batch, length, 3, pad=False)}
    return example, variants


def flatten(value: Any) -> list[Any]:
    """Leaves of a nested output, in a stable order (tensors and Python scalars)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return [value]
    to_tuple = getattr(value, "to_tuple", None)
    if callable(to_tuple) and not isinstance(value, (tuple, list)):
        return flatten(to_tuple())
    if isinstance(value, dict):
        return [leaf for key in value for leaf in flatten(value[key])]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in flatten(item)]
    if dataclasses.is_dataclass(value):
        return [leaf for f in dataclasses.fields(value) for leaf in flatten(getattr(value, f.name))]
    sample = getattr(value, "sample", None)           # diffusers output objects
    if isinstance(sample, torch.Tensor):
        return [sample]
    return [repr(type(value))]


def compare(reference: Any, captured: Any, rtol: float = 1e-3, atol: float = 1e-4) -> tuple[bool, str]:
    """(same, what differs). Tensors are compared with a tolerance relative to their scale."""
    a, b = flatten(reference), flatten(captured)
    a = [x for x in a if x is not None]
    b = [x for x in b if x is not None]
    if len(a) != len(b):
        return False, f"{len(a)} outputs in eager, {len(b)} captured"
    worst = 0.0
    for i, (x, y) in enumerate(zip(a, b)):
        if isinstance(x, torch.Tensor) != isinstance(y, torch.Tensor):
            if isinstance(y, torch.Tensor) and y.numel() == 1 and not isinstance(x, str):
                y = y.item()
            else:
                return False, f"output {i}: {type(x).__name__} in eager, {type(y).__name__} captured"
        if not isinstance(x, torch.Tensor):
            if x != y:
                return False, f"output {i}: {x!r} in eager, {y!r} captured"
            continue
        if x.shape != y.shape:
            return False, f"output {i}: shape {tuple(x.shape)} in eager, {tuple(y.shape)} captured"
        if x.dtype != y.dtype:
            return False, f"output {i}: dtype {x.dtype} in eager, {y.dtype} captured"
        if x.numel() == 0:
            continue
        if not x.is_floating_point() and not x.is_complex():
            if not torch.equal(x, y):
                return False, f"output {i}: integer values differ"
            continue
        xf, yf = x.detach().double(), y.detach().double()
        finite = torch.isfinite(xf) & torch.isfinite(yf)
        if not torch.equal(torch.isnan(xf), torch.isnan(yf)) or not torch.equal(torch.isinf(xf), torch.isinf(yf)):
            return False, f"output {i}: NaN/inf pattern differs"
        if finite.any():
            diff = (xf[finite] - yf[finite]).abs().max().item()
            scale = xf[finite].abs().max().item()
            worst = max(worst, diff)
            if diff > atol + rtol * scale:
                return False, f"output {i}: max |diff| {diff:.3g} (scale {scale:.3g})"
    return True, f"max |diff| {worst:.3g}"
