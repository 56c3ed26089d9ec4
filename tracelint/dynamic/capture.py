"""Capture a model once on its example with each mechanism, as a user would, and record warnings.

trace: torch.jit.trace(check_trace=False) - check_trace only re-runs the same input, and it runs
forward up to 4 more times (mutating state); TracerWarnings are recorded with torch's own filter
that ignores library frames kept in place. script: torch.jit.script. export: torch.export.export
with dim 0 of every batch-sized tensor declared Dim.DYNAMIC, run through `.module()`.
compile: torch.compile(fullgraph=True); it compiles on the first call, which is made here.
"""
from __future__ import annotations

import contextlib
import re
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from tracelint.dynamic import trees
from tracelint.dynamic.symsites import SymSites
from tracelint.dynamic.userfiles import is_user_file

# torch.jit.* announces its deprecation on every call; it says nothing about the model
JIT_DEPRECATION = (r"`?torch\.jit\.\w+`? is deprecated", r"`?torch\.jit\.\w+`? is not supported in Python 3\.1[4-9]")


def filter_jit_deprecations() -> None:
    for pattern in JIT_DEPRECATION:
        warnings.filterwarnings("ignore", message=pattern, category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=pattern, category=FutureWarning)


@contextlib.contextmanager
def recording_warnings():
    """Record warnings as the user would see them, minus the torch.jit deprecation notices."""
    import torch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.jit.TracerWarning.ignore_lib_warnings()   # torch's default: library frames never warn
        filter_jit_deprecations()
        yield caught


def summarize_warnings(caught: list) -> list[dict[str, Any]]:
    """User-file warnings, plus TracerWarnings raised inside torch.jit itself (e.g. "a list at the
    output of the tracer", path None); deduplicated by (category, line, text)."""
    out, seen = [], set()
    for w in caught:
        path = w.filename or ""
        if not is_user_file(path):
            if w.category.__name__ != "TracerWarning":
                continue
            path = None
        msg = str(w.message).strip()
        key = (w.category.__name__, path, w.lineno, msg[:200])
        if key in seen:
            continue
        seen.add(key)
        out.append({"category": w.category.__name__, "message": _first_sentence(msg),
                    "path": path, "line": w.lineno})
    return out


def _first_sentence(msg: str, limit: int = 200) -> str:
    first = msg.splitlines()[0] if msg else ""
    m = re.match(r"(.+?\.)(\s|$)", first)
    text = m.group(1) if m else first
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Captured:
    target: str
    fn: Callable[..., Any] | None = None
    error: BaseException | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    first_output: Any = None          # compile: the output of the compiling call on the example
    has_first_output: bool = False
    hint: dict[str, Any] | None = None  # export: first user line that specialised a symbolic size


def dynamic_shapes_for(inputs: tuple, batch: int | None, model: Any = None):
    """Dim 0 declared dynamic for every tensor whose dim 0 is the batch size; the rest static.

    The spec follows forward's signature: arguments caught by `*args` are one nested entry.
    """
    import inspect

    from torch.export import Dim

    def spec(x):
        if trees.is_tensor(x):
            return {0: Dim.DYNAMIC} if x.dim() >= 1 and batch is not None and x.shape[0] == batch else None
        if isinstance(x, tuple) and hasattr(x, "_fields"):
            return type(x)(*(spec(v) for v in x))
        if isinstance(x, (tuple, list)):
            return type(x)(spec(v) for v in x)
        if isinstance(x, dict):
            return {k: spec(v) for k, v in x.items()}
        return None

    specs = tuple(spec(a) for a in inputs)
    try:
        params = list(inspect.signature(model.forward if hasattr(model, "forward") else model).parameters.values())
    except (TypeError, ValueError):
        return specs
    for k, p in enumerate(params):
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            return specs[:k] + (specs[k:],)
    return specs


class _AsModule:
    """Wraps a plain function so torch.export (which wants an nn.Module) accepts it."""

    @staticmethod
    def wrap(fn):
        import torch

        class Wrapped(torch.nn.Module):
            def forward(self, *args):
                return fn(*args)

        return Wrapped()


def capture(target: str, model: Any, inputs: tuple, *, batch: int | None, reseed: Callable[[], None],
            compile_backend: str = "aot_eager") -> Captured:
    """Capture `model` for `target` on `inputs`; errors are kept, never raised."""
    import torch

    result = Captured(target)
    start = time.perf_counter()
    with recording_warnings() as caught:
        reseed()
        try:
            if target == "trace":
                result.fn = torch.jit.trace(model, trees.clone(inputs), check_trace=False)
            elif target == "script":
                result.fn = torch.jit.script(model)
            elif target == "export":
                mod = model if isinstance(model, torch.nn.Module) else _AsModule.wrap(model)
                sites = SymSites()
                try:
                    with sites:
                        ep = torch.export.export(mod, trees.clone(inputs),
                                                 dynamic_shapes=dynamic_shapes_for(inputs, batch, mod))
                finally:
                    result.hint = sites.first()
                result.fn = ep.module()
            elif target == "compile":
                torch._dynamo.reset()
                fn = torch.compile(model, fullgraph=True, backend=compile_backend)
                result.first_output = fn(*trees.clone(inputs))
                result.has_first_output = True
                result.fn = fn
            else:
                raise ValueError(f"unknown target {target!r}")
        except Exception as e:  # noqa: BLE001 - a capture failure is a result
            result.error = e
            result.fn = None
    result.warnings = summarize_warnings(caught)
    result.seconds = time.perf_counter() - start
    return result
