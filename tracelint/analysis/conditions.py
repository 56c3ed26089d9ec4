"""Where Python asks a value for its truth: tests of if/while/ternary/assert/comprehension-if and and/or/not.

Condition rules (tensor, shape, dtype/device tests) share this: a test is split into the leaves that
Python converts to bool, and each matching leaf is reported *when the walker reaches it*, so guard
regions such as the right side of `not torch.jit.is_tracing() and ...` apply to the finding.
"""
from __future__ import annotations

from typing import Iterator, Mapping

import libcst as cst

from tracelint.rule import Rule
from tracelint.targets import Effect

IF, WHILE, IFEXP, COMPIF, ASSERT, BOOLOP = "if", "while", "ternary", "comprehension-if", "assert", "and/or/not"


def bool_leaves(expr: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The operands Python calls `bool()` on when `expr` is used as a condition."""
    if isinstance(expr, cst.BooleanOperation):
        yield from bool_leaves(expr.left)
        yield from bool_leaves(expr.right)
    elif isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        yield from bool_leaves(expr.expression)
    else:
        yield expr


TORCH_ASSERTS = {"torch._assert"}


def is_torch_assert(ctx, node: cst.Call) -> bool:
    """`torch._assert(cond, msg)` (also through a re-export or a private alias): an assert that trace
    converts to a Python bool, just like the statement."""
    return (ctx.qualified(node.func) or "") in TORCH_ASSERTS


def raise_only(node: cst.If) -> bool:
    """`if test: raise ...` with no else (an `elif` chain of such checks counts too): input validation."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body]
    small = [s for line in body
             for s in (line.body if isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else [line])]
    if not small or not all(isinstance(s, cst.Raise) for s in small):
        return False
    if node.orelse is None:
        return True
    return isinstance(node.orelse, cst.If) and raise_only(node.orelse)


def _connectives(expr: cst.BaseExpression) -> Iterator[cst.CSTNode]:
    if isinstance(expr, cst.BooleanOperation):
        yield expr
        yield from _connectives(expr.left)
        yield from _connectives(expr.right)
    elif isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        yield expr
        yield from _connectives(expr.expression)


class ConditionRule(Rule):
    """Base for rules that flag condition leaves; subclasses say which tests and which leaves.

    `contexts` lists the test positions the rule checks; `match(leaf)` returns the effects of a
    finding for that leaf (None: not a hazard), format fields and optionally a message template
    and a help text replacing the rule's (`self.validation` tells it the test guards a bare `raise`).
    """

    contexts: tuple[str, ...] = (IF, WHILE, IFEXP, COMPIF, BOOLOP)

    # True while `match` runs on the test of an `if <test>: raise ...` (no else): a validation check,
    # which trace drops from the graph like an assert rather than baking in a branch.
    validation: bool = False

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._pending: dict[int, tuple] = {}
        self._handled: set[int] = set()

    def match(self, leaf: cst.BaseExpression, where: str) -> tuple[Mapping[str, Effect] | None, dict] | None:
        raise NotImplementedError

    # ------------------------------------------------------------------ tests
    def _test(self, test: cst.BaseExpression, where: str, validation: bool = False) -> None:
        if where not in self.contexts:
            return
        self._handled.update(id(n) for n in _connectives(test))
        self.validation = validation
        try:
            for leaf in bool_leaves(test):   # one finding per test: the first matching leaf
                hit = self.match(leaf, where)
                if hit is not None:
                    self._pending[id(leaf)] = (where, *hit)
                    break
        finally:
            self.validation = False

    def visit_If(self, node: cst.If) -> None:
        self._test(node.test, IF, validation=raise_only(node))

    def visit_While(self, node: cst.While) -> None:
        self._test(node.test, WHILE)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._test(node.test, IFEXP)

    def visit_CompIf(self, node: cst.CompIf) -> None:
        self._test(node.test, COMPIF)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._test(node.test, ASSERT)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        if id(node) not in self._handled and BOOLOP in self.contexts:
            self._handled.add(id(node))
            for leaf in bool_leaves(node.left):   # `a or b` calls bool(a); b is returned as is
                hit = self.match(leaf, BOOLOP)
                if hit is not None:
                    self._pending[id(leaf)] = (BOOLOP, *hit)
                    break
        self._leaf(node)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Not) and id(node) not in self._handled:
            self._test(node, BOOLOP)
        self._leaf(node)

    # ------------------------------------------------------------------ leaves
    def _leaf(self, node: cst.CSTNode) -> None:
        pending = self._pending.pop(id(node), None)
        if pending is not None:
            where, effects, fmt, *rest = pending   # rest: optional message template, help
            message, help = (*rest, None, None)[:2]
            self.report(node, message, effects=effects, help=help, where=where, **fmt)

    def visit_Name(self, node: cst.Name) -> None:
        self._leaf(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._leaf(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._leaf(node)

    def visit_Call(self, node: cst.Call) -> None:
        if ASSERT in self.contexts and node.args and node.args[0].keyword is None and is_torch_assert(self.ctx, node):
            self._test(node.args[0].value, ASSERT)   # `torch._assert(cond, msg)`: Python's bool(cond), like assert
        self._leaf(node)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._leaf(node)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        self._leaf(node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._leaf(node)
