"""Capture mechanisms and what a hazard does under each of them."""
from __future__ import annotations

from dataclasses import dataclass

TARGETS: tuple[str, ...] = ("trace", "script", "export", "compile")
DEFAULT_TARGETS: tuple[str, ...] = ("trace", "script")

# How bad an outcome is; `ok` means the capture is right, so the finding does not apply.
OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Effect:
    """What one capture mechanism does with the hazard: outcome and a short human text."""

    outcome: str  # ok | warn | fail
    text: str = ""

    @property
    def applies(self) -> bool:
        return self.outcome != OK


def ok(text: str = "ok") -> Effect:
    return Effect(OK, text)


def warn(text: str) -> Effect:
    return Effect(WARN, text)


def fail(text: str) -> Effect:
    return Effect(FAIL, text)


def parse_targets(values) -> tuple[str, ...]:
    """Accept repeated values and comma lists; raise ValueError naming an unknown target."""
    out: list[str] = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip().lower()
            if not part:
                continue
            if part == "all":
                out.extend(TARGETS)
                continue
            if part not in TARGETS:
                raise ValueError(f"unknown target {part!r} (choose from {', '.join(TARGETS)})")
            out.append(part)
    return tuple(t for t in TARGETS if t in out)
