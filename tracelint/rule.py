"""The rule framework: one rule is one class with its code, name, message, per-target effects and examples."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Mapping

import libcst as cst

from tracelint.diagnostics import RuleInfo
from tracelint.targets import TARGETS, Effect

if TYPE_CHECKING:  # pragma: no cover
    from tracelint.analysis.context import FileContext

# Where a rule's visit_* methods are called by the walker.
REACHABLE = "reachable"   # code reachable from a capture entry point (forward and what it calls)
INIT = "init"             # __init__ (and class body) of nn.Module subclasses
ANYWHERE = "anywhere"     # reachable code and module-class setup


@dataclass(frozen=True)
class Invalid:
    """An INVALID example: the code, and optionally the expected (line, column) of each finding."""

    code: str
    positions: tuple[tuple[int, int], ...] = ()


class Rule:
    """Base class. Subclasses set the class attributes and define LibCST `visit_*`/`leave_*` methods.

    The walker gives every rule the same `FileContext` (value kinds, entry points, guards), so a rule
    only decides what is a hazard, never re-derives the shared analyses.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    message: ClassVar[str]                 # str.format template: what breaks under which target, what to write instead
    short_message: ClassVar[str]           # str.format template over the same fields: the one-line headline
    short_variants: ClassVar[Mapping[str, str]] = {}   # another `message` template passed to report() -> its headline
    help: ClassVar[str]                    # what to write instead
    targets: ClassVar[Mapping[str, Effect]]
    valid: ClassVar[tuple[str, ...]] = ()
    invalid: ClassVar[tuple[Invalid | str, ...]] = ()
    scope: ClassVar[str] = REACHABLE
    default_enabled: ClassVar[bool] = True
    confidence: ClassVar[str] = "high"
    advice_in_message: ClassVar[bool] = False   # else report() appends "use instead: <help>"

    def __init__(self, ctx: "FileContext") -> None:
        self.ctx = ctx

    def report(self, node: cst.CSTNode, message: str | None = None, *,
               effects: Mapping[str, Effect] | None = None, help: str | None = None, **fmt) -> None:
        """Record a finding at `node`; effects default to the rule's, minus targets a guard excludes.

        A `consequence` field ("trace: ...; export: ...") is rebuilt here, after the exclusions in
        force at `node`, so the message never claims a failure for a target the finding marks ok.
        """
        effects = dict(effects or self.targets)
        if isinstance(fmt.get("consequence"), str):
            fmt["consequence"] = self._consequence(fmt["consequence"], effects)
        text = (message or self.message).format(**fmt) if (fmt or message is None) else message
        advice = help or self.help
        if not self.advice_in_message and advice:
            text = f"{text.rstrip('. ')} — use instead: {advice}"
        self.ctx.add_finding(self, node, text, effects, advice, short=self.headline(message, fmt))

    def headline(self, message: str | None, fmt: Mapping[str, object]) -> str:
        """The short message for a finding reported with `message` (None: the rule's own) and `fmt`."""
        template = self.short_variants.get(message, self.short_message) if message else self.short_message
        try:
            return template.format(**fmt)
        except (KeyError, IndexError):   # a template naming a field this call does not give
            return self.summary.rstrip(".")

    def _consequence(self, text: str, effects: Mapping[str, Effect]) -> str:
        """`text` without the "<target>: ..." parts of targets a guard excludes here."""
        excluded = getattr(self.ctx, "excluded_targets", None)
        gone = {t for t in (excluded() if excluded else ()) if t in effects and effects[t].applies}
        if not gone:
            return text
        full = "; ".join(f"{t}: {e.text}" for t, e in effects.items() if e.applies)
        if text == full:
            kept = "; ".join(f"{t}: {e.text}" for t, e in effects.items() if e.applies and t not in gone)
        else:
            kept = "; ".join(p for p in text.split("; ") if not any(p.startswith(f"{t}: ") for t in gone))
        return kept or text

    @classmethod
    def info(cls) -> RuleInfo:
        return RuleInfo(cls.code, cls.name, cls.summary, cls.help,
                        {t: cls.targets[t] for t in TARGETS if t in cls.targets},
                        doc_path=f"rules/{cls.code}-{cls.name}.md")

    @classmethod
    def validate(cls) -> None:
        """Checks every rule class must pass (run by the registry and the tests)."""
        import re
        assert re.fullmatch(r"TL\d{3}", cls.code), cls.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cls.name), cls.name
        assert set(cls.targets) == set(TARGETS), f"{cls.code}: effects for every target"
        assert getattr(cls, "short_message", "").strip(), f"{cls.code}: a short_message"
