"""Capture a model once on its example with each mechanism, as a user would, and record warnings.

trace: torch.jit.trace(check_trace=False) - check_trace only re-runs the same input, and it runs
forward up to 4 more times (mutating state); keyword inputs go through `example_kwarg_inputs`.
script: torch.jit.script; when it fails, every submodule class is scripted on its own too, so
all the errors are known. export: torch.export.export with Dim.AUTO on every dimension the
variants change, run through `.module()`. compile: torch.compile(fullgraph=True); it compiles on
the first call, which is made here.
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
    """Record warnings as the user would see them, minus the torch.jit deprecation notices.

    torch's own filter for library TracerWarnings (`module="torch.(?!jit)"`, installed when torch
    imports) also matches `torchvision` and any `torch*` package; ours escapes the dot.
    """
    import torch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning, module=r"torch\.(?!jit)")
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
    more_errors: list[BaseException] = field(default_factory=list)   # script: other classes' errors
    warnings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    first_output: Any = None          # compile: the output of the compiling call on the example
    has_first_output: bool = False
    hint: dict[str, Any] | None = None  # export: first user line that specialised a symbolic size
    sites: SymSites | None = None       # export: where each symbolic size was guarded
    sources: dict[tuple, str] = field(default_factory=dict)   # export: leaf path -> L['name'][i]


def _signature(model: Any):
    import inspect

    try:
        return list(inspect.signature(model.forward if hasattr(model, "forward") else model).parameters.values())
    except (TypeError, ValueError):
        return None


def argument_names(model: Any, inputs: tuple) -> tuple[list[str | tuple[str, int]], str | None]:
    """For each positional argument, the parameter it binds to (`name`, or (`name`, i) for the
    i-th item of `*name`); and the *args name."""
    args, _ = inputs
    params = _signature(model)
    if params is None:
        return [f"arg{i}" for i in range(len(args))], None
    names: list[str | tuple[str, int]] = []
    star = None
    for p in params:
        if len(names) >= len(args):
            break
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            star = p.name
            names += [(p.name, i) for i in range(len(args) - len(names))]
    names += [f"arg{i}" for i in range(len(names), len(args))]
    return names, star


def dynamic_shapes_for(inputs: tuple, dims: dict[tuple, set[int]], model: Any = None):
    """Dim.AUTO on every dimension some variant changes (`dims`: leaf path -> dims), the rest
    static; shaped like the arguments, keyed by parameter name when there are keyword inputs."""
    from torch.export import Dim

    args, kwargs = inputs

    def spec(x, path):
        if trees.is_tensor(x):
            chosen = sorted(d for d in dims.get(path, ()) if d < x.dim())
            return {d: Dim.AUTO for d in chosen} or None
        if isinstance(x, tuple) and hasattr(x, "_fields"):
            return type(x)(*(spec(v, path + (i,)) for i, v in enumerate(x)))
        if isinstance(x, (tuple, list)):
            return type(x)(spec(v, path + (i,)) for i, v in enumerate(x))
        if isinstance(x, dict):
            return {k: spec(v, path + (k,)) for k, v in x.items()}
        return None

    arg_specs = [spec(a, (0, i)) for i, a in enumerate(args)]
    names, star = argument_names(model, inputs)
    if not kwargs:
        if star is not None:
            k = next(i for i, n in enumerate(names) if isinstance(n, tuple))
            return tuple(arg_specs[:k]) + (tuple(arg_specs[k:]),)
        return tuple(arg_specs)
    out: dict[str, Any] = {}
    starred: list[Any] = []
    for n, sp in zip(names, arg_specs):
        if isinstance(n, tuple):
            starred.append(sp)
        else:
            out[n] = sp
    if star is not None:
        out[star] = tuple(starred)
    for k, v in kwargs.items():
        out[k] = spec(v, (1, k))
    return out


def export_sources(model: Any, inputs: tuple) -> dict[tuple, str]:
    """Leaf path -> how export names that input in its guards (`L['x']`, `L['imgs'][0]`)."""
    names, _ = argument_names(model, inputs)
    out: dict[tuple, str] = {}
    for path, _t in trees.with_paths(inputs):
        if path[0] == 0:
            n = names[path[1]] if path[1] < len(names) else f"arg{path[1]}"
            root = f"L['{n[0]}'][{n[1]}]" if isinstance(n, tuple) else f"L['{n}']"
        else:
            root = f"L['{path[1]}']"
        out[path] = root + "".join(f"[{k!r}]" if isinstance(k, str) else f"[{k}]" for k in path[2:])
    return out


def tile_unit_dims(inputs: tuple, dims: dict[tuple, set[int]]) -> tuple[tuple, bool]:
    """Size-1 dimensions export should keep dynamic, tiled to 2 (export specialises sizes 0 and 1)."""
    changed = [False]

    def tile(path, t):
        for d in sorted(dims.get(path, ())):
            if d < t.dim() and t.shape[d] == 1:
                t = t.repeat_interleave(2, dim=d)
                changed[0] = True
        return t

    out = trees.map_with_path(tile, inputs)
    return out, changed[0]


class _AsModule:
    """Wraps a plain function so torch.export (which wants an nn.Module) accepts it."""

    @staticmethod
    def wrap(fn):
        import torch

        class Wrapped(torch.nn.Module):
            def forward(self, *args, **kwargs):
                return fn(*args, **kwargs)

        return Wrapped()


def _trace(model: Any, inputs: tuple):
    import inspect

    import torch

    args, kwargs = inputs
    if not kwargs:
        return torch.jit.trace(model, args, check_trace=False)
    params = _signature(model)
    if params is None or any(p.kind is p.VAR_POSITIONAL for p in params):
        raise TypeError("torch.jit.trace cannot take keyword inputs together with *args")
    bound = inspect.Signature([p.replace() for p in params]).bind(*args, **kwargs)
    return torch.jit.trace(model, example_kwarg_inputs=dict(bound.arguments), check_trace=False)


def script_errors(model: Any, first: BaseException) -> list[BaseException]:
    """After a failed torch.jit.script of the whole model: script each submodule class on its own,
    so one run lists every class's error, not only the first one torch stops at."""
    import torch

    errors: list[BaseException] = []
    seen: set[type] = {type(model)}
    modules = list(model.modules()) if isinstance(model, torch.nn.Module) else []
    for sub in reversed(modules[1:]):   # innermost classes first
        cls = type(sub)
        if cls in seen or cls.__module__.startswith("torch."):
            continue
        seen.add(cls)
        try:
            torch.jit.script(sub)
        except Exception as e:  # noqa: BLE001 - each failure is a result
            errors.append(e)
    return errors


def capture(target: str, model: Any, inputs: tuple, *, reseed: Callable[[], None],
            compile_backend: str = "aot_eager", dims: dict[tuple, set[int]] | None = None) -> Captured:
    """Capture `model` for `target` on `inputs` (an (args, kwargs) pair); errors are kept, never
    raised. `dims`: for export, the dimensions to declare dynamic (leaf path -> dims)."""
    import torch

    result = Captured(target)
    start = time.perf_counter()
    args, kwargs = inputs
    with recording_warnings() as caught:
        reseed()
        try:
            if target == "trace":
                result.fn = _trace(model, trees.clone(inputs))
            elif target == "script":
                try:
                    result.fn = torch.jit.script(model)
                except Exception as e:  # noqa: BLE001
                    result.more_errors = script_errors(model, e)
                    raise
            elif target == "export":
                mod = model if isinstance(model, torch.nn.Module) else _AsModule.wrap(model)
                sites = SymSites()
                result.sites = sites
                result.sources = export_sources(mod, inputs)
                try:
                    with sites:
                        cargs, ckwargs = trees.clone(inputs)
                        ep = torch.export.export(mod, tuple(cargs), kwargs=ckwargs or None,
                                                 dynamic_shapes=dynamic_shapes_for(inputs, dims or {}, mod))
                finally:
                    result.hint = sites.first()
                result.fn = ep.module()
            elif target == "compile":
                torch._dynamo.reset()
                fn = torch.compile(model, fullgraph=True, backend=compile_backend)
                cargs, ckwargs = trees.clone(inputs)
                result.first_output = fn(*cargs, **ckwargs)
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
