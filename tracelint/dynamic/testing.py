"""pytest helper: fail a test when a capture of the model does not reproduce eager.

    from tracelint.testing import assert_capture_safe

    def test_model_exports():
        assert_capture_safe(MyModel(), (torch.randn(4, 16),), targets=("trace", "export"))
"""
from __future__ import annotations

from typing import Any, Iterable

from tracelint.targets import DEFAULT_TARGETS


class CaptureUnsafe(AssertionError):
    """Raised with the rendered report; `.report` holds the Report."""

    def __init__(self, message: str, report) -> None:
        super().__init__(message)
        self.report = report


def assert_capture_safe(module: Any, inputs: Any, targets: str | Iterable[str] = DEFAULT_TARGETS, **kwargs: Any):
    """Run `tracelint.confirm` in this process; raise CaptureUnsafe listing what was confirmed.

    Keyword arguments go to confirm (more_inputs, variants, rtol, atol, seed, train, lint).
    Returns the report when everything matched.
    """
    __tracebackhide__ = True
    from tracelint.dynamic.api import confirm, has_failures
    from tracelint.reporters import render

    report = confirm(module, inputs, targets=targets, **kwargs)
    if has_failures(report) or report.failed:
        report.diagnostics = [d for d in report.diagnostics if d.verdict == "confirmed"]
        text = render(report, "full")
        errors = "".join(f"error: {e}\n" for e in report.errors)
        raise CaptureUnsafe(f"{type(module).__name__} is not capture-safe:\n{errors}{text}", report)
    return report
