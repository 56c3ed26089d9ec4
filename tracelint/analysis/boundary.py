"""Facts about the forward boundary and TorchScript's language subset, shared by the TL4xx/TL5xx rules.

Kept apart from the kind analysis: these are questions about a whole file (which module classes are
only ever used as submodules, which classes are namedtuples or dataclasses) or about one function's
signature, and they are asked by several rules.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Mapping

import libcst as cst

from tracelint.analysis.names import annotation_text, dotted_name
from tracelint.targets import Effect, fail, ok
from tracelint.analysis.nodes import iter_nodes

if TYPE_CHECKING:  # pragma: no cover
    from tracelint.analysis.context import FileContext

# Roles of frames whose parameters are the capture's inputs and whose returns are its outputs.
BOUNDARY_ROLES = {"forward", "trace", "compile", "script"}
LITERALS = (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.Imaginary)


def script_only(text: str) -> dict[str, Effect]:
    """Effects of a TorchScript language limit: script fails, the tracers never see the syntax."""
    return {"trace": ok(), "script": fail(text), "export": ok(), "compile": ok()}


def effects(trace: Effect = ok(), script: Effect = ok(), export: Effect = ok(),
            compile: Effect = ok()) -> Mapping[str, Effect]:
    return {"trace": trace, "script": script, "export": export, "compile": compile}


def _cached(ctx: "FileContext", key: str, build):
    store = ctx.__dict__.setdefault("_boundary_cache", {})
    if key not in store:
        store[key] = build()
    return store[key]


def _class_defs(ctx: "FileContext") -> Iterator[cst.ClassDef]:
    for s in ctx.module.body:
        if isinstance(s, cst.ClassDef):
            yield s


def submodule_classes(ctx: "FileContext") -> set[str]:
    """Module classes of this file constructed inside another module class (blocks, heads): their
    forward is called by a parent, so its parameters and returns are not the capture boundary."""
    def build() -> set[str]:
        local = set(ctx.module_class_names)
        out: set[str] = {n for n in local if f"{ctx.index.module}.{n}" in ctx.project_submodules}
        # classes the project model has decided are entry points (loadable models, configured
        # entry modules) stay entry points; without a project, construction in another class decides
        decided = {n for n in local if f"{ctx.index.module}.{n}" in ctx.project_entries}
        for cls in _class_defs(ctx):
            if cls.name.value not in local:
                continue
            for call in _calls(cls):
                if isinstance(call.func, cst.Name) and call.func.value in local \
                        and call.func.value != cls.name.value and call.func.value not in decided:
                    out.add(call.func.value)
        return out
    return _cached(ctx, "submodules", build)


def _calls(node: cst.CSTNode) -> Iterator[cst.Call]:
    return (n for n in iter_nodes(node) if isinstance(n, cst.Call))


def module_calls(ctx: "FileContext") -> list[cst.Call]:
    """Every call in the file, collected once per file."""
    return _cached(ctx, "calls", lambda: list(_calls(ctx.module)))


def at_boundary(ctx: "FileContext", roles=BOUNDARY_ROLES) -> bool:
    """The current function is a capture entry point: a top-level module's forward or a captured function."""
    frame = ctx.frame
    if frame is None or frame.role not in roles or len(ctx.frames) != 1:
        return False
    if frame.role == "forward":
        cls = ctx.cls
        return cls is not None and cls.name not in submodule_classes(ctx)
    return True


def structured_classes(ctx: "FileContext") -> dict[str, str]:
    """Local class name -> "namedtuple" | "dataclass", from the module body."""
    def build() -> dict[str, str]:
        out: dict[str, str] = {}
        for s in ctx.module.body:
            if isinstance(s, cst.ClassDef):
                for d in s.decorators:
                    dec = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
                    if (ctx.qualified(dec) or "") in ("dataclasses.dataclass", "dataclass"):
                        out[s.name.value] = "dataclass"
                for b in s.bases:
                    if (ctx.qualified(b.value) or "") in ("typing.NamedTuple", "NamedTuple"):
                        out[s.name.value] = "namedtuple"
            elif isinstance(s, cst.SimpleStatementLine):
                for small in s.body:
                    if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call) \
                            and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                        ctor = ctx.qualified(small.value.func) or ""
                        if ctor in ("collections.namedtuple", "typing.NamedTuple", "namedtuple"):
                            out[small.targets[0].target.value] = "namedtuple"
        return out
    return _cached(ctx, "structured", build)


def returned_elements(value: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The expressions a `return` hands out: the tuple's elements, or the value itself."""
    if isinstance(value, cst.Tuple):
        return [e.value for e in value.elements if not isinstance(e, cst.StarredElement)]
    return [value]


def is_literal_index(node: cst.BaseExpression) -> bool:
    """An index TorchScript can read at compile time: a literal (possibly negative) int or a string."""
    if isinstance(node, (cst.Integer, cst.SimpleString)):
        return True
    return isinstance(node, cst.UnaryOperation) and isinstance(node.expression, cst.Integer)


def is_optional_annotation(text: str) -> bool:
    t = text.replace(" ", "")
    return t.startswith(("Optional[", "typing.Optional[")) or t.endswith("|None") or t.startswith("None|")


def param_annotation(p: cst.Param) -> str:
    return annotation_text(p.annotation)


def param_annotations(ctx: "FileContext", fn: cst.FunctionDef) -> dict[str, str]:
    """Each parameter's annotation: written inline or in a PEP 484 type comment
    (`# type: (List[Tensor], Optional[Tensor]) -> Tensor`, which TorchScript honours too)."""
    from tracelint.analysis.context import type_comment_params

    def build() -> dict[str, str]:
        p = fn.params
        out = dict(type_comment_params(fn))
        for q in (*p.posonly_params, *p.params, *p.kwonly_params):
            if q.annotation is not None:
                out[q.name.value] = annotation_text(q.annotation)
        return out
    return _cached(ctx, ("annotations", id(fn)), build)


def is_builtin_call(ctx: "FileContext", node: cst.CSTNode, *names: str) -> bool:
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in names
            and ctx.is_builtin(node.func.value))


def self_attr(node: cst.CSTNode) -> str | None:
    """`attr` for `self.attr`, else None."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def qualified_or_dotted(ctx: "FileContext", node: cst.CSTNode) -> str:
    return ctx.qualified(node) or dotted_name(node) or ""


class ReturnTracker:
    """Remembers, per function, local names last bound to a dict or a list literal (`out = {}`)."""

    def __init__(self, ctx: "FileContext") -> None:
        self.ctx = ctx
        self.bound: dict[int, dict[str, str]] = {}

    def names(self) -> dict[str, str]:
        return self.bound.setdefault(id(self.ctx.frame.node if self.ctx.frame else None), {})

    def assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Name):
                what = container_kind(self.ctx, node.value)
                if what:
                    self.names()[t.target.value] = what
                else:
                    self.names().pop(t.target.value, None)

    def kind_of(self, value: cst.BaseExpression) -> str:
        if isinstance(value, cst.Name):
            return self.names().get(value.value, "")
        return container_kind(self.ctx, value)


def container_kind(ctx: "FileContext", value: cst.BaseExpression) -> str:
    """"dict" / "list" for a dict or list display, comprehension or builtin call, else ""."""
    if isinstance(value, (cst.Dict, cst.DictComp)) or is_builtin_call(ctx, value, "dict"):
        return "dict"
    if isinstance(value, (cst.List, cst.ListComp)) or is_builtin_call(ctx, value, "list"):
        return "list"
    return ""


def tensorish(ctx: "FileContext", node: cst.BaseExpression) -> bool:
    """A tensor value: TENSOR kind, a call of a submodule (`layer(x)`, `self.proj(x)`), or arithmetic
    on one. The shared kinds leave submodule calls UNKNOWN (a module may return a tuple); for the
    rules that ask here a submodule's result is a tensor in practice."""
    from tracelint.analysis.kinds import Kind

    if ctx.kind(node) == Kind.TENSOR:
        return True
    if isinstance(node, cst.Call):
        return ctx.kind(node.func) == Kind.MODULE
    if isinstance(node, cst.BinaryOperation):
        return tensorish(ctx, node.left) or tensorish(ctx, node.right)
    return False
