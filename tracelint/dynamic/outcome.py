"""What running one example source produced: its examples' results, or why it could not run.

Plain data shared by the isolated runner (child processes) and the in-process API.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SourceOutcome:
    display: str                                   # e.g. fixtures/x.py or pkg.mod:examples
    source: str | None = None                      # file defining the examples function
    line: int = 1                                  # its def line
    load_error: dict[str, Any] | None = None       # examples function failed, or the child died loading
    examples: list[dict[str, Any]] = field(default_factory=list)   # runner results, in order

    @property
    def setup_error(self) -> bool:
        """The source could not be used at all (not importable, no examples function)."""
        return bool(self.load_error and self.load_error.get("setup"))


def failed_example(name: str, status: str, error: dict[str, Any]) -> dict[str, Any]:
    """A result record for an example the runner could not finish (timeout, crash, OOM)."""
    return {"name": name, "status": status, "error": error, "where": None, "targets": [], "runs": [],
            "variants": [], "coverage": {}, "calls": [], "seconds": 0.0, "run_targets": [], "interrupted": None}
