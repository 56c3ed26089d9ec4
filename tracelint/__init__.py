"""tracelint: find PyTorch code that capture (trace, script, export, compile) gets wrong.

The static linter never imports torch. The dynamic checker (`tracelint.confirm`) does, lazily.
"""
from __future__ import annotations

__version__ = "0.1.0"

from tracelint.api import lint_paths, lint_source
from tracelint.diagnostics import Diagnostic, Report, Severity
from tracelint.targets import TARGETS, Effect

__all__ = [
    "__version__", "lint_paths", "lint_source", "Diagnostic", "Report", "Severity",
    "TARGETS", "Effect", "Example", "confirm",
]


def __getattr__(name: str):
    # The dynamic checker imports torch; load it only when asked for.
    if name in ("Example", "confirm"):
        from tracelint import dynamic
        return getattr(dynamic, name)
    raise AttributeError(name)
