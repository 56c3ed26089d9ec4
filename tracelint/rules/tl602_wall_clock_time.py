"""TL602: reading the wall clock inside forward bakes a timestamp into the capture."""
from __future__ import annotations

import libcst as cst

from tracelint.rule import Invalid, Rule
from tracelint.targets import fail

_CLOCKS = {
    "time.time", "time.time_ns", "time.perf_counter", "time.perf_counter_ns", "time.monotonic",
    "time.monotonic_ns", "time.process_time", "time.process_time_ns", "time.localtime", "time.gmtime",
    "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today", "datetime.date.today",
}
_EFFECTS = {
    "trace": fail("the capture-time value is baked in (check_trace: TracingCheckError, graphs differ)"),
    "script": fail("compile error: Python builtin time is not supported in TorchScript"),
    "export": fail("non-strict export bakes the timestamp silently (strict: graph break GB0007)"),
    "compile": fail("graph break GB0007 (the clock is a skipped C builtin)"),
}


class WallClockTime(Rule):
    """Flags `time.time()`, `time.perf_counter()`, `datetime.now()` ... in code reachable from forward."""

    code = "TL602"
    name = "wall-clock-time"
    summary = "`time.*` / `datetime.now()` read inside forward: the value is frozen at capture time."
    short_message = "`{call}()` reads the wall clock inside forward"
    message = "`{call}()` reads the wall clock inside forward: {consequence}"
    help = "pass time-dependent values (a phase, a step count) as a tensor input; time the model outside forward"
    targets = _EFFECTS
    valid = (
        """
import time
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x, phase):
        return x * torch.sin(phase)

def timed(model, x, phase):
    t0 = time.perf_counter()   # outside forward: fine
    y = model(x, phase)
    return y, time.perf_counter() - t0
""",
    )
    invalid = (
        Invalid("""
import time
from torch import nn

class Flicker(nn.Module):
    def forward(self, x):
        t = time.time()
        return x * (t % 1.0)
""", ((6, 13),)),
        Invalid("""
from datetime import datetime
from torch import nn

class Stamp(nn.Module):
    def forward(self, x):
        return x + datetime.now().second
""", ((6, 20),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        name = self.ctx.qualified(node.func) or ""
        if name not in _CLOCKS:
            return
        consequence = "; ".join(f"{t}: {e.text}" for t, e in _EFFECTS.items() if e.applies)
        self.report(node, call=name, consequence=consequence)
