"""TL607: assigning `self.<attr>` inside forward keeps Python state the capture does not record."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.analysis.state import in_training_branch, is_registered_buffer, self_attr
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok, warn
from tracelint.analysis.nodes import children

_CONSTANT_KINDS = (Kind.PYTHON, Kind.PARAM, Kind.NONE, Kind.SELF, Kind.MODULE)

_COUNTER = {
    "trace": fail("the attribute's capture-time value is baked in (check_trace: TracingCheckError)"),
    "script": ok("TorchScript mutates int/float attributes correctly"),
    "export": fail("silently wrong: the capture-time value is baked in (strict: side-effect warning)"),
    "compile": ok("Dynamo replays the attribute mutation"),
}
_TENSOR = _COUNTER | {
    "script": fail("compile error: wrong type for attribute assignment (declared None/other, got Tensor)"),
    "export": fail("silently wrong: 'tensor attribute assigned during export' (must be a buffer)"),
}
_TENSOR_TYPED = _TENSOR | {"script": ok("the attribute is declared as a Tensor")}
_UNKNOWN = _COUNTER | {"script": warn("TorchScript needs the attribute declared with a fixed type")}
_NEW = _COUNTER | {"script": fail("compile error: the module has no such attribute (not set in __init__)")}


class AttributeMutation(Rule):
    """Flags `self.x = ...` / `self.x += ...` in forward for attributes that are not buffers or submodules."""

    code = "TL607"
    name = "attribute-mutation"
    summary = "`self.x = ...` / `self.x += 1` inside forward: Python state that trace and export bake in."
    short_message = "`self.{attr}` is assigned inside forward"
    message = "`self.{attr}` is assigned inside forward: {consequence}"
    help = ("keep state in a registered buffer updated in place (`self.count.add_(1)`), or return it from forward; "
            "caches between calls belong outside the captured model")
    targets = _COUNTER
    valid = (
        """
import torch
from torch import nn

class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0
        self.register_buffer("steps", torch.zeros(()))

    def reset(self):
        self.calls = 0          # not reachable from forward

    def forward(self, x):
        calls = self.calls + 1  # a local copy
        return x * calls
""",
    )
    invalid = (
        Invalid("""
from torch import nn

class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x * self.calls
""", ((9, 9),)),
        Invalid("""
from torch import nn

class Delta(nn.Module):
    def __init__(self):
        super().__init__()
        self.prev = None

    def forward(self, x):
        out = x if self.prev is None else x - self.prev
        self.prev = x.detach()
        return out
""", ((10, 9),)),
    )

    def _declared_tensor(self, attr: str) -> bool:
        cls = self.ctx.cls
        if cls is None:
            return False
        for s in cls.node.body.body if isinstance(cls.node.body, cst.IndentedBlock) else ():
            if isinstance(s, cst.SimpleStatementLine):
                for small in s.body:
                    if (isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name)
                            and small.target.value == attr
                            and "Tensor" in cst.Module([]).code_for_node(small.annotation.annotation)):
                        return True
        return False

    def _check(self, target: cst.CSTNode, value: cst.CSTNode | None, aug: bool) -> None:
        attr = self_attr(target)
        if attr is None or attr == "training" or self.ctx.cls is None or not self.ctx.cls.is_module:
            return
        fact = self.ctx.attr_fact(attr)
        if is_registered_buffer(fact) or (fact is not None and fact.kind == Kind.MODULE):
            return  # buffers: TL609; submodules are not state
        if in_training_branch(self.ctx):
            return  # call-site dependent: only when captured in train mode
        vkind = self.ctx.kind(value) if value is not None else Kind.UNKNOWN
        if fact is None:
            effects = _NEW
        elif vkind == Kind.TENSOR:
            effects = _TENSOR_TYPED if (fact.kind == Kind.TENSOR or self._declared_tensor(attr)) else _TENSOR
        elif aug or vkind in (Kind.PYTHON, Kind.BAKED, Kind.SHAPE) and fact.kind in (Kind.PYTHON, Kind.NONE):
            effects = _COUNTER
        else:
            effects = _UNKNOWN
        if not aug and value is not None and self._from_constants(value):
            # an idempotent cache (`self.grid = self._make_grid(self.size)`): every run computes the
            # same value, so baking the capture-time one is harmless; only TorchScript's typing remains
            effects = {**effects, "trace": ok("the value does not depend on the input: baking it is harmless"),
                       "export": ok("the value does not depend on the input"),
                       "compile": ok("the value does not depend on the input")}
        consequence = "; ".join(f"{t}: {e.text}" for t, e in effects.items() if e.applies)
        self.report(target, attr=attr, consequence=consequence, effects=effects)

    def _from_constants(self, value: cst.CSTNode) -> bool:
        """The value reads no input: only `self` state, literals, module-level names and calls on them."""
        stack = [value]
        while stack:
            n = stack.pop()
            if isinstance(n, cst.Name):
                if self.ctx.kind(n) not in _CONSTANT_KINDS:
                    return False
            elif isinstance(n, cst.Attribute):
                stack.append(n.value)   # `.attr` is a name, not a value
            elif isinstance(n, cst.Arg):
                stack.append(n.value)   # `key=` is a name, not a value
            elif isinstance(n, (cst.Lambda, cst.FunctionDef)):
                return False
            else:
                stack.extend(children(n))
        return True

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            tgt = t.target
            elems = [e.value for e in tgt.elements] if isinstance(tgt, (cst.Tuple, cst.List)) else [tgt]
            for e in elems:
                self._check(e, node.value if len(elems) == 1 else None, aug=False)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._check(node.target, node.value, aug=True)
