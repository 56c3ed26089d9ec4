"""TL707: a `@torch.jit.ignore` helper with Python-only (NumPy) code still runs under trace and export."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.context import guard_targets
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok
from tracelint.analysis.nodes import run_visitor

_ESCAPES = {"numpy", "tolist", "item"}
_EFFECTS = {
    "trace": fail("silently wrong: the helper's NumPy result is baked in as a constant (W numpy, W const)"),
    "script": ok("script falls back to Python for the ignored helper"),
    "export": fail("error: .numpy() is not supported for tensor subclasses (non-strict export)"),
    "compile": ok("Dynamo traces the NumPy code"),
}


class _PythonOnly(cst.CSTVisitor):
    """Does a body call NumPy or turn a tensor into Python data?"""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (self.ctx.qualified(func) or "").startswith("numpy."):
            self.found = True
        elif isinstance(func, cst.Attribute) and func.attr.value in _ESCAPES and not node.args:
            self.found = True


class _SelfCalls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == "self":
            self.names.append(f.attr.value)


class JitIgnorePythonBody(Rule):
    """Flags `@torch.jit.ignore` methods forward reaches whose body uses NumPy or `.numpy()`/`.item()`."""

    code = "TL707"
    name = "jit-ignore-python-body"
    summary = "`@torch.jit.ignore` only helps script: trace and export still run the helper's NumPy code."
    short_message = "`{fn}` is @torch.jit.ignore-d but runs NumPy code"
    message = ("`{fn}` is @torch.jit.ignore-d but does NumPy work and forward reaches it{how}: trace: silently "
               "wrong (the result is baked); export: error (.numpy() on a traced tensor)")
    help = "rewrite the helper with torch ops (`torch.tanh`, ...) so every capture records it; @jit.ignore only covers script"
    targets = _EFFECTS
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    @torch.jit.ignore
    def describe(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x)

    def forward(self, x):
        return self.describe(x) * 2
""",
    )
    invalid = (
        Invalid("""
import numpy as np
import torch
from torch import nn

class Net(nn.Module):
    @torch.jit.ignore
    def np_scale(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.tanh(x.detach().numpy()))

    def forward(self, x):
        return self.np_scale(x) * 2
""", ((6, 6),)),
        Invalid("""
import numpy as np
import torch
from torch import nn

class Net(nn.Module):
    @torch.jit.ignore
    def np_path(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.tanh(x.detach().numpy()))

    def forward(self, x):
        if torch.jit.is_scripting():
            return torch.tanh(x)
        return self.np_path(x)
""", ((11, 9),)),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.by_guard: set[tuple[str, str]] = set()    # (class, helper) reported at an is_scripting() guard
        self.unguarded: set[tuple[str, str]] = set()   # called where script is not excluded
        self._helpers: dict[str, set[str]] = {}

    def _ignored_python(self) -> set[str]:
        """Names of @torch.jit.ignore methods of the current class whose body is Python-only."""
        cls = self.ctx.cls
        if cls is None:
            return set()
        if cls.name not in self._helpers:
            out = set()
            for name, fn in cls.methods.items():
                if self._decorator(fn) is not None:
                    finder = _PythonOnly(self.ctx)
                    run_visitor(fn.body, finder)
                    if finder.found:
                        out.add(name)
            self._helpers[cls.name] = out
        return self._helpers[cls.name]

    def _decorator(self, fn: cst.FunctionDef) -> cst.Decorator | None:
        for d in fn.decorators:
            target = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
            if self.ctx.qualified(target) == "torch.jit.ignore":
                return d
        return None

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if (isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == "self"
                and f.attr.value in self._ignored_python() and "script" not in self.ctx.excluded_targets()):
            self.unguarded.add((self.ctx.cls.name, f.attr.value))

    def visit_If(self, node: cst.If) -> None:
        """`if torch.jit.is_scripting(): ... else/after: self.np_helper(x)`: report at the guard."""
        g = guard_targets(node.test, self.ctx)
        helpers = self._ignored_python()
        if not g or not helpers:
            return
        body_skip, else_skip = g
        region: list[cst.CSTNode] = []
        if "script" in body_skip:
            region = [node.body]
        elif "script" in else_skip:
            if node.orelse is not None:
                region = [node.orelse]
            else:
                frame = self.ctx.frame
                parent = self.ctx.stmts[-2] if len(self.ctx.stmts) >= 2 else (frame.node if frame else None)
                block = getattr(parent, "body", None)
                stmts = list(block.body) if isinstance(block, cst.IndentedBlock) else []
                idx = next((i for i, s in enumerate(stmts) if s is node), None)
                region = stmts[idx + 1:] if idx is not None else []
        calls = _SelfCalls()
        for r in region:
            run_visitor(r, calls)
        hit = sorted(set(calls.names) & helpers)
        if hit:
            for h in hit:
                self.by_guard.add((self.ctx.cls.name, h))
            self.report(node, fn=", ".join(hit), how=" on the non-script path of this guard")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        cls = self.ctx.cls
        if cls is None or node.name.value not in self._ignored_python():
            return
        key = (cls.name, node.name.value)
        if key in self.by_guard and key not in self.unguarded:
            return
        deco = self._decorator(node)
        if deco is not None:
            self.report(deco.decorator, fn=node.name.value, how="")
