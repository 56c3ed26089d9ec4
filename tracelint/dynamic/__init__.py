"""The dynamic checker: run the model captured and eager on variants of its examples and compare.

Importing this package does not import torch; `confirm` imports it when called.
"""
from __future__ import annotations

from typing import Any

from tracelint.dynamic.example import Example

__all__ = ["Example", "confirm", "confirm_paths", "assert_capture_safe"]


def confirm(module: Any, inputs: Any, **kwargs: Any):
    """See tracelint.dynamic.api.confirm (imported lazily: it needs torch)."""
    from tracelint.dynamic.api import confirm as _confirm

    return _confirm(module, inputs, **kwargs)


confirm.__doc__ = """Check that `module` captured on `inputs` matches eager on variants of the inputs.

confirm(module, inputs=(), *, kwargs=None, targets=("trace", "script"), more_inputs=(), more_kwargs=(),
        variants=None, rtol=None, atol=None, seed=0, train=False, name=None, lint=True) -> tracelint.Report
"""


def __getattr__(name: str):
    if name == "confirm_paths":
        from tracelint.dynamic.merge import confirm_paths
        return confirm_paths
    if name == "assert_capture_safe":
        from tracelint.dynamic.testing import assert_capture_safe
        return assert_capture_safe
    raise AttributeError(name)
