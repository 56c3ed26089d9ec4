"""TL401: forward parameters that are not tensors (None defaults, int/bool/str flags, untyped containers)."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import at_boundary, effects, module_calls, param_annotations
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, warn
from tracelint.analysis.nodes import children

_SCALARS = {"int", "float", "bool", "str"}
_SCALAR_SEQ = ("List[int]", "List[float]", "List[bool]", "List[str]", "list[int]", "list[float]",
               "Tuple[int", "Tuple[float", "tuple[int", "tuple[float")

_NONE_DEFAULT = effects(
    trace=fail("error: None cannot be an example input (\"Type 'Tuple[Tensor, NoneType]' cannot be traced\")"),
    script=fail("run-time error: the parameter is inferred as Tensor, so None is rejected"))
_NONE_DEFAULT_INNER = effects(script=fail("the parameter is inferred as Tensor, so a None default/argument is rejected"))
_NONE_DEFAULT_MAYBE = effects(script=warn("the parameter is inferred as Tensor: fails wherever a caller leaves it out or passes None"))
_SCALAR = effects(
    trace=fail("error: a Python scalar cannot be a traced input (\"cannot be traced\")"),
    export=fail("the value is specialised: runtime 'Guard failed' for any other value"))
_DICT = effects(script=fail("error: the unannotated parameter is inferred as Tensor (\"indexing tensor with unsupported index type 'str'\")"))
_SEQUENCE = effects(
    trace=warn("error if it holds Python numbers (\"cannot be traced\"); a list of tensors is fine"),
    script=fail("run-time error: the unannotated parameter is inferred as Tensor, a list is rejected"),
    export=warn("Python numbers in it are specialised: runtime 'Guard failed' for other values"))

_MESSAGES = {
    "none": ("`{name}=None` without an annotation: {consequence}; annotate it `Optional[Tensor]` "
             "and leave it out of the example inputs"),
    "none_inner": "`{name}=None` without an annotation: {consequence}; annotate it `Optional[Tensor]`",
    "scalar": "`{name}: {ann}` is a Python value at the capture boundary: {consequence}; make it a constructor option",
    "dict": "`{name}` is indexed with a string but has no annotation: {consequence}; annotate it `Dict[str, Tensor]`",
    "sequence": ("`{name}` is only indexed like a list but has no annotation: {consequence}; annotate it "
                 "(`List[float]`) and pass numbers as constructor options or tensors"),
}
_HELP = {
    "none": "annotate `mask: Optional[torch.Tensor] = None`, and call the captured model without the argument",
    "none_inner": "annotate `mask: Optional[torch.Tensor] = None` and refine it with `if mask is not None:`",
    "scalar": "make the value a constructor argument (`self.k = k`), or pass it as a tensor",
    "dict": "annotate the parameter (`batch: Dict[str, torch.Tensor]`), or pass the tensors as separate arguments",
    "sequence": "annotate the parameter; pass numbers as constructor options or as a tensor",
}


class NonTensorInput(Rule):
    """Flags forward parameters the captures cannot take as inputs (or TorchScript types wrongly)."""

    code = "TL401"
    name = "non-tensor-input"
    summary = "A forward parameter that is not a tensor: None defaults, int/bool/str flags, unannotated containers."
    short_message = "`{name}` is not a tensor input"
    message = "`{name}` is not a tensor input: {consequence}"
    help = _HELP["scalar"]
    targets = effects(trace=_SCALAR["trace"], script=_NONE_DEFAULT["script"], export=_SCALAR["export"])
    short_variants = {
        _MESSAGES["none"]: "`{name}=None` without an annotation",
        _MESSAGES["none_inner"]: "`{name}=None` without an annotation",
        _MESSAGES["scalar"]: "`{name}: {ann}` is a Python value at the capture boundary",
        _MESSAGES["dict"]: "`{name}` is used as a dict but has no annotation",
        _MESSAGES["sequence"]: "`{name}` is used as a list but has no annotation",
    }
    valid = (
        """
from typing import Dict, Optional
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, k: int = 2):
        super().__init__()
        self.k = k
    def forward(self, x, mask: Optional[torch.Tensor] = None, return_attn: bool = False):
        if mask is not None:
            x = x * mask
        return x[:, : self.k]

class Heads(nn.Module):
    def forward(self, batch: Dict[str, torch.Tensor]):
        return batch["x"] * 2 + batch["y"]
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class TopK(nn.Module):
    def forward(self, x, k: int, mask=None):
        if mask is not None:
            x = x * mask
        return x[:, :k]
""", ((5, 26), (5, 34))),
        Invalid("""
import torch
from torch import nn

class Fuse(nn.Module):
    def forward(self, batch):
        return batch["image"] * 2 + batch["depth"]
""", ((5, 23),)),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self.ctx.frame
        if frame is None or frame.node is not node or frame.role == "nested":
            return
        boundary = at_boundary(self.ctx) and frame.role in ("forward", "trace")
        params = [*node.params.posonly_params, *node.params.params]
        if frame.cls is not None and params and params[0].name.value in ("self", "cls"):
            params = params[1:]
        anns = param_annotations(self.ctx, node)
        for p in params:
            name = p.name.value
            ann = anns.get(name, "").replace(" ", "")
            default = p.default
            if not ann and isinstance(default, cst.Name) and default.value == "None":
                if frame.env.get(name) == Kind.PYTHON:
                    continue  # used as a flag (`if output_attentions:`): left out of the inputs, never a tensor
                if boundary:
                    self._flag(p, "none", _NONE_DEFAULT)
                else:
                    use = _none_at_call_sites(module_calls(self.ctx), node, p, frame.cls is not None)
                    if use != "never":
                        self._flag(p, "none_inner", _NONE_DEFAULT_INNER if use == "yes" else _NONE_DEFAULT_MAYBE)
            elif boundary and default is None and (ann in _SCALARS or ann.startswith(_SCALAR_SEQ)):
                self._flag(p, "scalar", _SCALAR, ann=ann)
            elif not ann and default is None:
                use = _usage(node, name)
                if use == "dict":
                    self._flag(p, "dict", _DICT)
                elif use == "sequence" and boundary:
                    self._flag(p, "sequence", _SEQUENCE)

    def _flag(self, p: cst.Param, what: str, eff, ann: str = "") -> None:
        consequence = "; ".join(f"{t}: {e.text}" for t, e in eff.items() if e.applies)
        self.report(p.name, _MESSAGES[what], effects=eff, help=_HELP[what], name=p.name.value,
                    ann=ann, consequence=consequence)


def _usage(fn: cst.FunctionDef, name: str) -> str:
    """How a parameter is used in the body: "dict" (only string keys), "sequence" (only int-literal
    indexing), or "" (anything else, e.g. tensor operations, which TorchScript's inferred Tensor fits)."""
    uses: list[str] = []
    parents: list[cst.CSTNode] = []

    def walk(n: cst.CSTNode) -> None:
        if isinstance(n, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) and n is not fn:
            return
        if isinstance(n, cst.Name) and n.value == name:
            uses.append(_classify(n, parents[-1] if parents else None))
        parents.append(n)
        for c in children(n):
            walk(c)
        parents.pop()

    walk(fn.body)
    if not uses:
        return ""
    if all(u == "dict" for u in uses):
        return "dict"
    if all(u == "index" for u in uses):
        return "sequence"
    return ""


def _classify(name: cst.Name, parent: cst.CSTNode | None) -> str:
    if isinstance(parent, cst.Subscript) and parent.value is name and len(parent.slice) == 1:
        sl = parent.slice[0].slice
        if isinstance(sl, cst.Index):
            if isinstance(sl.value, cst.SimpleString):
                return "dict"
            if isinstance(sl.value, cst.Integer):
                return "index"
        return "other"
    if isinstance(parent, cst.Attribute) and parent.value is name and parent.attr.value in (
            "get", "keys", "items", "values"):
        return "dict"
    return "other"


def _none_at_call_sites(calls: list[cst.Call], fn: cst.FunctionDef, param: cst.Param, method: bool) -> str:
    """Whether the file's calls of helper `fn` leave `param` at its None default: "yes" (some call
    does), "never" (every call passes a value), or "unknown" (no call found, e.g. a submodule forward)."""
    name = fn.name.value
    positional = [*fn.params.posonly_params, *fn.params.params]
    if method and positional:
        positional = positional[1:]
    index = next((i for i, q in enumerate(positional) if q is param), None)
    found = False
    for n in calls:
        f = n.func
        hit = (isinstance(f, cst.Attribute) and f.attr.value == name and isinstance(f.value, cst.Name)
               and f.value.value == "self") if method else (isinstance(f, cst.Name) and f.value == name)
        if not hit:
            continue
        if any(a.star for a in n.args):
            return "unknown"
        found = True
        value = next((a.value for a in n.args if a.keyword is not None and a.keyword.value == param.name.value), None)
        if value is None and index is not None:
            pos = [a.value for a in n.args if a.keyword is None]
            value = pos[index] if index < len(pos) else None
        if value is None or (isinstance(value, cst.Name) and value.value == "None"):
            return "yes"
    return "never" if found else "unknown"
