"""TL510: `f(*seq)` / `f(**kw)` with a runtime sequence in reachable code: script cannot size it."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class ScriptStarCall(Rule):
    """Flags star-expanded call arguments other than a fixed-size tuple.

    Fixed-size tuples are tuple displays, locals bound to one, and parameters annotated
    `Tuple[int, int]` / `tuple[int, int]` (directly or through a module-level alias).
    """

    code = "TL510"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-star-call"
    summary = "A call with `*args`/`**kwargs` expansion inside forward: torch.jit.script cannot infer the argument list."
    short_message = "`{star}{arg}` expanded into a call in scripted code"
    message = "script: expanding `{star}{arg}` into a call does not compile in TorchScript (\"cannot infer list size\"); pass the list itself"
    kwargs_message = ("script: expanding `**{arg}` into a call does not compile in TorchScript (\"keyword-arg expansion "
                      "is not supported\"); pass the keyword arguments explicitly")
    kwargs_help = "spell the keyword arguments out (`f(x, scale=kw[\"scale\"])`) or pass the dict itself as one argument"
    help = "pass the list directly (`x.view(shape)`, `x.permute(dims)`) or spell the arguments out"
    targets = script_only("compile error: star expansion of a list, cannot infer list size")
    short_variants = {kwargs_message: "`**{arg}` expanded into a call in scripted code"}
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        shape = [x.size(0), -1]
        dims = (1, 0)
        return x.view(shape).permute(*dims) + x.view(shape).permute(*(1, 0))
""",
        """
from typing import Tuple
import torch
from torch import nn

Size_ = Tuple[int, int]

class Net(nn.Module):
    def forward(self, x, size: Tuple[int, int], grid: Size_, pad: tuple[int, int, int, int]):
        return x.view(x.shape[0], -1, *size) + x.new_zeros(*grid) + x.new_zeros(*pad)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        shape = [x.size(0), -1]
        return x.view(*shape)
""", ((7, 23),)),
        Invalid("""
from typing import Tuple
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x, sizes: Tuple[int, ...]):
        opts = {"dim": -1}
        return x.view(*sizes).softmax(**opts)
""", ((8, 23), (8, 39))),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.tuples: dict[int, set[str]] = {}

    def _tuple_names(self) -> set[str]:
        fn = self.ctx.frame.node if self.ctx.frame else None
        key = id(fn)
        if key not in self.tuples:
            self.tuples[key] = self._tuple_params(fn) if isinstance(fn, cst.FunctionDef) else set()
        return self.tuples[key]

    def _tuple_params(self, fn: cst.FunctionDef) -> set[str]:
        p = fn.params
        return {q.name.value for q in (*p.posonly_params, *p.params, *p.kwonly_params)
                if q.annotation is not None and self._fixed_tuple(q.annotation.annotation)}

    def _fixed_tuple(self, ann: cst.BaseExpression, depth: int = 0) -> bool:
        """`Tuple[int, int]` / `tuple[int, int]` (no `...`), a string of one, or a module-level alias."""
        if isinstance(ann, cst.SimpleString):
            try:
                ann = cst.parse_expression(ann.evaluated_value)
            except Exception:
                return False
        if isinstance(ann, cst.Name) and depth < 3:
            alias = self._aliases().get(ann.value)
            return alias is not None and self._fixed_tuple(alias, depth + 1)
        if not isinstance(ann, cst.Subscript):
            return False
        base = ann.value.attr.value if isinstance(ann.value, cst.Attribute) else getattr(ann.value, "value", None)
        if base not in ("Tuple", "tuple") or not ann.slice:
            return False
        for el in ann.slice:
            sl = el.slice
            if not isinstance(sl, cst.Index) or isinstance(sl.value, cst.Ellipsis):
                return False
        return True

    def _aliases(self) -> dict[str, cst.BaseExpression]:
        """Module-level `Name = <annotation>` / `Name: TypeAlias = <annotation>` assignments."""
        if not hasattr(self, "_alias_map"):
            self._alias_map: dict[str, cst.BaseExpression] = {}
            for stmt in self.ctx.module.body:
                if not isinstance(stmt, cst.SimpleStatementLine):
                    continue
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1 \
                            and isinstance(small.targets[0].target, cst.Name):
                        self._alias_map[small.targets[0].target.value] = small.value
                    elif isinstance(small, cst.AnnAssign) and small.value is not None \
                            and isinstance(small.target, cst.Name):
                        self._alias_map[small.target.value] = small.value
        return self._alias_map

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Name):
                names = self._tuple_names()
                if isinstance(node.value, cst.Tuple):
                    names.add(t.target.value)
                else:
                    names.discard(t.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        for arg in node.args:
            if not arg.star:
                continue
            value = arg.value
            if arg.star == "*" and (isinstance(value, cst.Tuple) or (
                    isinstance(value, cst.Name) and value.value in self._tuple_names())):
                continue
            text = self.ctx.module.code_for_node(value)
            text = text if len(text) < 30 else "..."
            if arg.star == "**":
                self.report(arg, self.kwargs_message, help=self.kwargs_help, arg=text,
                            effects=script_only("compile error: keyword-arg expansion is not supported"))
            else:
                self.report(arg, star=arg.star, arg=text)
