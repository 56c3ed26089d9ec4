"""TL519: a local first bound to a number and later to a tensor (or the reverse): script fixes one type."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only, tensorish
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.analysis.nodes import children


def _number_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float))


def _contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    stack = [tree]
    while stack:
        n = stack.pop()
        if n is node:
            return True
        stack.extend(children(n))
    return False


class ScriptVariableTypeChange(Rule):
    """Flags re-binding a local from a number literal to a tensor (or back) inside a branch or a real loop."""

    code = "TL519"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-variable-type-change"
    summary = "`y = 0`, then `y = x * 2` in a branch or loop: TorchScript cannot join an int and a Tensor."
    short_message = "`{name}` changes type from {first} to {second}"
    message = "script: `{name}` was first bound to a {first} and becomes a {second} inside a branch or loop; TorchScript cannot join the two types where the paths meet, so this fails; start from a tensor (`torch.zeros_like(x)`)"
    help = "initialise with a tensor (`y = torch.zeros_like(x)`, `total = x.new_zeros(())`) or use a separate name"
    targets = script_only("error: a variable changes type (number -> Tensor)")
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        y = torch.zeros_like(x)
        if x.dim() == 2:
            y = x * 2
        n = 0
        n = n + 1
        total = 0
        total = total + y           # straight-line rebinding: each value has its own type
        return total * n
""",
        """
import torch
from torch import nn

class Sum(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
    def forward(self, x):
        total = 0
        for layer in self.layers:   # unrolled by TorchScript: straight-line code
            total = total + layer(x)
        return total
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        y = 0
        if x.dim() == 2:
            y = x * 2
        return y
""", ((8, 13),)),
        Invalid("""
import torch
from torch import nn

class Powers(nn.Module):
    def forward(self, x):
        total = 0.0
        for k in range(3):
            total += x.pow(k)
        return total
""", ((8, 13),)),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.seen: dict[int, dict[str, tuple[str, cst.CSTNode]]] = {}

    def _names(self) -> dict[str, tuple[str, cst.CSTNode]]:
        return self.seen.setdefault(id(self.ctx.frame.node if self.ctx.frame else None), {})

    def _bound(self, name: str, value: cst.BaseExpression, at: cst.CSTNode, aug: bool = False) -> None:
        names = self._names()
        if _number_literal(value) and not aug:
            kind = "number"
        elif tensorish(self.ctx, value):
            kind = "tensor"
        else:
            if not aug:
                names.pop(name, None)
            return
        prev = names.get(name)
        if prev is None:
            if not aug:
                names[name] = (kind, at)
            return
        if prev[0] == kind:
            return
        if self._merges(prev[1], at):
            names.pop(name, None)
            self.report(at, name=name, first="Python number" if prev[0] == "number" else "Tensor",
                        second="Tensor" if kind == "tensor" else "Python number")
        elif not aug and not self._in_control_flow():
            names[name] = (kind, at)   # straight-line rebinding: from here on the new type holds

    def _in_control_flow(self) -> bool:
        return any(isinstance(s, (cst.If, cst.While, cst.For)) for s in self.ctx.stmts)

    def _merges(self, first: cst.CSTNode, at: cst.CSTNode) -> bool:
        """The new binding sits in a branch or a real loop that the first binding is outside of, so
        TorchScript must unify the two types where the paths join. Straight-line rebinding is fine (each
        assignment gets its own value), and so is a loop over a module container (it is unrolled)."""
        for stmt in self.ctx.stmts:
            if isinstance(stmt, cst.If):
                branches = [stmt.body, stmt.orelse]
            elif isinstance(stmt, cst.While):
                branches = [stmt.body]
            elif isinstance(stmt, cst.For) and self.ctx.kind(stmt.iter) != Kind.MODULE:
                branches = [stmt.body]
            else:
                continue
            for branch in branches:
                if branch is not None and _contains(branch, at) and not _contains(branch, first):
                    return True
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._bound(node.targets[0].target.value, node.value, node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._bound(node.target.value, node.value, node, aug=True)
