"""TL608: appending to a list (or writing a dict) stored on the module inside forward."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.analysis.state import in_training_branch, self_attr
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_MUTATORS = {"append", "extend", "insert", "pop", "clear", "remove", "update", "setdefault", "popitem"}
_EFFECTS = {
    "trace": fail("the list's capture-time length/contents are baked in (check_trace: TracingCheckError)"),
    "script": fail("compile error: failed to convert the list/dict attribute to a TorchScript type"),
    "export": fail("silently wrong: the container state is baked in ('tensor attribute assigned during export')"),
    "compile": ok("Dynamo replays the container mutation"),
}


# With a class-level annotation (`cache: Dict[str, Tensor]`) TorchScript knows the attribute's type.
_ANNOTATED_EFFECTS = {**_EFFECTS, "script": ok("the class-level annotation types the attribute; TorchScript "
                                              "compiles the mutation")}


def _class_annotated(cls: cst.ClassDef, attr: str) -> bool:
    """`attr: <type>` declared in the class body."""
    for stmt in cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ():
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) \
                        and small.target.value == attr:
                    return True
    return False


def _container(node: cst.CSTNode | None) -> bool:
    if isinstance(node, (cst.List, cst.Dict, cst.ListComp, cst.DictComp)):
        return True
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
            and node.func.value in ("list", "dict", "deque", "OrderedDict", "defaultdict"))


class PythonListState(Rule):
    """Flags `self.<list>.append(...)` and `self.<dict>[k] = v` in forward for containers made in __init__."""

    code = "TL608"
    name = "python-list-state"
    summary = "A Python list/dict on the module mutated inside forward: state the capture cannot carry."
    short_message = "`self.{attr}{op}` mutates a Python container in forward"
    message = "`self.{attr}{op}` mutates a Python container on the module inside forward: {consequence}"
    help = "collect into a local list and return it, or keep fixed-size state in a registered buffer"
    targets = _EFFECTS
    valid = (
        """
import torch
from torch import nn

class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])

    def forward(self, x):
        outs = []
        for layer in self.layers:
            x = layer(x)
            outs.append(x)
        return torch.stack(outs)
""",
    )
    invalid = (
        Invalid("""
from torch import nn

class Tracker(nn.Module):
    def __init__(self):
        super().__init__()
        self.history = []

    def forward(self, x):
        self.history.append(x.mean())
        return x * len(self.history)
""", ((9, 9),)),
    )

    def _container_attr(self, node: cst.CSTNode) -> str | None:
        attr = self_attr(node)
        if attr is None or self.ctx.cls is None or not self.ctx.cls.is_module:
            return None
        fact = self.ctx.attr_fact(attr)
        if fact is None or fact.kind == Kind.MODULE or not _container(fact.node):
            return None
        return attr

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS:
            attr = self._container_attr(func.value)
            if attr and not in_training_branch(self.ctx):
                self._emit(node, attr, f".{func.attr.value}(...)")

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        tgt = node.target
        if isinstance(tgt, cst.Subscript):
            attr = self._container_attr(tgt.value)
            if attr and not in_training_branch(self.ctx):
                self._emit(tgt, attr, "[...] = ...")

    def _emit(self, node: cst.CSTNode, attr: str, op: str) -> None:
        cls = self.ctx.cls
        effects = _ANNOTATED_EFFECTS if cls is not None and _class_annotated(cls.node, attr) else _EFFECTS
        consequence = "; ".join(f"{t}: {e.text}" for t, e in effects.items() if e.applies)
        self.report(node, attr=attr, op=op, consequence=consequence, effects=effects)
