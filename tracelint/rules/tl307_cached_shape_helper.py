"""TL307: a `functools.lru_cache`/`cache` helper called with shape values inside forward."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_CACHES = {"functools.lru_cache", "functools.cache"}


class CachedShapeHelper(Rule):
    """Flags calls of memoised helpers whose arguments are shape values (symbolic under export)."""

    code = "TL307"
    name = "cached-shape-helper"
    summary = "An `lru_cache`'d helper called with shape values inside forward."
    short_message = "`{fn}` is memoised with `{cache}` and called with shapes"
    message = ("`{fn}` is memoised with `{cache}` and called with shape values: non-strict export passes "
               "symbolic sizes, which are unhashable (TypeError); Dynamo ignores the cache")
    help = ("drop the cache inside forward (compute the table with torch ops), or precompute it in "
            "`__init__` for a maximum size and slice it: `self.table[:n]`")
    targets = {
        "trace": ok("each size is a fresh traced value: the cache is missed, the result is right"),
        "script": ok(),
        "export": fail("TypeError: unhashable type: non-nested SymInt (strict: the cache is ignored)"),
        "compile": ok("Dynamo ignores the cache wrapper and traces the function"),
    }
    valid = (
        """
import functools
import torch
from torch import nn

@functools.lru_cache(maxsize=8)
def pos_table(n: int, d: int) -> torch.Tensor:
    return torch.arange(n * d, dtype=torch.float32).reshape(n, d)

class AddPos(nn.Module):
    def __init__(self, n: int = 16, d: int = 8):
        super().__init__()
        self.register_buffer("table", pos_table(n, d))

    def forward(self, x):
        return x + self.table[: x.shape[0]]
""",
    )
    invalid = (
        Invalid("""
from functools import lru_cache
import torch
from torch import nn

@lru_cache(maxsize=8)
def pos_table(n: int, d: int) -> torch.Tensor:
    return torch.arange(n * d, dtype=torch.float32).reshape(n, d)

class AddPos(nn.Module):
    def forward(self, x):
        return x + pos_table(x.shape[0], x.shape[1])
""", ((11, 20),)),
    )

    def _cache(self, fn: cst.FunctionDef) -> str | None:
        for d in fn.decorators:
            dec = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
            full = self.ctx.qualified(dec) or ""
            if full in _CACHES:
                return full.rsplit(".", 1)[-1]
        return None

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        fn: cst.FunctionDef | None = None
        ctx = self.ctx
        if isinstance(func, cst.Name) and func.value in ctx.functions and not any(
                func.value in f.env for f in ctx.frames):
            fn = ctx.functions[func.value]
        elif (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
              and func.value.value == "self" and ctx.cls is not None):
            fn = ctx.cls.methods.get(func.attr.value)
        if fn is None:
            return
        cache = self._cache(fn)
        if cache is None:
            return
        if any(ctx.kind(a.value) == Kind.SHAPE for a in node.args):
            self.report(node, fn=f"{fn.name.value}()", cache=f"functools.{cache}")
