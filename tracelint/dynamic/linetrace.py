"""Record what user code did at the Python level during an eager run.

Two kinds of events, in execution order, for user files only:
  ("L", path, line, depth)       a line executed, `depth` user frames deep (branch outcomes and
                                 loop trip counts follow from the order of these; the depth tells
                                 a helper called inside a condition from the condition's line)
  ("V", path, line, kind, value) a tensor turned into a Python value there (`__bool__`, `__index__`,
                                 `item()`, ...): the conversions a trace bakes in, some silently.
Comparing the events of the example with those of a diverging variant names the line whose
Python-level outcome changed (see linediff). sys.settrace is used on every Python version: it
still works on 3.12+ and keeps one code path.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

from tracelint.dynamic.userfiles import is_user_file

Event = tuple

# Tensor methods that hand a tensor's data to Python.
CONVERSIONS = ("__bool__", "__int__", "__float__", "__index__", "__complex__", "__len__",
               "item", "tolist", "numpy")

MAX_EVENTS = 500_000
_ACTIVE: "LineRecorder | None" = None


def fingerprint(value: Any) -> Any:
    """A comparable, small stand-in for a converted value."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, complex):
        return (fingerprint(value.real), fingerprint(value.imag))
    if isinstance(value, (list, tuple)):
        if len(value) > 64:
            return (type(value).__name__, len(value), hash(repr(value)))
        return tuple(fingerprint(v) for v in value)
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "tobytes"):  # numpy array
        return ("ndarray", tuple(shape), str(getattr(value, "dtype", "")), hash(value.tobytes()))
    return repr(value)[:200]


class LineRecorder:
    """Context manager: line coverage always; the event list and conversion hooks when `events`."""

    def __init__(self, events: bool = True, user: Callable[[str], bool] = is_user_file,
                 hooks: bool = True) -> None:
        self.record_events = events
        self.hooks = hooks and events   # off under torch.jit.trace: a wrapper frame would own its warnings
        self.user = user
        self.events: list[Event] = []
        self.coverage: dict[str, set[int]] = {}
        self.calls: set[tuple[str, int, str, int]] = set()   # (caller file, line, callee file, def line)
        self.truncated = False
        self._previous = None
        self._patched: list[tuple[str, Any, bool]] = []
        self._outer: LineRecorder | None = None
        self._depth = 0

    # -- tracing ---------------------------------------------------------------------------
    def _global(self, frame, event, arg):
        if event == "call" and self.user(frame.f_code.co_filename):
            code = frame.f_code   # the def line counts as run when the function is called
            self.coverage.setdefault(code.co_filename, set()).add(code.co_firstlineno)
            if self.record_events and len(self.calls) < 10_000:
                caller = frame.f_back   # the nearest user frame: wrappers (decorators, nn.Module) skipped
                while caller is not None and not self.user(caller.f_code.co_filename):
                    caller = caller.f_back
                if caller is not None:
                    self.calls.add((caller.f_code.co_filename, caller.f_lineno, code.co_filename, code.co_firstlineno))
            self._depth += 1
            return self._local
        return None

    def _local(self, frame, event, arg):
        if event == "line":
            path = frame.f_code.co_filename
            line = frame.f_lineno
            lines = self.coverage.get(path)
            if lines is None:
                lines = self.coverage[path] = set()
            lines.add(line)
            if self.record_events:
                self._add(("L", path, line, self._depth))
        elif event == "return":
            self._depth -= 1
        return self._local

    def _add(self, event: Event) -> None:
        if len(self.events) < MAX_EVENTS:
            self.events.append(event)
        else:
            self.truncated = True

    def value(self, path: str, line: int, kind: str, value: Any) -> None:
        self._add(("V", path, line, kind, fingerprint(value)))

    # -- conversion hooks ------------------------------------------------------------------
    def _patch(self) -> None:
        import torch

        for name in CONVERSIONS:
            original = getattr(torch.Tensor, name, None)
            if original is None:
                continue
            own = name in torch.Tensor.__dict__
            self._patched.append((name, torch.Tensor.__dict__.get(name), own))
            setattr(torch.Tensor, name, _hook(name, original))

    def _unpatch(self) -> None:
        import torch

        for name, original, own in reversed(self._patched):
            if own:
                setattr(torch.Tensor, name, original)
            else:
                delattr(torch.Tensor, name)
        self._patched.clear()

    def __enter__(self) -> "LineRecorder":
        global _ACTIVE
        self._outer = _ACTIVE
        if self.hooks and not _hooks_installed():
            self._patch()
        _ACTIVE = self
        self._previous = sys.gettrace()
        sys.settrace(self._global)
        return self

    def __exit__(self, *exc) -> None:
        global _ACTIVE
        sys.settrace(self._previous)
        if self._patched:
            self._unpatch()
        _ACTIVE = self._outer

    def coverage_lists(self) -> dict[str, list[int]]:
        return {p: sorted(lines) for p, lines in self.coverage.items()}


def _hooks_installed() -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and getattr(torch.Tensor.__dict__.get("__index__"), "__tracelint_hook__", False)


def _hook(name: str, original: Any):
    def wrapper(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        rec = _ACTIVE
        if rec is not None and rec.record_events:
            frame = sys._getframe(1)
            path = frame.f_code.co_filename
            if rec.user(path):
                rec.value(path, frame.f_lineno, name, out)
        return out

    wrapper.__name__ = name
    wrapper.__qualname__ = f"Tensor.{name}"
    wrapper.__tracelint_hook__ = True
    return wrapper


def merge_coverage(into: dict[str, set[int]], more: dict[str, Any]) -> None:
    for path, lines in more.items():
        into.setdefault(path, set()).update(lines)
