"""TL516: an `Optional[...]` parameter used without an `is not None` refinement: script rejects the use."""
from __future__ import annotations

from typing import Iterable

import libcst as cst

from tracelint.analysis.boundary import is_optional_annotation, param_annotations, script_only
from tracelint.analysis.names import dotted_name
from tracelint.rule import Invalid, Rule
from tracelint.analysis.nodes import children


def _none_test(test: cst.BaseExpression, names: set[str]) -> tuple[set[str], set[str]]:
    """(names refined when `test` is true, names refined when it is false)."""
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name) \
            and test.left.value in names:
        c = test.comparisons[0]
        if isinstance(c.comparator, cst.Name) and c.comparator.value == "None":
            if isinstance(c.operator, cst.IsNot):
                return {test.left.value}, set()
            if isinstance(c.operator, cst.Is):
                return set(), {test.left.value}
    if isinstance(test, cst.Call) and isinstance(test.func, (cst.Name, cst.Attribute)) and test.args \
            and (dotted_name(test.func) or "").endswith("isinstance") \
            and isinstance(test.args[0].value, cst.Name) and test.args[0].value.value in names:
        return {test.args[0].value.value}, set()   # isinstance(mask, torch.Tensor) refines too
    if isinstance(test, cst.BooleanOperation):
        lt, lf = _none_test(test.left, names)
        rt, rf = _none_test(test.right, names)
        if isinstance(test.operator, cst.And):
            return lt | rt, set()
        return set(), lf | rf
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        t, f = _none_test(test.expression, names)
        return f, t
    return set(), set()


def _terminates(body: cst.BaseSuite) -> bool:
    stmts = body.body if isinstance(body, cst.IndentedBlock) else [body]
    last = stmts[-1] if stmts else None
    small = last.body if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else []
    return any(isinstance(s, (cst.Return, cst.Raise, cst.Continue, cst.Break)) for s in small)


def _assigns(body: cst.CSTNode, name: str) -> bool:
    stack = [body]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name
                                             for t in n.targets):
            return not (isinstance(n.value, cst.Name) and n.value.value == "None")
        stack.extend(children(n))
    return False


def _refined_after(node: cst.If, names: set[str]) -> set[str]:
    """Names refined after an if/elif/else chain: in every way through it, the name was refined by the
    tests, assigned a value, or the branch left (`if p is None: p = d` / `else: p = p.t()`, both
    branches assigning, `if p is None: raise`)."""
    branches: list[tuple[cst.BaseSuite | None, set[str]]] = []   # (body, refined on entry)
    falses: set[str] = set()
    cur: cst.If | cst.Else | None = node
    while isinstance(cur, cst.If):
        t, f = _none_test(cur.test, names)
        branches.append((cur.body, t | falses))
        falses = falses | f
        cur = cur.orelse
    branches.append((cur.body if isinstance(cur, cst.Else) else None, falses))
    out = set()
    for n in names:
        if all(n in entry or (body is not None and (_terminates(body) or _assigns(body, n)))
               for body, entry in branches):
            out.add(n)
    return out


class ScriptOptionalUnrefined(Rule):
    """Flags operations on an Optional-annotated parameter outside an `is not None` refinement."""

    code = "TL516"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-optional-unrefined"
    summary = "An `Optional[...]` parameter used without an `is not None` check: torch.jit.script rejects the call."
    short_message = "`{name}` (`{ann}`) used without an `is not None` check"
    message = "script: `{name}` is `{ann}` and is used here without an `is not None` refinement, which TorchScript rejects (\"arguments not valid\"); check it first"
    help = "refine before use (`if bias is not None: x = x + bias`), or assign a default first (`if bias is None: bias = torch.zeros_like(x)`)"
    targets = script_only("compile error: Optional value used without refinement")
    valid = (
        """
from typing import Optional
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x, bias: Optional[torch.Tensor] = None, mask: Optional[torch.Tensor] = None):
        if bias is None:
            bias = torch.zeros_like(x)
        if mask is not None:
            x = x * mask
        return x + bias
""",
        """
from typing import Optional
import torch
from torch import nn

class Embed(nn.Module):
    def forward(self, x, position_ids: Optional[torch.Tensor] = None, scale: Optional[torch.Tensor] = None):
        if position_ids is None:
            position_ids = torch.arange(x.shape[-1])
        else:
            position_ids = position_ids.unsqueeze(0)
        if self.training:
            scale = torch.ones_like(x)
        else:
            scale = torch.zeros_like(x)
        return x + position_ids * scale
""",
    )
    invalid = (
        Invalid("""
from typing import Optional
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x, bias: Optional[torch.Tensor] = None):
        return self.add(x, bias)

    def add(self, x, bias: Optional[torch.Tensor]):
        return x + bias
""", ((10, 20),)),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self.ctx.frame
        if frame is None or frame.node is not node:
            return
        opt = {name: ann for name, ann in param_annotations(self.ctx, node).items() if is_optional_annotation(ann)}
        if not opt:
            return
        self.opt = opt
        self.reported: set[str] = set()
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body]
        self._block(body, set())

    # ------------------------------------------------------------- statements
    def _block(self, stmts: Iterable[cst.CSTNode], refined: set[str]) -> None:
        refined = set(refined)
        names = set(self.opt)
        for s in stmts:
            if isinstance(s, cst.If):
                self._if(s, refined)
                refined |= _refined_after(s, names - refined)
            elif isinstance(s, (cst.FunctionDef, cst.ClassDef)):
                continue
            elif isinstance(s, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                for small in s.body:
                    self._expr(small, refined)
                    if isinstance(small, cst.Assign):
                        for t in small.targets:
                            if isinstance(t.target, cst.Name) and t.target.value in names:
                                refined.add(t.target.value)
                    elif isinstance(small, cst.Assert):
                        refined |= _none_test(small.test, names)[0]
            else:
                for child in children(s):
                    if isinstance(child, cst.BaseSuite):
                        self._block(child.body if isinstance(child, cst.IndentedBlock) else [child], refined)
                    elif isinstance(child, (cst.Else, cst.Finally)):
                        self._block(child.body.body if isinstance(child.body, cst.IndentedBlock) else [], refined)
                    elif isinstance(child, cst.BaseExpression):
                        self._expr(child, refined)

    def _truth(self, test: cst.CSTNode, refined: set[str]) -> None:
        """`if flag:` on an unrefined Optional: TorchScript cannot cast Optional[T] to bool."""
        if isinstance(test, cst.BooleanOperation):
            self._truth(test.left, refined)
            t, f = _none_test(test.left, set(self.opt))
            self._truth(test.right, refined | (t if isinstance(test.operator, cst.And) else f))
        elif isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            self._truth(test.expression, refined)
        elif isinstance(test, cst.Name) and test.value in self.opt and test.value not in refined \
                and test.value not in self.reported:
            self.reported.add(test.value)
            self.report(test, name=test.value, ann=self.opt[test.value])

    def _if(self, node: cst.If, refined: set[str]) -> None:
        t, f = _none_test(node.test, set(self.opt))
        self._truth(node.test, refined)
        self._expr(node.test, refined)
        self._block(node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body], refined | t)
        if isinstance(node.orelse, cst.If):
            self._if(node.orelse, refined | f)
        elif isinstance(node.orelse, cst.Else):
            body = node.orelse.body
            self._block(body.body if isinstance(body, cst.IndentedBlock) else [body], refined | f)

    # ------------------------------------------------------------ expressions
    def _expr(self, node: cst.CSTNode, refined: set[str]) -> None:
        if isinstance(node, (cst.Lambda, cst.FunctionDef)):
            return
        if isinstance(node, cst.IfExp):
            t, f = _none_test(node.test, set(self.opt))
            self._truth(node.test, refined)
            self._expr(node.test, refined)
            self._expr(node.body, refined | t)
            self._expr(node.orelse, refined | f)
            return
        if isinstance(node, cst.BooleanOperation):
            t, f = _none_test(node.left, set(self.opt))
            self._truth(node.left, refined)
            self._expr(node.left, refined)
            self._expr(node.right, refined | (t if isinstance(node.operator, cst.And) else f))
            return
        operands: list[cst.CSTNode] = []
        if isinstance(node, cst.BinaryOperation):
            operands = [node.left, node.right]
        elif isinstance(node, cst.UnaryOperation):
            if isinstance(node.operator, cst.Not):
                self._truth(node.expression, refined)
            operands = [node.expression]
        elif isinstance(node, (cst.Attribute, cst.Subscript)):
            operands = [node.value]
        elif isinstance(node, cst.Comparison) and not all(
                isinstance(c.operator, (cst.Is, cst.IsNot)) for c in node.comparisons):
            operands = [node.left, *(c.comparator for c in node.comparisons)]
        for o in operands:
            if isinstance(o, cst.Name) and o.value in self.opt and o.value not in refined \
                    and o.value not in self.reported:
                self.reported.add(o.value)
                self.report(o, name=o.value, ann=self.opt[o.value])
        for child in children(node):
            self._expr(child, refined)
