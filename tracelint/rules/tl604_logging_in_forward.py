"""TL604: logger calls inside forward fail TorchScript and break torch.compile(fullgraph=True)."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.state import self_attr
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
_EFFECTS = {
    "trace": ok("logs once at capture time"),
    "script": fail("compile error: attribute lookup is not defined on python value of type 'Logger'"),
    "export": ok("logs once at capture time"),
    "compile": fail("graph break GB0291: logging.Logger method not supported"),
}


def _logger_names(module: cst.Module, ctx) -> set[str]:
    """Module-level names bound to `logging.getLogger(...)`."""
    out: set[str] = set()
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.Call):
                if ctx.qualified(small.value.func) == "logging.getLogger":
                    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                    out |= {t.value for t in targets if isinstance(t, cst.Name)}
    return out


class LoggingInForward(Rule):
    """Flags `logging.info(...)`, `log.debug(...)` (module loggers) and `self.logger.*` in reachable code."""

    code = "TL604"
    name = "logging-in-forward"
    summary = "Logging inside forward fails TorchScript and breaks torch.compile(fullgraph=True)."
    short_message = "`{call}()` logs inside forward"
    message = "`{call}()` logs inside forward: script: compile error (Logger is not TorchScript); compile: graph break GB0291"
    help = "log outside forward (in the training/serving loop), or guard with `if not torch.jit.is_scripting() and not torch.compiler.is_compiling():`"
    targets = _EFFECTS
    valid = (
        """
import logging
from torch import nn

log = logging.getLogger(__name__)

class Net(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        log.info("building Net(width=%d)", width)
        self.width = width

    def forward(self, x):
        return x * 2
""",
    )
    invalid = (
        Invalid("""
import logging
from torch import nn

log = logging.getLogger(__name__)

class Net(nn.Module):
    def forward(self, x):
        log.debug("input %s", tuple(x.shape))
        return x * 2
""", ((8, 9),)),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.loggers = _logger_names(ctx.module, ctx)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _METHODS:
            return
        base = func.value
        name = self.ctx.qualified(base)
        hit = False
        if name == "logging" or (isinstance(base, cst.Call) and self.ctx.qualified(base.func) == "logging.getLogger"):
            hit = True
        elif isinstance(base, cst.Name) and base.value in self.loggers and not any(
                base.value in f.env for f in self.ctx.frames):
            hit = True
        else:
            attr = self_attr(base)
            fact = self.ctx.attr_fact(attr) if attr else None
            hit = fact is not None and fact.ctor == "logging.getLogger"
        if hit:
            self.report(node, call=cst.Module([]).code_for_node(func))
