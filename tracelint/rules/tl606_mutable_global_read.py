"""TL606: module-level Python globals read inside forward are baked (and rejected by TorchScript)."""
from __future__ import annotations

from collections import Counter

import libcst as cst

from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok
from tracelint.analysis.nodes import run_visitor

_MUTABLE = {
    "trace": fail("silently wrong: the value at capture time is baked in"),
    "script": fail("compile error: python value of type ... cannot be used as a value (closed-over global)"),
    "export": fail("silently wrong: the value at capture time is baked in"),
    "compile": ok("Dynamo guards on the global and recompiles when it changes"),
}
_CONSTANT = {
    "trace": ok("a constant that never changes is correctly baked"),
    "script": fail("compile error: python value of type ... cannot be used as a value (closed-over global)"),
    "export": ok("a constant that never changes is correctly baked"),
    "compile": ok(),
}
_MUTABLE_MSG = ("global `{name}` is reassigned elsewhere (`{how}`) but read inside forward: trace/export bake the "
                "capture-time value (silently wrong later); script: compile error (closed-over global)")
_CONSTANT_MSG = ("module global `{name}` read inside forward: script: compile error (python value of type "
                 "'{type}' cannot be used as a value); trace/export/compile bake it, which is fine for a constant")
_MUTABLE_HELP = "pass the value as a forward argument (a tensor if it changes), or store it on the module and update it there"
_CONSTANT_HELP = ("copy it onto the module in __init__ (`self.scale: Final[float] = SCALE`, or a local variable) "
                  "so TorchScript sees a constant attribute")


def _literal_type(value: cst.BaseExpression) -> str | None:
    """The Python type of a literal-valued global (what TorchScript rejects), else None."""
    if isinstance(value, cst.Integer):
        return "int"
    if isinstance(value, cst.Float):
        return "float"
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
        return "str"
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return "bool"
    if isinstance(value, cst.UnaryOperation):
        return _literal_type(value.expression)
    if isinstance(value, cst.BinaryOperation):
        left, right = _literal_type(value.left), _literal_type(value.right)
        if left and right:
            return "float" if "float" in (left, right) else left
        return None
    if isinstance(value, (cst.Tuple, cst.List)):
        if value.elements and all(_literal_type(e.value) for e in value.elements):
            return "tuple" if isinstance(value, cst.Tuple) else "list"
    return None


class _Globals(cst.CSTVisitor):
    """Names declared `global` in functions and assigned there."""

    def __init__(self) -> None:
        self.declared: set[str] = set()

    def visit_Global(self, node: cst.Global) -> None:
        self.declared |= {n.name.value for n in node.names}


class MutableGlobalRead(Rule):
    """Flags loads of literal-valued module globals in code reachable from forward."""

    code = "TL606"
    name = "mutable-global-read"
    summary = "A module-level Python global read inside forward: baked by trace/export, rejected by TorchScript."
    short_message = "global `{name}` is reassigned elsewhere but read in forward"
    message = _MUTABLE_MSG
    help = _MUTABLE_HELP
    targets = _MUTABLE
    short_variants = {_CONSTANT_MSG: "module global `{name}` read inside forward"}
    valid = (
        """
import math
import torch
from torch import nn

SCALE = 2.0

class Net(nn.Module):
    def __init__(self, scale=SCALE):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x * self.scale * math.pi
""",
    )
    invalid = (
        Invalid("""
from torch import nn

TEMPERATURE = 1.0

def set_temperature(t):
    global TEMPERATURE
    TEMPERATURE = t

class Softmax(nn.Module):
    def forward(self, x):
        return (x / TEMPERATURE).softmax(-1)
""", ((11, 21),)),
        Invalid("""
from torch import nn

EPS = 1e-6

class Norm(nn.Module):
    def forward(self, x):
        return x / (x.norm(dim=-1, keepdim=True) + EPS)
""", ((7, 52),)),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.literals: dict[str, str] = {}
        self.how: dict[str, str] = {}
        counts: Counter[str] = Counter()
        for stmt in ctx.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    for t in small.targets:
                        if isinstance(t.target, cst.Name):
                            counts[t.target.value] += 1
                            typ = _literal_type(small.value)
                            if typ:
                                self.literals.setdefault(t.target.value, typ)
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value:
                    counts[small.target.value] += 1
                    typ = _literal_type(small.value)
                    if typ:
                        self.literals.setdefault(small.target.value, typ)
                elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
                    counts[small.target.value] += 2
                    self.how[small.target.value] = cst.Module([]).code_for_node(small)
        finder = _Globals()
        if "global" in ctx.text:
            run_visitor(ctx.module, finder)
        for name in finder.declared:
            self.how[name] = f"global {name}"
        for name, n in counts.items():
            if n > 1:
                self.how.setdefault(name, f"{name} = ... (assigned {n} times)")
        self.skip: set[int] = set()
        self._own_globals: dict[int, set[str]] = {}

    def _declared_in(self, fn: cst.CSTNode | None) -> set[str]:
        """Names a function itself declares `global`."""
        if fn is None:
            return set()
        if id(fn) not in self._own_globals:
            finder = _Globals()
            run_visitor(fn, finder)
            self._own_globals[id(fn)] = finder.declared
        return self._own_globals[id(fn)]

    # names that are not loads of a global
    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def visit_Param(self, node: cst.Param) -> None:
        self.skip.add(id(node.name))
        if node.default is not None:
            self.skip.add(id(node.default))  # evaluated once, when the def runs

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.skip.add(id(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.skip.add(id(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.skip.add(id(node.target))

    def visit_Global(self, node: cst.Global) -> None:
        self.skip |= {id(n.name) for n in node.names}

    def visit_Name(self, node: cst.Name) -> None:
        name = node.value
        if id(node) in self.skip or name not in self.literals:
            return
        if any(name in f.env for f in self.ctx.frames):
            return  # a local of the same name
        if any(name in self._declared_in(f.node) for f in self.ctx.frames):
            return  # `global NAME` in this function: the write is the hazard (TL505), not this read
        if name in self.how:
            self.report(node, name=name, how=self.how[name])
        else:
            self.report(node, _CONSTANT_MSG, effects=_CONSTANT, help=_CONSTANT_HELP,
                        name=name, type=self.literals[name])
