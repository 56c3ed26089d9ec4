"""tracelint: find PyTorch code that capture (trace, script, export, compile) gets wrong.

The static linter never imports torch. The dynamic checker (`tracelint.confirm`) does, lazily.
Every public name is loaded on first use, so `tracelint empty.py` imports only what linting needs.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "__version__", "lint_paths", "lint_source", "Diagnostic", "Report", "Severity",
    "TARGETS", "Effect", "Example", "confirm",
]

_LAZY = {
    "lint_paths": "tracelint.api", "lint_source": "tracelint.api",
    "Diagnostic": "tracelint.diagnostics", "Report": "tracelint.diagnostics", "Severity": "tracelint.diagnostics",
    "TARGETS": "tracelint.targets", "Effect": "tracelint.targets",
    "Example": "tracelint.dynamic", "confirm": "tracelint.dynamic",  # these import torch
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tracelint' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
