"""The single walk over a file: scope, entry points, guards and value kinds, shared by all rules.

Instead of a stack of LibCST metadata providers (each a full extra walk, with the tree deep-copied
by `MetadataWrapper`), the walker keeps the analysis state itself while it dispatches each node to
the rules, so a file is visited once. Positions are computed only when a file has findings.
"""
from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from typing import Container, Iterable

import libcst as cst

from tracelint.analysis.index import FileIndex, Reach
from tracelint.analysis.kinds import Kind, KindEvaluator, annotation_kind, join, split_optional
from tracelint.analysis.nodes import children
from tracelint.analysis.names import annotation_text, dotted_name, resolve_name, string_value
from tracelint.rule import ANYWHERE, INIT, REACHABLE, Rule
from tracelint.targets import TARGETS, Effect, ok

CAPTURED = frozenset({"trace", "export", "compile"})   # the targets that run the forward in eval mode

BUILTINS = frozenset(dir(builtins))
ALL = frozenset(TARGETS)
ENTRY_ROLES = {"forward", "export", "script", "compile", "trace"}

# guard call -> the targets under which the guard is True
GUARDS = {
    "torch.jit.is_scripting": frozenset({"script"}),
    "torch.jit.is_tracing": frozenset({"trace"}),
    "torch._C._get_tracing_state": frozenset({"trace"}),
    "torch.compiler.is_compiling": frozenset({"export", "compile"}),
    "torch.compiler.is_dynamo_compiling": frozenset({"export", "compile"}),
    "torch._dynamo.is_compiling": frozenset({"export", "compile"}),
    "torch.compiler.is_exporting": frozenset({"export"}),
    # true under none of the four targets: ONNX export, FX symbolic tracing
    "torch.onnx.is_in_onnx_export": frozenset(),
    "torch.fx._symbolic_trace.is_fx_tracing": frozenset(),
}
SCRIPT_EXEMPT_DECORATORS = {"torch.jit.ignore", "torch.jit.unused"}
# functions scripted when traced: trace runs them with TorchScript's run-time semantics
SCRIPTED_WHEN_TRACED = {"torch.jit._script_if_tracing", "torch.jit.script_if_tracing"}


@dataclass
class AttrFact:
    kind: Kind
    ctor: str = ""                 # resolved constructor name (torch.nn.ModuleList, numpy.array, ...)
    node: cst.CSTNode | None = None
    optional: bool = False
    alternatives: tuple[str, ...] = ()   # other constructors `__init__` assigns in other branches


@dataclass
class ClassState:
    name: str
    node: cst.ClassDef
    is_module: bool
    attrs: dict[str, AttrFact] = field(default_factory=dict)
    methods: dict[str, cst.FunctionDef] = field(default_factory=dict)
    constants: set[str] = field(default_factory=set)   # Final / __constants__


@dataclass
class Frame:
    qualname: str
    role: str                    # forward/export/script/compile/trace/helper/init/nested/summary
    node: cst.FunctionDef | None
    env: dict[str, Kind] = field(default_factory=dict)
    optional: set[str] = field(default_factory=set)   # Optional[...] parameters
    cls: ClassState | None = None
    reach: Reach | None = None
    analysed: bool = True
    excluded_at_entry: int = 0   # len(ctx.excluded) when the frame was entered (regions inside it come after)


class FileContext:
    """What rules see: where we are, what kind a value is, which targets a guard excludes."""

    def __init__(self, path: str, module: cst.Module, index: FileIndex, reach: dict[str, Reach],
                 module_classes: set[str], project_module_classes: set[str] = frozenset()):
        self.path = path
        self.module = module
        self.index = index
        self.reach = reach
        self.module_class_names = module_classes
        self.project_module_classes = project_module_classes
        self.aliases = index.aliases
        self.local_names = set(index.functions) | set(index.classes)
        self.frames: list[Frame] = []
        self.classes: list[ClassState] = []
        self.excluded: list[tuple[frozenset[str], str]] = []
        self.stmts: list[cst.CSTNode] = []
        self.findings: list[tuple] = []
        # (statement being walked, its top-level class or None): positions are computed per statement
        self.top: tuple[cst.CSTNode, cst.ClassDef | None] | None = None
        self.text = ""                          # the decoded source, for cheap text checks
        self.tuple_output_classes: frozenset[str] = frozenset()
        self.kinds = KindEvaluator(self)
        self.functions: dict[str, cst.FunctionDef] = {
            s.name.value: s for s in module.body if isinstance(s, cst.FunctionDef)}
        self._summaries: dict[tuple[str, str], Kind] = {}
        self.callsite: dict[str, dict[str, Kind]] = {}  # helper qualname -> param -> joined arg kind
        self.external_params: dict[str, tuple[str, ...]] = {}  # dotted helper in another file -> params
        self.outgoing: dict[str, dict[str, Kind]] = {}   # what this file passes to those helpers
        self.incoming: dict[str, dict[str, Kind]] = {}   # what other files pass to helpers here
        self.callsite_excluded: dict[str, tuple[frozenset[str], str]] = {}  # helper -> targets no caller runs
        self.project_submodules: frozenset[str] = frozenset()  # dotted module classes used as submodules
        self.guard_functions: Container[str] = frozenset()  # "wrapper=guard" for one-line guard wrappers (any file)
        self.project_entries: Container[str] = frozenset()  # module classes captured whole (loadable models)
        self.output_classes: Container[str] = frozenset()  # "class=kind" output classes (any file)
        self.size_functions: Container[str] = frozenset()  # dotted functions (any file) returning tensor sizes

    # ---------------------------------------------------------------- where
    @property
    def frame(self) -> Frame | None:
        return self.frames[-1] if self.frames else None

    @property
    def analysed(self) -> bool:
        """Inside code reachable from an entry point (forward, @jit.export, captured functions)."""
        return bool(self.frames) and self.frames[-1].analysed and self.frames[-1].role != "init"

    @property
    def in_init(self) -> bool:
        return bool(self.frames) and self.frames[-1].role == "init"

    @property
    def cls(self) -> ClassState | None:
        return self.classes[-1] if self.classes else None

    @property
    def entry_frame(self) -> Frame | None:
        """The outermost analysed function (nested defs report against it)."""
        return self.frames[0] if self.frames else None

    def scope_name(self) -> str:
        return self.frames[-1].qualname if self.frames else (self.cls.name if self.cls else "<module>")

    def _exclusion_reason(self) -> str:
        return self.excluded[-1][1] if self.excluded else ""

    def excluded_targets(self) -> frozenset[str]:
        out: set[str] = set()
        for targets, _ in self.excluded:
            out |= targets
        return frozenset(out)

    # ---------------------------------------------------------------- what
    def kind(self, node: cst.CSTNode) -> Kind:
        return self.kinds.kind(node)

    def qualified(self, node: cst.CSTNode) -> str | None:
        """The resolved dotted name (`F.relu` -> `torch.nn.functional.relu`), or None."""
        name = dotted_name(node)
        if name is None:
            return None
        head = name.split(".")[0]
        if self.frames and head in self.frames[-1].env:
            return None  # a local variable shadows imports
        return resolve_name(name, self.aliases, self.index.module, self.local_names)

    def is_builtin(self, name: str) -> bool:
        return (name in BUILTINS and name not in self.aliases and name not in self.local_names
                and not any(name in f.env for f in self.frames))

    def name_kind(self, name: str) -> Kind:
        for f in reversed(self.frames):
            if name in f.env:
                return f.env[name]
        if name in self.aliases or name in self.local_names:
            return Kind.PYTHON
        if name in self.index.constants:
            return Kind.PYTHON
        if name in BUILTINS:
            return Kind.PYTHON
        return Kind.UNKNOWN

    def self_attr_kind(self, attr: str) -> Kind:
        if attr == "training":
            return Kind.PYTHON
        cls = self.cls
        if cls is None:
            return Kind.UNKNOWN
        fact = cls.attrs.get(attr)
        if fact is not None:
            return fact.kind
        if attr in cls.methods:
            return Kind.PYTHON
        return Kind.UNKNOWN

    def attr_fact(self, attr: str) -> AttrFact | None:
        return self.cls.attrs.get(attr) if self.cls else None

    def method_return_kind(self, meth: str) -> Kind:
        cls = self.cls
        if cls is None or meth not in cls.methods:
            return Kind.UNKNOWN
        return self._summary(cls.methods[meth], cls, f"{cls.name}.{meth}")

    def function_return_kind(self, name: str) -> Kind:
        if name in self.functions:
            return self._summary(self.functions[name], None, name)
        full = resolve_name(name, self.aliases)
        if full in self.project_module_classes or (name in self.index.classes
                                                   and name in self.module_class_names):
            return Kind.MODULE
        if full in self.size_functions:
            return Kind.SHAPE   # a helper in another file that returns sizes read from its argument
        return Kind.UNKNOWN

    def _summary(self, fn: cst.FunctionDef, cls: ClassState | None, qual: str) -> Kind:
        """Return kind of a helper: its annotation, else the join of its return statements."""
        key = (qual, "")
        if key in self._summaries:
            return self._summaries[key]
        ret = annotation_text(fn.returns)
        declared = None
        if ret:
            declared = annotation_kind(ret) or Kind.UNKNOWN
            if declared != Kind.PYTHON or not _number_text(ret):
                self._summaries[key] = declared
                return declared
            # `-> list[int]` may still hand out traced sizes (`return [c, h, w]` from `img.shape`)
        self._summaries[key] = declared or Kind.UNKNOWN  # recursion guard
        frame = Frame(qual, "summary", fn, cls=cls)
        self._bind_params(frame, fn, tensor_default=cls is not None and cls.is_module)
        saved_frames, saved_cache = self.frames, self.kinds.cache
        self.frames, self.kinds.cache = [frame], {}
        try:
            kinds = [self.kind(r) for r in _returns(fn.body, frame, self)]
        finally:
            self.frames, self.kinds.cache = saved_frames, saved_cache
        k = join(kinds) if kinds else Kind.NONE
        if declared is not None:
            k = Kind.SHAPE if k == Kind.SHAPE else declared
            self._summaries[key] = k
            return k
        if Kind.TENSOR in kinds:
            k = Kind.TENSOR
        if Kind.TENSORS in kinds:  # a tuple on some path: a tensor on another would make unpacking look wrong
            k = Kind.TENSORS if all(x in (Kind.TENSORS, Kind.NONE) for x in kinds) else Kind.UNKNOWN
        self._summaries[key] = k
        return k

    # ---------------------------------------------------------------- frames
    def _bind_params(self, frame: Frame, fn: cst.FunctionDef, tensor_default: bool) -> None:
        params = fn.params
        positional = [*params.posonly_params, *params.params]
        commented = type_comment_params(fn)
        uses = self._param_uses(frame) if tensor_default else {}
        inner = tensor_default and self._called_by_parent(frame)
        for i, p in enumerate(positional + list(params.kwonly_params)):
            name = p.name.value
            if i == 0 and frame.cls is not None and name in ("self", "cls") and p in positional:
                frame.env[name] = Kind.SELF
                continue
            ann = annotation_text(p.annotation) or commented.get(name, "")
            if ann and split_optional(ann)[1]:
                frame.optional.add(name)
            k = annotation_kind(ann) if ann else None
            if k is None:
                if ann:
                    k = Kind.UNKNOWN
                elif p.default is not None and not (isinstance(p.default, cst.Name)
                                                    and p.default.value == "None"):
                    k = Kind.PYTHON if isinstance(p.default, (cst.Integer, cst.Float, cst.SimpleString,
                                                              cst.Name, cst.UnaryOperation)) else Kind.UNKNOWN
                else:
                    k = _evidence_kind(uses.get(name, ""), inner) if tensor_default else Kind.UNKNOWN
                    if p.default is not None:
                        frame.optional.add(name)
            frame.env[name] = k
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                frame.env[star.name.value] = Kind.UNKNOWN

    def _called_by_parent(self, frame: Frame) -> bool:
        """A submodule's forward (its module class is built by another module): not the capture boundary."""
        from tracelint.analysis.boundary import submodule_classes
        return frame.role == "forward" and frame.cls is not None and frame.cls.name in submodule_classes(self)

    def _param_uses(self, frame: Frame) -> dict[str, str]:
        """How the function's parameters are used, from the index (`FunctionFacts.param_uses`)."""
        qual = frame.qualname
        cls_name, _, meth = qual.rpartition(".")
        if cls_name:
            c = self.index.classes.get(cls_name)
            facts = c.methods.get(meth) if c is not None else None
        else:
            facts = self.index.functions.get(qual)
        return facts.param_uses if facts is not None else {}

    def record_call(self, call: cst.Call) -> None:
        """Remember argument kinds at calls of same-file helpers (their unannotated parameters)."""
        func = call.func
        target: cst.FunctionDef | None = None
        qual = ""
        skip_self = False
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            cls = self.cls
            if cls is not None and func.attr.value in cls.methods:
                target = cls.methods[func.attr.value]
                qual = f"{cls.name}.{func.attr.value}"
                skip_self = True
            elif cls is not None:
                self._record_submodule_call(call, func.attr.value)
                return
        elif isinstance(func, cst.Name) and func.value in self.functions and not any(
                func.value in f.env for f in self.frames):
            target = self.functions[func.value]
            qual = func.value
        if target is not None:
            params = [p.name.value for p in [*target.params.posonly_params, *target.params.params]]
            if skip_self and params:
                params = params[1:]
            self._record_args(call, params, self.callsite.setdefault(qual, {}))
            # the helper runs only where all its callers run: keep what their guards exclude
            here = (self.excluded_targets(), self._exclusion_reason())
            old = self.callsite_excluded.get(qual)
            self.callsite_excluded[qual] = here if old is None else (old[0] & here[0], old[1] or here[1])
            return
        full = self.qualified(func)
        if full is not None and full in self.external_params:
            # a helper in another file of the project: its kinds go back to the engine
            self._record_args(call, list(self.external_params[full]), self.outgoing.setdefault(full, {}))

    def _record_submodule_call(self, call: cst.Call, attr: str) -> None:
        """`self.downsample(x, (h, w))` where `self.downsample` is built from one class of this file: the
        argument kinds reach that class's forward (a size passed down stays a traced size)."""
        fact = self.attr_fact(attr)
        prefix = f"{self.index.module}."
        if fact is None or fact.kind != Kind.MODULE or fact.alternatives or not fact.ctor.startswith(prefix):
            return
        facts = self.index.classes.get(fact.ctor[len(prefix):])
        fwd = facts.methods.get("forward") if facts is not None else None
        if fwd is None:
            return
        params = [p.name for p in fwd.params if p.kind == "positional"][1:]
        self._record_args(call, params, self.callsite.setdefault(f"{facts.name}.forward", {}))

    def _record_args(self, call: cst.Call, params: list[str], seen: dict[str, Kind]) -> None:
        for i, arg in enumerate(call.args):
            if arg.star:
                return
            if arg.keyword is not None:
                name = arg.keyword.value
            elif i < len(params):
                name = params[i]
            else:
                continue
            k = self.kind(arg.value)
            seen[name] = k if name not in seen else join([seen[name], k])

    def enter_function(self, fn: cst.FunctionDef) -> Frame | None:
        """Push a frame for `fn` if it is analysed (reachable) or module setup; None means skip it."""
        name = fn.name.value
        cls = self.cls
        if self.frames:
            outer = self.frames[-1]
            frame = Frame(f"{outer.qualname}.<locals>.{name}", "nested", fn, cls=outer.cls,
                          analysed=outer.analysed)
            self._bind_params(frame, fn, tensor_default=False)
        else:
            qual = f"{cls.name}.{name}" if cls else name
            reach = self.reach.get(qual)
            if reach is not None:
                frame = Frame(qual, reach.role, fn, cls=cls, reach=reach)
                self._bind_params(frame, fn, tensor_default=reach.role in ENTRY_ROLES)
                seen = dict(self.incoming.get(qual, {}))
                for name, k in self.callsite.get(qual, {}).items():
                    seen[name] = join([seen[name], k]) if name in seen else k
                for name, k in seen.items():
                    if frame.env.get(name) == Kind.UNKNOWN and not _annotated(fn, name):
                        frame.env[name] = k
                    elif frame.env.get(name) == Kind.TENSOR and k == Kind.PARAM:
                        frame.env[name] = k  # every caller passes a parameter or buffer
                    elif k == Kind.SHAPE and frame.env.get(name) == Kind.PYTHON and _number_annotation(fn, name):
                        frame.env[name] = k  # `def pad(h: int)` called with `x.shape[-1]`: still a traced size
                excl = self.callsite_excluded.get(qual)
                if excl and excl[0] and reach.role == "helper" and qual not in self.incoming:
                    self.excluded.append((excl[0], f"only called where {excl[1]}"))
                if reach.excluded:
                    why = ("a property: TorchScript compiles it with the module" if reach.via.endswith("(property)")
                           else "a decorator's wrapper: TorchScript compiles the undecorated function")
                    self.excluded.append((frozenset(reach.excluded), why))
            elif cls is not None and cls.is_module and name == "__init__":
                frame = Frame(qual, "init", fn, cls=cls, analysed=False)  # set-up code, not captured
                self._bind_params(frame, fn, tensor_default=False)
                for k in list(frame.env):
                    if frame.env[k] == Kind.UNKNOWN:
                        frame.env[k] = Kind.PYTHON  # constructor arguments are configuration
            else:
                return None
        frame.excluded_at_entry = len(self.excluded)
        self.frames.append(frame)
        return frame

    def bind(self, target: cst.CSTNode, kind: Kind, value: cst.CSTNode | None = None) -> None:
        """Assign `kind` to the names in an assignment target (tuple unpacking element-wise)."""
        frame = self.frame
        if frame is None:
            return
        if isinstance(target, cst.Name):
            if target.value in frame.env and self._not_run_when_captured(frame):
                return   # `x = False; if self.training: x = rand() < p`: in eval mode x is still False
            frame.env[target.value] = kind
        elif isinstance(target, (cst.Tuple, cst.List)):
            elems = target.elements
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(elems) and not any(
                    isinstance(e, cst.StarredElement) for e in value.elements):
                for e, v in zip(elems, value.elements):
                    self.bind(e.value, self.kind(v.value), v.value)
                return
            elem = {Kind.SHAPE: Kind.SHAPE, Kind.TENSORS: Kind.TENSOR, Kind.TENSOR: Kind.TENSOR, Kind.PARAM: Kind.PARAM,
                    Kind.PYTHON: Kind.PYTHON, Kind.BAKED: Kind.BAKED}.get(kind, Kind.UNKNOWN)
            for e in elems:
                inner = e.value
                if isinstance(e, cst.StarredElement):
                    self.bind(inner, Kind.TENSORS if elem == Kind.TENSOR else elem)
                else:
                    self.bind(inner, elem)
        elif isinstance(target, cst.StarredElement):
            self.bind(target.value, kind)

    def _not_run_when_captured(self, frame: Frame) -> bool:
        """Inside a region of this function that trace, export and compile never run (training-mode
        code): its assignments do not change what a name holds after it, in the captured model."""
        return any(CAPTURED <= targets for targets, _ in self.excluded[frame.excluded_at_entry:])

    def loop_target_kind(self, iterable: cst.CSTNode) -> Kind:
        """Kind of a for-loop / comprehension variable."""
        k = self.kind(iterable)
        if k == Kind.TENSOR:
            return Kind.TENSOR
        if k == Kind.TENSORS:
            return Kind.UNKNOWN  # elements of a tuple of tensors: a Python-level loop, kept neutral
        if k == Kind.MODULE:
            return Kind.MODULE
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name):
            fname = iterable.func.value
            if fname == "range" and self.is_builtin("range"):
                ks = [self.kind(a.value) for a in iterable.args]
                return Kind.BAKED if any(x in (Kind.TENSOR, Kind.SHAPE) for x in ks) else Kind.PYTHON
        if k == Kind.SHAPE:
            return Kind.SHAPE
        return Kind.UNKNOWN

    # ---------------------------------------------------------------- findings
    def add_finding(self, rule: Rule, node: cst.CSTNode, message: str, effects: dict[str, Effect],
                    help: str, short: str = "") -> None:
        for t in self.excluded_targets():
            if t in effects and effects[t].applies:
                reason = next(r for ts, r in reversed(self.excluded) if t in ts)
                effects[t] = ok(f"not run under {t} ({reason})")
        if not any(e.applies for e in effects.values()):
            return
        stmt = self.stmts[-1] if self.stmts else node
        self.findings.append((rule, node, message, effects, help, self.scope_name(), stmt, self.top, short))


def _evidence_kind(uses: str, inner: bool) -> Kind:
    """An unannotated forward parameter: a tensor (TorchScript's default) unless the body shows it is a
    Python flag (tested for truth, compared with a string) and never uses it like a tensor. In a
    submodule's forward (`inner`), whose arguments come from a parent, a parameter only used like a
    container (unpacked, iterated, `len()`) is a sequence (`features`, `(cos, sin)`); the captured
    module's inputs are traced tensors."""
    if "t" in uses:
        return Kind.TENSOR
    if "f" in uses:
        return Kind.PYTHON
    if "s" in uses and inner:
        return Kind.TENSORS
    return Kind.TENSOR


_TYPE_COMMENT = re.compile(r"#\s*type:\s*\((.*)\)\s*->")


def type_comment_params(fn: cst.FunctionDef) -> dict[str, str]:
    """PEP 484 type comments (`# type: (List[Tensor]) -> Tensor`), which TorchScript honours too."""
    body = fn.body
    candidates = []   # the def line's own comment (which may be another directive), then the next line's
    if isinstance(body, cst.IndentedBlock):
        if body.header.comment is not None:
            candidates.append(body.header.comment.value)
        if body.body and body.body[0].leading_lines and body.body[0].leading_lines[0].comment is not None:
            candidates.append(body.body[0].leading_lines[0].comment.value)
    m = next((m for m in map(_TYPE_COMMENT.match, candidates) if m), None)
    if not m:
        return {}
    parts, depth, cur = [], 0, ""
    for ch in m.group(1):
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        depth += ch in "[(" 
        depth -= ch in "])"
        cur += ch
    if cur.strip():
        parts.append(cur.strip())
    names = [p.name.value for p in [*fn.params.posonly_params, *fn.params.params]]
    if names and names[0] in ("self", "cls") and len(names) == len(parts) + 1:
        names = names[1:]
    return dict(zip(names, parts)) if len(names) == len(parts) else {}


def _number_annotation(fn: cst.FunctionDef, name: str) -> bool:
    """Annotated as a Python number or a sequence of them (`int`, `list[int]`, `tuple[int, int]`,
    `torch.Size`): annotations do not convert a traced size into a constant."""
    params = fn.params
    for p in [*params.posonly_params, *params.params, *params.kwonly_params]:
        if p.name.value == name:
            return p.annotation is not None and _number_text(annotation_text(p.annotation))
    return False


def _number_text(text: str) -> bool:
    t = split_optional(text)[0].replace("typing.", "").replace(" ", "")
    return t in ("int", "float", "torch.Size", "Size") or (
        t.startswith(("List[", "list[", "Tuple[", "tuple[", "Sequence[")) and t.endswith("]") and
        all(e in ("int", "float", "...") for e in t[t.index("[") + 1:-1].split(",")))


def _annotated(fn: cst.FunctionDef, name: str) -> bool:
    params = fn.params
    for p in [*params.posonly_params, *params.params, *params.kwonly_params]:
        if p.name.value == name:
            return p.annotation is not None
    return False


def _returns(body, frame: Frame, ctx: FileContext) -> list[cst.CSTNode]:
    """Walk statements in order (not nested defs), binding assignments, collecting return values."""
    out: list[cst.CSTNode] = []

    def block(stmts) -> None:
        for s in stmts:
            if isinstance(s, cst.SimpleStatementLine):
                for small in s.body:
                    if isinstance(small, cst.Return) and small.value is not None:
                        out.append(small.value)
                    elif isinstance(small, cst.Assign):
                        for t in small.targets:
                            ctx.bind(t.target, ctx.kind(small.value), small.value)
                    elif isinstance(small, cst.AnnAssign) and small.value is not None:
                        ctx.bind(small.target, ctx.kind(small.value), small.value)
            elif isinstance(s, (cst.FunctionDef, cst.ClassDef)):
                continue
            else:
                for child in children(s):
                    if isinstance(child, (cst.IndentedBlock, cst.Else, cst.Finally, cst.ExceptHandler)):
                        inner = child.body if not isinstance(child, cst.IndentedBlock) else child
                        block(inner.body if isinstance(inner, cst.IndentedBlock) else [])
                    elif isinstance(child, cst.If):
                        block([child])

    block(body.body if isinstance(body, cst.IndentedBlock) else [])
    return out


def guard_targets(node: cst.CSTNode, ctx: FileContext) -> tuple[frozenset[str], frozenset[str]] | None:
    """For a guard test: (targets where the body cannot run, targets where the else cannot run)."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
        inner = guard_targets(node.expression, ctx)
        return (inner[1], inner[0]) if inner else None
    if (isinstance(node, cst.Attribute) and node.attr.value == "training"
            and isinstance(node.value, cst.Name) and node.value.value == "self"):
        # training-mode code is not run when the model is captured in eval mode (trace, export,
        # compile); TorchScript compiles both branches whatever the mode, so script still applies
        return CAPTURED, frozenset()
    if isinstance(node, cst.Call):
        name = ctx.qualified(node.func) or ""
        true_under = GUARDS.get(name) if not node.args else None
        if true_under is None and name:
            # `pkg.is_tracing(x)` ors `torch.jit.is_tracing()` and `torch.compiler.is_compiling()` in another file
            hits = [GUARDS[g] for g in GUARDS if f"{name}={g}" in ctx.guard_functions]
            true_under = frozenset().union(*hits) if hits else None
        if true_under is not None:
            return ALL - true_under, true_under
        wrapped = _guard_wrapper(node.func, ctx)
        if wrapped is not None:
            return guard_targets(wrapped, ctx)
    if isinstance(node, cst.BooleanOperation):
        left = guard_targets(node.left, ctx)
        right = guard_targets(node.right, ctx)
        if isinstance(node.operator, cst.And):
            # `torch.jit.is_tracing() and isinstance(x, torch.Tensor)` with `x` a tensor: the check is
            # always true, so the test is the guard alone (its else branch too)
            if left is not None and _tensor_check(node.right, ctx):
                return left
            if right is not None and _tensor_check(node.left, ctx):
                return right
            body = (left[0] if left else frozenset()) | (right[0] if right else frozenset())
            return (body, frozenset()) if body else None
        if isinstance(node.operator, cst.Or):
            other = (left[1] if left else frozenset()) | (right[1] if right else frozenset())
            return (frozenset(), other) if other else None
    return None


def _tensor_check(node: cst.CSTNode, ctx: FileContext) -> bool:
    """`isinstance(x, torch.Tensor)` on a value the kind analysis knows is a tensor: always true."""
    if not (isinstance(node, cst.Call) and len(node.args) == 2 and isinstance(node.func, cst.Name)
            and node.func.value == "isinstance" and ctx.is_builtin("isinstance")):
        return False
    return ctx.qualified(node.args[1].value) == "torch.Tensor" and ctx.kind(node.args[0].value) == Kind.TENSOR


def _guard_wrapper(func: cst.CSTNode, ctx: FileContext) -> cst.CSTNode | None:
    """`def _is_tracing(): return torch._C._get_tracing_state()`: the guard call a one-line helper returns."""
    if not isinstance(func, cst.Name) or func.value not in ctx.functions:
        return None
    fn = ctx.functions[func.value]
    body = fn.body.body if isinstance(fn.body, cst.IndentedBlock) else getattr(fn.body, "body", ())
    stmts = [s for s in body if not (isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.Expr)
                                     and isinstance(s.body[0].value, cst.SimpleString))]
    if len(stmts) != 1:
        return None
    small = stmts[0].body[0] if isinstance(stmts[0], cst.SimpleStatementLine) else (
        stmts[0] if isinstance(stmts[0], cst.Return) else None)
    if isinstance(small, cst.Return) and isinstance(small.value, cst.Call) and not small.value.args:
        if GUARDS.get(ctx.qualified(small.value.func) or "") is not None:
            return small.value
    return None


def class_state(node: cst.ClassDef, is_module: bool, ctx: FileContext) -> ClassState:
    """Facts about a class from its body and __init__: attribute kinds, methods, constants."""
    state = ClassState(node.name.value, node, is_module)
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
    init = None
    for s in body:
        if isinstance(s, cst.FunctionDef):
            state.methods[s.name.value] = s
            if s.name.value == "__init__":
                init = s
        elif isinstance(s, cst.SimpleStatementLine):
            for small in s.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    ann = annotation_text(small.annotation)
                    name = small.target.value
                    if ann.startswith(("Final", "typing.Final", "torch.jit.Final")):
                        state.constants.add(name)
                        state.attrs[name] = AttrFact(Kind.PYTHON, node=small)
                    else:
                        k = annotation_kind(ann) or Kind.UNKNOWN
                        state.attrs[name] = AttrFact(k, node=small, optional="Optional" in ann or "None" in ann)
                elif isinstance(small, cst.Assign):
                    for t in small.targets:
                        if isinstance(t.target, cst.Name):
                            if t.target.value == "__constants__":
                                for e in getattr(small.value, "elements", []):
                                    v = string_value(e.value)
                                    if v:
                                        state.constants.add(v)
                            else:
                                state.attrs.setdefault(t.target.value, AttrFact(Kind.PYTHON, node=small))
    if init is not None:
        params = {p.name.value for p in init.params.params}
        for small in _init_assignments(init):
            if isinstance(small, cst.Assign):
                for t in small.targets:
                    tgt = t.target
                    if (isinstance(tgt, cst.Attribute) and isinstance(tgt.value, cst.Name)
                            and tgt.value.value == "self"):
                        fact = _attr_fact(small.value, params, ctx)
                        old = state.attrs.get(tgt.attr.value)
                        if old is not None and old.optional:
                            fact.optional = True
                        if old is not None and old.kind == Kind.MODULE and fact.kind == Kind.MODULE:
                            # `self.norm = AdaNormZero(...)` in one branch, `nn.LayerNorm(...)` in another
                            fact.alternatives = tuple(dict.fromkeys((*old.alternatives, old.ctor)))
                        if tgt.attr.value in state.constants:
                            fact.kind = Kind.PYTHON
                        state.attrs[tgt.attr.value] = fact
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                call = small.value
                if isinstance(call.func, cst.Attribute) and call.func.attr.value in (
                        "register_buffer", "register_parameter") and call.args:
                    name = string_value(call.args[0].value)
                    if name:
                        state.attrs[name] = AttrFact(Kind.TENSOR, "torch.Tensor", small)
    return state


def _init_assignments(fn: cst.FunctionDef) -> Iterable[cst.BaseSmallStatement]:
    def walk(stmts):
        for s in stmts:
            if isinstance(s, cst.SimpleStatementLine):
                yield from s.body
            elif isinstance(s, (cst.If, cst.For, cst.With, cst.Try, cst.While)):
                for child in children(s):
                    if isinstance(child, cst.IndentedBlock):
                        yield from walk(child.body)
                    elif isinstance(child, (cst.Else, cst.If)):
                        yield from walk([child] if isinstance(child, cst.If) else child.body.body)
    yield from walk(fn.body.body if isinstance(fn.body, cst.IndentedBlock) else [])


def _attr_fact(value: cst.CSTNode, init_params: set[str], ctx: FileContext) -> AttrFact:
    if isinstance(value, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)):
        return AttrFact(Kind.PYTHON, node=value)
    if isinstance(value, cst.Name):
        if value.value == "None":
            return AttrFact(Kind.NONE, node=value, optional=True)
        if value.value in ("True", "False") or value.value in init_params:
            return AttrFact(Kind.PYTHON, node=value)
        return AttrFact(Kind.UNKNOWN, node=value)
    if isinstance(value, (cst.Tuple, cst.List, cst.Dict, cst.Set)):
        elems = [getattr(e, "value", None) for e in getattr(value, "elements", [])]
        kinds = [_attr_fact(e, init_params, ctx).kind for e in elems if e is not None]
        if kinds and all(k == Kind.MODULE for k in kinds):
            return AttrFact(Kind.PYTHON, "list-of-modules", value)
        return AttrFact(Kind.PYTHON, "list" if isinstance(value, cst.List) else "", value)
    if isinstance(value, cst.Attribute):
        base = dotted_name(value)
        if base and base.split(".")[0] in init_params:
            return AttrFact(Kind.PYTHON, node=value)   # config.hidden_size
        return AttrFact(Kind.UNKNOWN, node=value)
    if isinstance(value, (cst.BinaryOperation, cst.UnaryOperation)):
        return AttrFact(Kind.PYTHON, node=value)
    if isinstance(value, cst.Call):
        ctor = ctx.qualified(value.func) or ""
        if ctor.startswith("torch.") and ctx.kinds._torch_call(ctor, []) == Kind.PYTHON:
            return AttrFact(Kind.PYTHON, ctor, value)   # torch.cuda.is_available(), torch.get_default_dtype()
        if ctor in ("torch.nn.Parameter", "torch.nn.parameter.Parameter") or (
                ctor.startswith("torch.") and not ctor.startswith("torch.nn.") and not ctor.startswith("torch.jit")):
            return AttrFact(Kind.TENSOR, ctor, value)
        if ctor.startswith("torch.jit."):
            return AttrFact(Kind.MODULE, ctor, value)
        if ctor.startswith("torch.nn.") and ctor.rsplit(".", 1)[-1][:1].isupper():
            return AttrFact(Kind.MODULE, ctor, value)
        if ctor in ctx.project_module_classes or (ctor.split(".")[-1] in ctx.module_class_names):
            return AttrFact(Kind.MODULE, ctor, value)
        if ctor.startswith(("numpy.",)):
            return AttrFact(Kind.PYTHON, ctor, value)
        if ctor in ("int", "float", "bool", "str", "tuple", "list", "dict", "len", "max", "min", "round"):
            return AttrFact(Kind.PYTHON, ctor, value)
        return AttrFact(Kind.UNKNOWN, ctor, value)
    return AttrFact(Kind.UNKNOWN, node=value)
