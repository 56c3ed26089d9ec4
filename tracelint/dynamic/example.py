"""What users return from `tracelint_examples()`: a model, its inputs, and what else to try.

Plain data with no torch import, so `import tracelint.dynamic` stays cheap and torch-free.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from tracelint.targets import TARGETS, parse_targets


class ExampleError(Exception):
    """`tracelint_examples()` returned something that is not an example."""


@dataclass
class Example:
    """One model on one example input.

    `inputs` is the tuple of positional arguments (tensors, or nested tuples/lists/dicts of
    tensors) and `kwargs` the keyword arguments (`input_ids=..., attention_mask=...`);
    `more_inputs` are extra positional-argument tuples the user knows matter (with the example's
    kwargs), `more_kwargs` extra keyword dicts (each replaces those keys of `kwargs`, with the
    example's positional inputs); `targets` limits the capture mechanisms tried for this example
    (None: the run's targets); `train=True` keeps the model in training mode instead of `.eval()`.
    """

    module: Any
    inputs: Any = ()
    name: str | None = None
    more_inputs: Iterable[Any] = ()
    targets: Iterable[str] | None = None
    train: bool = False
    kwargs: dict[str, Any] | None = None
    more_kwargs: Iterable[dict[str, Any]] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.inputs, tuple):
            # a single tensor (or list) is the one positional argument, as torch.jit.trace does it
            self.inputs = (self.inputs,)
        self.more_inputs = tuple(m if isinstance(m, tuple) else (m,) for m in self.more_inputs)
        self.kwargs = dict(self.kwargs or {})
        if any(not isinstance(k, str) for k in self.kwargs):
            raise ExampleError("Example(kwargs=...): keys must be argument names (str)")
        self.more_kwargs = tuple(dict(m) for m in self.more_kwargs)
        if self.targets is not None:
            if isinstance(self.targets, str):
                self.targets = (self.targets,)
            self.targets = parse_targets(self.targets)

    def run_targets(self, requested: Iterable[str]) -> tuple[str, ...]:
        """The targets to try: the run's, narrowed to the example's own list when it has one."""
        requested = tuple(requested)
        if self.targets is None:
            return requested
        return tuple(t for t in TARGETS if t in requested and t in self.targets)


def as_examples(values: Any) -> list[Example]:
    """Normalise what `tracelint_examples()` returned: Examples or `(module, inputs)` tuples."""
    if values is None:
        raise ExampleError("tracelint_examples() returned None; return an iterable of examples")
    if isinstance(values, (Example, tuple)) and _looks_like_one(values):
        values = [values]
    out: list[Example] = []
    try:
        items = list(values)
    except TypeError:
        raise ExampleError(f"tracelint_examples() returned {type(values).__name__}, not an iterable") from None
    for i, item in enumerate(items):
        if isinstance(item, Example):
            out.append(item)
        elif isinstance(item, tuple) and len(item) == 2:
            out.append(Example(item[0], item[1]))
        else:
            raise ExampleError(f"example {i}: expected tracelint.Example or (module, inputs), "
                               f"got {type(item).__name__}")
    return out


def _looks_like_one(value: Any) -> bool:
    # a bare (module, inputs) pair, as opposed to a tuple of examples
    if isinstance(value, Example):
        return True
    return len(value) == 2 and callable(value[0]) and not isinstance(value[0], (Example, tuple))


def example_names(examples: list[Example]) -> list[str]:
    """Stable, unique display names: the given name, else the model's class name (#n if repeated)."""
    base = [e.name or type(e.module).__name__ for e in examples]
    counts: dict[str, int] = {}
    for b in base:
        counts[b] = counts.get(b, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for b in base:
        if counts[b] > 1:
            seen[b] = seen.get(b, 0) + 1
            out.append(f"{b}#{seen[b]}")
        else:
            out.append(b)
    return out
