"""pytest helpers: `assert_capture_safe(module, inputs, targets=...)` fails with the dynamic report.

Importing this module does not import torch; calling the helper does.
"""
from tracelint.dynamic.testing import assert_capture_safe

__all__ = ["assert_capture_safe"]
