"""The cheap first phase: an `ast` index of every file, then project-wide entry points and reachability.

`ast.parse` costs about a tenth of the LibCST parse, so this pass decides which files hold code
reachable from a capture entry point at all; only those are parsed with LibCST and linted.
"""
from __future__ import annotations

import ast
import os
import sys
import warnings
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# Base classes that make a class an nn.Module (besides torch.nn.<Anything> classes).
MODULE_BASES = {"torch.nn.Module", "torch.nn.modules.module.Module", "nn.Module"}
# Public base classes of widely used model libraries that are themselves nn.Module subclasses. A
# user's model that subclasses one is an nn.Module although its base chain leaves the project:
# site-packages is never read (what is installed differs between an editor, pre-commit's isolated
# environment and CI, and a file must give the same findings everywhere), so they are named here.
# Others: `module-bases` in the config.
LIBRARY_MODULE_BASES = frozenset({
    "transformers.PreTrainedModel", "transformers.modeling_utils.PreTrainedModel",
    "diffusers.ModelMixin", "diffusers.models.ModelMixin", "diffusers.models.modeling_utils.ModelMixin",
    "pytorch_lightning.LightningModule", "lightning.LightningModule", "lightning.pytorch.LightningModule",
    "lightning.pytorch.core.module.LightningModule", "pytorch_lightning.core.module.LightningModule",
    "torchvision.models.ResNet", "torchvision.models.resnet.ResNet",
    "torchvision.models.VisionTransformer", "torchvision.models.vision_transformer.VisionTransformer",
    "timm.models.vision_transformer.VisionTransformer", "timm.models.resnet.ResNet",
    "timm.models.VisionTransformer", "timm.models.ResNet",
})
CAPTURE_CALLS = {
    "torch.jit.trace": "trace", "torch.jit.script": "script", "torch.jit.trace_module": "trace",
    "torch.export.export": "export", "torch.export": "export", "torch.compile": "compile",
}
SCRIPT_DECORATORS = {"torch.jit.script": "script", "torch.compile": "compile"}
EXPORT_DECORATOR = "torch.jit.export"

# Deepest syntax-tree nesting analysed (a 1,000-term `a + b + ...` is 1,000 levels). CPython compiles
# up to ~2,980; LibCST's parse time grows faster than linearly with depth (a 2,900-level subscript
# chain takes 25 s), so deeper files get TL003 instead of hanging the run.
MAX_NESTING = 1000


@dataclass
class Param:
    name: str
    annotation: str = ""     # source text of the annotation, "" if none
    default: str = ""        # "" no default, "None", or "literal" / "other"
    kind: str = "positional"  # positional | vararg | kwonly | kwarg


@dataclass
class FunctionFacts:
    qualname: str
    lineno: int
    decorators: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)     # "self.m", "super.m", "attr.sub", dotted names
    params: list[Param] = field(default_factory=list)
    returns: str = ""
    returns_tuple: bool = False     # some `return a, b` (a forward whose output is a tuple)
    # some return hands out a structure, not a tensor: a dict/list display or comprehension, an output
    # object (`return ModelOutput(...)`), or the return annotation says so
    returns_structured: bool = False
    refs: list[str] = field(default_factory=list)  # names loaded in an __init__ (classes used as submodules)
    # project-level names loaded as values (not called) in the body: functions handed to a registry, a
    # dispatch dict or a variable and called later (`fn = eager_attention; fn(q, k, v)`)
    values: list[str] = field(default_factory=list)
    # how each parameter is used in the body (evidence for its value kind): "t" like a tensor
    # (`.shape`, tensor methods, torch functions), "f" tested for truth or compared with a string
    # (a Python flag), "s" like a container (unpacked, iterated, `len()`, dict methods, string keys)
    param_uses: dict[str, str] = field(default_factory=dict)
    guard: str = ""                 # a guard wrapper: the calls it returns or-ed, "|"-separated (`torch.jit.is_tracing`)
    returns_size: bool = False      # some return hands out sizes read from a tensor (`return [c, h, w]`)
    returns_calls: list[str] = field(default_factory=list)   # functions whose result is returned as is
    # constructor calls' arguments that are themselves constructed objects or parameters:
    # (callee, parameter name or position, argument constructor or "@<parameter of this function>")
    ctor_args: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class ClassFacts:
    name: str
    lineno: int
    bases: list[str] = field(default_factory=list)      # resolved dotted names
    methods: dict[str, FunctionFacts] = field(default_factory=dict)
    attr_types: dict[str, str] = field(default_factory=dict)  # self.attr = Ctor(...) -> dotted Ctor
    # self.attr = <__init__ parameter>: the parameter's name (a submodule a builder passes in)
    attr_params: dict[str, str] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)  # project names in class-level assignments (registries)
    decorators: list[str] = field(default_factory=list)  # resolved dotted decorators (`dataclasses.dataclass`)


@dataclass
class FileIndex:
    path: str
    module: str
    aliases: dict[str, str] = field(default_factory=dict)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    captured: list[tuple[str, str]] = field(default_factory=list)  # (dotted callee, target)
    constants: set[str] = field(default_factory=set)    # module-level assigned names
    # module-level `NAME = {...}` / `[...]` / `Registry(...)`: the names referenced in the value
    # (a dispatch table: reaching NAME reaches the functions it holds)
    registries: dict[str, list[str]] = field(default_factory=dict)
    syntax_error: tuple[int, int, str] | None = None   # CPython's compile() rejects the file
    not_analysed: str | None = None  # why the file is skipped (too deep for CPython's parser, too big): TL003
    crashed: str | None = None       # the index phase raised on this file (a tracelint bug): TL001
    pytree: bool = False      # the file registers pytree nodes (output classes export as containers)
    # first line of each top-level statement, and of each statement in a top-level class body (keyed by
    # the class's position in the module body): lets positions be computed without parsing again
    starts: list[int] = field(default_factory=list)
    class_starts: dict[int, list[int]] = field(default_factory=dict)


def module_name(path: str) -> str:
    """Dotted module name: walk up while the folder is a package."""
    p = Path(path).resolve()
    parts = [p.stem] if p.stem != "__init__" else []
    d = p.parent
    while (d / "__init__.py").exists() and d.parent != d:
        parts.insert(0, d.name)
        d = d.parent
    return ".".join(parts) or p.stem


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for Name/Attribute chains, else None."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
        return ".".join(reversed(names))
    return None


def resolve(name: str | None, aliases: dict[str, str]) -> str | None:
    """Replace the first component of a dotted name by what the imports bound it to."""
    if not name:
        return None
    head, _, rest = name.partition(".")
    if head in aliases:
        return aliases[head] + ("." + rest if rest else "")
    return name


# Evidence of how a parameter is used (FunctionFacts.param_uses).
TENSOR_USE_ATTRS = frozenset({"shape", "dtype", "device", "ndim", "T", "mT", "is_cuda", "requires_grad", "grad",
                              "data", "layout", "real", "imag"})
TENSOR_USE_METHODS = frozenset({
    "size", "dim", "numel", "view", "view_as", "reshape", "reshape_as", "permute", "transpose", "contiguous",
    "unsqueeze", "squeeze", "float", "half", "double", "long", "int", "bool", "bfloat16", "to", "type_as",
    "masked_fill", "masked_fill_", "sum", "mean", "std", "var", "amax", "amin", "argmax", "argmin", "flatten",
    "unflatten", "expand", "expand_as", "repeat", "repeat_interleave", "clone", "detach", "softmax",
    "log_softmax", "matmul", "bmm", "new_zeros", "new_ones", "new_full", "new_empty", "new_tensor", "narrow",
    "index_select", "gather", "scatter", "scatter_add", "chunk", "unbind", "cumsum", "cumprod", "any", "all",
    "eq", "ne", "gt", "lt", "ge", "le", "abs", "exp", "log", "sqrt", "rsqrt", "pow", "mul", "add", "sub",
    "div", "item", "tolist", "numpy", "cpu", "cuda", "norm", "fill_", "zero_", "copy_", "add_", "mul_",
    "clamp", "clamp_", "clamp_min", "clamp_max", "sigmoid", "tanh", "relu", "nonzero", "masked_select",
    "roll", "flip", "tril", "triu", "diagonal", "topk", "sort", "argsort", "max", "min", "prod", "round",
    "floor", "ceil", "sign", "neg", "reciprocal", "is_floating_point", "element_size", "stride",
    "is_contiguous", "type", "long", "unfold", "movedim", "swapaxes", "split_with_sizes", "masked_scatter",
    "index_put", "index_put_", "index_add", "index_add_", "scatter_", "where", "logical_not", "logical_and",
    "logical_or", "isnan", "isinf", "isfinite", "nan_to_num", "float16"})
CONTAINER_USE_METHODS = frozenset({"append", "extend", "insert", "pop", "remove", "index", "count", "keys",
                                   "items", "values", "get", "update", "setdefault", "to_tuple"})
ITERATING_BUILTINS = frozenset({"zip", "enumerate", "len", "list", "tuple", "reversed", "sorted", "iter", "map"})
# torch functions that take a sequence of tensors as their first argument
TORCH_SEQUENCE_TAKERS = frozenset({"cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack",
                                   "column_stack", "row_stack", "broadcast_tensors", "block_diag",
                                   "cartesian_prod", "meshgrid", "cdist_list", "_foreach_add"})
_NON_TENSOR_RETURN = ("dict", "list", "Dict", "List", "None", "str", "int", "float", "bool")


def _bool_leaves(node: ast.AST):
    """The operands Python calls `bool()` on when `node` is a condition."""
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            yield from _bool_leaves(v)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield from _bool_leaves(node.operand)
    else:
        yield node


def _is_str(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return bool(node.elts) and all(_is_str(e) for e in node.elts)
    return False


class _Indexer(ast.NodeVisitor):
    def __init__(self, index: FileIndex, package: str):
        self.ix = index
        self.package = package
        self.cls: ClassFacts | None = None
        self.fn: FunctionFacts | None = None
        self.params: frozenset[str] = frozenset()   # parameters of the current top-level function
        self.called: set[int] = set()               # ids of nodes in call position
        self.locals: dict[str, str] = {}            # local name -> constructor (`head = Head(...)`)
        self.sizes: set[str] = set()                # local names holding sizes read from a tensor

    # imports ----------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        if self.fn is None:
            for a in node.names:
                if a.asname:
                    self.ix.aliases[a.asname] = a.name
                else:
                    head = a.name.split(".")[0]
                    self.ix.aliases[head] = head

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if self.fn is not None:
            return
        base = node.module or ""
        if node.level:
            pkg = self.package.split(".") if self.package else []
            pkg = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
            base = ".".join([*pkg, base] if base else pkg)
        for a in node.names:
            if a.name != "*":
                self.ix.aliases[a.asname or a.name] = f"{base}.{a.name}" if base else a.name

    # definitions --------------------------------------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if self.fn is not None or self.cls is not None:
            return  # nested classes are not indexed
        facts = ClassFacts(node.name, node.lineno,
                           [self._res(dotted(b)) or "" for b in node.bases],
                           decorators=[self._res(dotted(d.func if isinstance(d, ast.Call) else d)) or ""
                                       for d in node.decorator_list])
        self.ix.classes[node.name] = facts
        self.cls = facts
        self.generic_visit(node)
        self.cls = None

    def _res(self, name: str | None) -> str | None:
        if name is None:
            return None
        head = name.split(".")[0]
        if head in self.ix.classes or head in self.ix.functions:
            return f"{self.ix.module}.{name}"
        return resolve(name, self.ix.aliases)

    def _project_name(self, node: ast.AST) -> str | None:
        """The resolved name of a module-level function/class or imported name, else None."""
        name = dotted(node)
        if name is None:
            return None
        head = name.split(".")[0]
        if head in self.params or head == "self":
            return None
        if head in self.ix.functions or head in self.ix.classes or head in self.ix.aliases:
            return self._res(name)
        return None

    def visit_FunctionDef(self, node) -> None:
        if self.fn is not None:
            self.generic_visit(node)  # nested defs: their calls count for the enclosing function
            return
        qual = f"{self.cls.name}.{node.name}" if self.cls else node.name
        facts = FunctionFacts(qual, node.lineno,
                              [self._res(dotted(d.func if isinstance(d, ast.Call) else d)) or ""
                               for d in node.decorator_list],
                              params=_params(node.args),
                              returns=_unparse(node.returns))
        if self.cls is not None:
            self.cls.methods[node.name] = facts
        else:
            self.ix.functions[node.name] = facts
            facts.guard = self._guard(node)
        if facts.returns and not _tensor_return_annotation(facts.returns):
            if _tuple_annotation(facts.returns):
                facts.returns_tuple = True
            else:
                facts.returns_structured = True
        self.fn = facts
        self.params = frozenset(p.name for p in facts.params) - {"self", "cls"}
        self.locals = {}
        self.sizes = set()
        if node.name == "__init__":  # `def __init__(self, block=Attention)`: classes passed as defaults
            for d in [*node.args.defaults, *(k for k in node.args.kw_defaults if k is not None)]:
                self.visit(d)
        for stmt in node.body:
            self.visit(stmt)
        self.fn = None
        self.params = frozenset()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _guard(self, node) -> str:
        """A guard wrapper: every `return` hands out calls or-ed together (`return torch._C._get_tracing_state()`,
        `return is_compiling() or torch.jit.is_tracing()`, a local `flag = a() or b(); flag |= c(x); return flag`)
        or a constant False (the `except` fallback). The wrapper is true when one of them is: "|"-joined names."""
        returns, assigns = [], {}
        for n in _walk_function(node):
            if isinstance(n, ast.Return):
                returns.append(n.value)
            elif isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
                assigns.setdefault(n.targets[0].id, []).append(n.value)
            elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and isinstance(n.op, ast.BitOr):
                assigns.setdefault(n.target.id, []).append(n.value)
            elif isinstance(n, (ast.AnnAssign, ast.AugAssign)) and isinstance(getattr(n, "target", None), ast.Name):
                assigns.setdefault(n.target.id, []).append(None)   # any other update: not a guard
        members: list[str] = []

        def collect(e, depth: int = 0) -> bool:
            if e is None or depth > 4:
                return False
            if isinstance(e, ast.Constant):
                return e.value is False or e.value is None
            if isinstance(e, ast.BoolOp) and isinstance(e.op, ast.Or):
                return all(collect(v, depth) for v in e.values)
            if isinstance(e, ast.BinOp) and isinstance(e.op, ast.BitOr):
                return collect(e.left, depth) and collect(e.right, depth)
            if isinstance(e, ast.Call):
                name = self._res(dotted(e.func))
                if name:
                    members.append(name)
                    return True
                return False
            if isinstance(e, ast.Name) and e.id in assigns:
                return all(collect(v, depth + 1) for v in assigns[e.id])
            return False

        if returns and all(collect(r) for r in returns) and members:
            return "|".join(dict.fromkeys(members))
        return ""

    def _use(self, node: ast.AST, letter: str) -> None:
        """Record evidence about how a parameter is used."""
        if isinstance(node, ast.Name) and node.id in self.params:
            uses = self.fn.param_uses
            old = uses.get(node.id, "")
            if letter not in old:
                uses[node.id] = old + letter

    def _test(self, test: ast.AST) -> None:
        for leaf in _bool_leaves(test):
            if isinstance(leaf, ast.Name):
                self._use(leaf, "f")
            elif isinstance(leaf, ast.Compare) and len(leaf.ops) == 1 and _is_str(leaf.comparators[0]) \
                    and isinstance(leaf.ops[0], (ast.Eq, ast.NotEq, ast.In, ast.NotIn)):
                self._use(leaf.left, "f")

    def visit_If(self, node: ast.If) -> None:
        if self.fn is not None:
            self._test(node.test)
        self.generic_visit(node)

    visit_While = visit_If

    def visit_IfExp(self, node: ast.IfExp) -> None:
        if self.fn is not None:
            self._test(node.test)
            # `flag if flag is not None else self.config.flag`: a default from the configuration
            t = node.test
            if (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], (ast.Is, ast.IsNot))
                    and isinstance(t.left, ast.Name) and isinstance(t.comparators[0], ast.Constant)
                    and t.comparators[0].value is None):
                fallback = node.orelse if isinstance(t.ops[0], ast.IsNot) else node.body
                if _config_value(fallback):
                    self._use(t.left, "f")
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        if self.fn is not None:
            self._test(node)
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if self.fn is not None and isinstance(node.op, ast.Not):
            self._test(node.operand)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        if self.fn is not None:
            self._use(node.iter, "s")
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        if self.fn is not None:
            self._use(node.iter, "s")
            for cond in node.ifs:
                self._test(cond)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self.fn is not None and isinstance(node.value, ast.Name) and node.value.id in self.params:
            sl = node.slice
            if _is_str(sl):
                self._use(node.value, "s")
            elif isinstance(sl, ast.Tuple) and any(
                    isinstance(e, ast.Slice) or (isinstance(e, ast.Constant) and e.value in (None, Ellipsis))
                    for e in sl.elts):
                self._use(node.value, "t")
            elif isinstance(sl, ast.Constant) and sl.value in (None, Ellipsis):
                self._use(node.value, "t")
        if self.fn is not None and isinstance(node.ctx, ast.Load):
            table = self._project_name(node.value)
            if table and isinstance(node.value, ast.Attribute):
                self.fn.values.append(table)  # `mod.TABLE[key]`
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.fn is None and self.cls is None:
            for t in node.targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        self.ix.constants.add(n.id)
            self._registry(node.targets, node.value)
        elif self.fn is None and self.cls is not None:
            self.cls.values.extend(self._referenced(node.value))
        elif self.fn is not None:
            if _size_expr(node.value, self.sizes):
                for t in node.targets:
                    self.sizes.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
            else:
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        self.sizes.discard(t.id)
            if isinstance(node.value, ast.Name):
                for t in node.targets:
                    if isinstance(t, (ast.Tuple, ast.List)):
                        self._use(node.value, "s")
            ctor = self._res(dotted(node.value.func)) if isinstance(node.value, ast.Call) else None
            for t in node.targets:
                if isinstance(t, ast.Name):
                    if ctor:
                        self.locals[t.id] = ctor
                    else:
                        self.locals.pop(t.id, None)
            if self.cls is not None:
                for t in node.targets:
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                        if ctor:
                            self.cls.attr_types[t.attr] = ctor
                        elif isinstance(node.value, ast.Name) and self.fn.qualname.endswith(".__init__"):
                            if node.value.id in self.params:
                                self.cls.attr_params[t.attr] = node.value.id
                            elif node.value.id in self.locals:
                                self.cls.attr_types[t.attr] = self.locals[node.value.id]
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if self.fn is None and self.cls is None and node.value is not None:
            if isinstance(node.target, ast.Name):
                self.ix.constants.add(node.target.id)
            self._registry([node.target], node.value)
        elif self.fn is None and self.cls is not None and node.value is not None:
            self.cls.values.extend(self._referenced(node.value))
        self.generic_visit(node)

    def _registry(self, targets, value: ast.AST) -> None:
        """Module-level `TABLE = {"a": fa, ...}` / `TABLE["b"] = fb` / `TABLE = Registry()`: what it holds."""
        if not isinstance(value, (ast.Dict, ast.List, ast.Tuple, ast.Set, ast.Call, ast.Name, ast.Attribute)):
            return
        refs = self._referenced(value)
        if not refs:
            return
        for t in targets:
            if isinstance(t, ast.Subscript):
                t = t.value
            if isinstance(t, ast.Name):
                self.ix.registries.setdefault(t.id, []).extend(refs)

    def _referenced(self, value: ast.AST) -> list[str]:
        out = []
        for n in ast.walk(value):
            if isinstance(n, (ast.Name, ast.Attribute)) and isinstance(getattr(n, "ctx", None), ast.Load):
                name = self._project_name(n)
                if name:
                    out.append(name)
        return out

    def visit_Return(self, node: ast.Return) -> None:
        if self.fn is not None:
            v = node.value
            if v is not None and _size_expr(v, self.sizes):
                self.fn.returns_size = True
            elif isinstance(v, ast.Call) and (name := dotted(v.func)) and not name.startswith("self."):
                self.fn.returns_calls.append(self._res(name) or name)
            if isinstance(v, ast.Tuple):
                self.fn.returns_tuple = True
            elif isinstance(v, (ast.Dict, ast.List, ast.ListComp, ast.DictComp, ast.Set, ast.SetComp)):
                self.fn.returns_structured = True
            elif isinstance(v, ast.Constant) and v.value is not None:
                self.fn.returns_structured = True
            elif isinstance(v, ast.Call):
                name = self._res(dotted(v.func)) or ""
                last = name.rsplit(".", 1)[-1]
                if (last[:1].isupper() and not name.startswith("torch.")) or name in _NON_TENSOR_RETURN:
                    self.fn.returns_structured = True  # an output object, a namedtuple, dict(...)
        self.generic_visit(node)

    # leaves and literal data: nothing to index below them (a 200,000-element table is one step)
    def visit_Constant(self, node: ast.Constant) -> None:
        pass

    def _visit_elts(self, node) -> None:
        if not all(type(e) is ast.Constant for e in node.elts):
            self.generic_visit(node)

    visit_List = visit_Tuple = visit_Set = _visit_elts

    def visit_Dict(self, node: ast.Dict) -> None:
        if not all(type(e) is ast.Constant for e in node.values) or \
                not all(type(e) is ast.Constant for e in node.keys):
            self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        fn = self.fn
        if fn is None or not isinstance(node.ctx, ast.Load):
            return
        if fn.qualname.endswith(".__init__"):
            fn.refs.append(self._res(node.id) or node.id)
        if id(node) not in self.called and node.id not in self.params and (
                node.id in self.ix.functions or node.id in self.ix.aliases or node.id in self.ix.registries):
            fn.values.append(self._res(node.id) or node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        fn = self.fn
        if fn is not None and isinstance(node.ctx, ast.Load):
            if fn.qualname.endswith(".__init__"):
                name = dotted(node)
                if name and not name.startswith("self."):
                    fn.refs.append(self._res(name) or name)
            if node.attr in TENSOR_USE_ATTRS:
                self._use(node.value, "t")
            if isinstance(node.value, ast.Name):
                self.called.add(id(node.value))  # `torch.cat`: the head is not a value of its own
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = dotted(func)
        self.called.add(id(func))
        if self.fn is not None:
            if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
                    and isinstance(func.value.func, ast.Name) and func.value.func.id == "super"):
                self.fn.calls.append("super." + func.attr)
            elif name and name.startswith("self."):
                self.fn.calls.append(name)
            elif name:
                self.fn.calls.append(self._res(name) or name)
            self._call_uses(node, name)
            self._ctor_args(node, func, name)
        resolved = self._res(name)
        if resolved in CAPTURE_CALLS and node.args:
            target = dotted(node.args[0])
            made = False
            if target is None and isinstance(node.args[0], ast.Call):
                target = dotted(node.args[0].func)  # torch.jit.script(Model()), or a factory's result
                made = True
            if target:
                self.ix.captured.append((self._res(target) or target, CAPTURE_CALLS[resolved]
                                         + ("()" if made else "")))
        # names passed as arguments may be called later (callbacks): count them as calls
        if self.fn is not None:
            for a in node.args:
                if isinstance(a, ast.Name) and (a.id in self.ix.functions or a.id in self.ix.aliases):
                    self.fn.calls.append(self._res(a.id) or a.id)
        self.generic_visit(node)

    def _ctor_args(self, node: ast.Call, func: ast.AST, name: str | None) -> None:
        """Remember which objects a call hands to a constructor (`Detector(head=Head(...))`)."""
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and dotted(func.value.func) == "super":
            callee = "super." + func.attr
        elif name and name.rsplit(".", 1)[-1][:1].isupper() and not name.startswith("self."):
            callee = self._res(name) or name
        else:
            return
        for key, arg in [*((str(i), a) for i, a in enumerate(node.args)),
                         *((k.arg, k.value) for k in node.keywords if k.arg)]:
            if isinstance(arg, ast.Call):
                ctor = self._res(dotted(arg.func))
            elif isinstance(arg, ast.Name):
                ctor = self.locals.get(arg.id) or (f"@{arg.id}" if arg.id in self.params else None)
            else:
                ctor = None
            if ctor:
                self.fn.ctor_args.append((callee, key, ctor))

    def _call_uses(self, node: ast.Call, name: str | None) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ITERATING_BUILTINS:
            for a in node.args:
                self._use(a, "s")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.params:
            if func.attr in TENSOR_USE_METHODS:
                self._use(func.value, "t")
            elif func.attr in CONTAINER_USE_METHODS:
                self._use(func.value, "s")
        if name and node.args:
            full = self._res(name) or ""
            if full.startswith("torch.") and not full.startswith(("torch.jit.", "torch._assert")):
                letter = "s" if full.rsplit(".", 1)[-1] in TORCH_SEQUENCE_TAKERS else "t"
                self._use(node.args[0], letter)


def _config_value(node: ast.AST) -> bool:
    """A literal or a read of the configuration (`self.config.use_cache`, `config.output_attentions`)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (bool, int, float, str))
    name = dotted(node)
    return bool(name) and "config" in name.split(".")[:-1]


def _size_expr(node: ast.AST, sizes: set[str]) -> bool:
    """An expression made of sizes read from a tensor (`x.shape[-2:]`, `x.size(0) * 2`, `[c, h, w]`)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "shape"
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Attribute) and node.func.attr in ("size", "numel", "nelement")
    if isinstance(node, ast.Subscript):
        return _size_expr(node.value, sizes)
    if isinstance(node, ast.Name):
        return node.id in sizes
    if isinstance(node, (ast.Tuple, ast.List)):
        return any(_size_expr(e, sizes) for e in node.elts) and all(
            _size_expr(e, sizes) or isinstance(e, ast.Constant) or isinstance(e, ast.Name) for e in node.elts)
    if isinstance(node, ast.BinOp):
        return _size_expr(node.left, sizes) or _size_expr(node.right, sizes)
    if isinstance(node, ast.IfExp):
        return _size_expr(node.body, sizes) or _size_expr(node.orelse, sizes)
    return False


def _tensor_return_annotation(text: str) -> bool:
    t = text.replace(" ", "").strip("'\"")
    for wrap in ("Optional[", "typing.Optional["):
        if t.startswith(wrap) and t.endswith("]"):
            t = t[len(wrap):-1]
    t = t.removesuffix("|None")
    return t.rsplit(".", 1)[-1].endswith("Tensor") or t in ("Parameter", "torch.nn.Parameter")


def _tuple_annotation(text: str) -> bool:
    t = text.replace(" ", "")
    return t.startswith(("Tuple[", "tuple[", "typing.Tuple[")) and "|" not in t


def _params(args: ast.arguments) -> list[Param]:
    out: list[Param] = []
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for a, d in zip(positional, defaults):
        out.append(Param(a.arg, _unparse(a.annotation), _default(d)))
    if args.vararg:
        out.append(Param(args.vararg.arg, "", "", "vararg"))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append(Param(a.arg, _unparse(a.annotation), _default(d), "kwonly"))
    if args.kwarg:
        out.append(Param(args.kwarg.arg, "", "", "kwarg"))
    return out


def _unparse(node: ast.AST | None) -> str:
    """Source text of an annotation; "" for none, or for one too deep for `ast.unparse` (recursive)."""
    if node is None:
        return ""
    try:
        return ast.unparse(node)
    except RecursionError:
        return ""


def _default(node) -> str:
    if node is None:
        return ""
    if isinstance(node, ast.Constant):
        return "None" if node.value is None else "literal"
    return "other"


def _first_line(node: ast.stmt) -> int:
    """The line a statement starts on, decorators included."""
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])


def nesting_exceeds(tree: ast.AST, limit: int) -> bool:
    """Is any node more than `limit` levels below `tree`? (An explicit stack: no recursion.)"""
    stack = [(tree, 0)]
    children = ast.iter_child_nodes
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        # `a and b and c` is one ast node but a chain in LibCST's tree (whose rules then take
        # quadratic time on it): count it as nested as LibCST nests it
        if isinstance(node, ast.BoolOp):
            depth += len(node.values) - 1
        depth += 1
        if depth > limit:
            if any(True for _ in children(node)):
                return True
            continue
        # leaves (constants, load/store contexts) add no depth below them: not pushed
        stack.extend((child, depth) for child in children(node) if not isinstance(child, _LEAVES))
    return False


_LEAVES = (ast.Constant, ast.expr_context)


@contextmanager
def _as_from_the_top():
    """CPython's parser and compiler allow nesting up to 3x the recursion limit *minus 3x the
    current call depth*: run them as a script's top level would (the default limit of 1,000 above
    the caller's frames), so that a file's verdict does not depend on where tracelint calls them
    from (the main process with -j1, a pool worker with -j2, a deep-stack thread)."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + _DEFAULT_RECURSION_LIMIT)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


_DEFAULT_RECURSION_LIMIT = 1000


def index_source(path: str, source: bytes | str, module: str | None = None, _deep: bool = False) -> FileIndex:
    """Index one file; a syntax error is recorded, not raised."""
    module = module or module_name(path)
    ix = FileIndex(path=path, module=module)
    try:
        # compile() itself rather than ast.parse (one Python frame less): the same limits as CPython's;
        # its warnings about the user's code (invalid escapes...) are not tracelint's to print
        with warnings.catch_warnings(), _as_from_the_top():
            warnings.simplefilter("ignore")
            tree = compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as e:
        ix.syntax_error = (e.lineno or 1, e.offset or 1, e.msg or "invalid syntax")
        return ix
    except ValueError as e:  # e.g. NUL bytes
        ix.syntax_error = (1, 1, str(e))
        return ix
    except (RecursionError, MemoryError) as e:  # nesting beyond what CPython's parser takes
        ix.not_analysed = ("nesting too deep for CPython's own parser (" + (f"{type(e).__name__}: {e}" if str(e)
                           else type(e).__name__) + "): Python cannot compile this file at its default "
                           "recursion limit")
        return ix
    if nesting_exceeds(tree, MAX_NESTING):
        ix.not_analysed = (f"nesting deeper than {MAX_NESTING:,} levels, tracelint's limit (LibCST's parse "
                           "time grows faster than linearly with depth)")
        return ix
    # the errors CPython raises after parsing (`from m import *` in a function, `return` outside one,
    # `nonlocal` at module level...): compile() rejects the file, so it is a TL000 too. From the tree
    # already built, this costs a fifth of the parse.
    try:
        with warnings.catch_warnings(), _as_from_the_top():
            warnings.simplefilter("ignore")
            compile(tree, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        ix.syntax_error = (e.lineno or 1, e.offset or 1, e.msg or "invalid syntax")
        return ix
    except (RecursionError, MemoryError, ValueError):
        pass   # the parse itself was accepted; a compiler limit is not the linter's business
    ix.starts = [_first_line(a) for a in tree.body]
    ix.class_starts = {i: [_first_line(b) for b in a.body] for i, a in enumerate(tree.body)
                       if isinstance(a, ast.ClassDef)}
    is_pkg = os.path.basename(path) == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    # top-level defs first, so that _res() knows local names regardless of order
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            ix.classes.setdefault(node.name, ClassFacts(node.name, node.lineno))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            ix.functions.setdefault(node.name, FunctionFacts(node.name, node.lineno))
    try:
        _Indexer(ix, package).visit(tree)
    except RecursionError:
        # the indexer recurses (about three frames per level): within MAX_NESTING, a big stack does it
        if not _deep:
            from tracelint.isolation import call_with_deep_stack
            return call_with_deep_stack(index_source, path, source, module, True)
        out = FileIndex(path=path, module=module)
        out.not_analysed = "nesting too deep to index"
        return out
    ix.pytree = (b"register_pytree_node" if isinstance(source, bytes) else "register_pytree_node") in source
    for name in _import_fallbacks(tree):
        ix.functions.pop(name, None)  # the imported name is what runs; the def is for old versions
    return ix


def _walk_function(node: ast.AST):
    """The nodes of a function's body, nested functions and classes left out."""
    todo = list(node.body)
    while todo:
        n = todo.pop()
        yield n
        for c in ast.iter_child_nodes(n):
            if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                todo.append(c)


def _import_fallbacks(tree: ast.Module) -> set[str]:
    """`try: from torch import _assert` / `except ImportError: def _assert(...)`: the fallback's names."""
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Try):
            imported = {a.asname or a.name.split(".")[0] for s in node.body
                        if isinstance(s, (ast.Import, ast.ImportFrom)) for a in s.names}
            for h in node.handlers:
                out |= {s.name for s in h.body
                        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name in imported}
    return out


@dataclass(frozen=True)
class Reach:
    """Why a function is analysed: its entry kind and the chain that reaches it."""

    qualname: str
    role: str            # forward | export | script | compile | trace | helper
    via: str = ""        # the entry point it is reached from
    is_module_class: bool = False
    excluded: tuple[str, ...] = ()   # targets that never run it (a decorator's wrapper: not scripted)


@dataclass
class ProjectIndex:
    files: dict[str, FileIndex]                        # path -> index
    module_classes: set[str] = field(default_factory=set)  # dotted names
    functions: dict[str, tuple[FileIndex, FunctionFacts]] = field(default_factory=dict)  # dotted -> facts
    reach: dict[str, dict[str, Reach]] = field(default_factory=dict)  # path -> qualname -> Reach
    # module classes constructed in another module class's __init__ (blocks, heads): their forward is
    # called by a parent, so its parameters and returns are not a capture boundary
    submodule_classes: set[str] = field(default_factory=set)
    # module classes whose forward returns a tuple or a structure (an output object, a dict): their
    # call's result is not one tensor
    tuple_output_classes: set[str] = field(default_factory=set)
    guard_functions: dict[str, set[str]] = field(default_factory=dict)   # dotted guard wrapper -> the calls it ors
    size_functions: set[str] = field(default_factory=set)   # functions returning sizes read from a tensor
    alias_overrides: dict[str, dict[str, str]] = field(default_factory=dict)  # path -> import alias -> canonical
    # output classes: dotted class -> "dict" | "dict-pytree" | "dataclass" | "namedtuple" (what forward hands out
    # when it returns one; a dict subclass in a file that registers pytree nodes exports as a container)
    output_classes: dict[str, str] = field(default_factory=dict)
    entry_classes: set[str] = field(default_factory=set)   # loadable models and configured entry modules
    canonical: object = None     # the name canonicaliser (re-exports), for the engine

    def file_reach(self, path: str) -> dict[str, Reach]:
        return self.reach.get(path, {})

    def module_classes_in(self, path: str) -> set[str]:
        ix = self.files[path]
        return {n for n in ix.classes if f"{ix.module}.{n}" in self.module_classes}


def _is_torch_module_base(name: str, extra: set[str]) -> bool:
    if name in MODULE_BASES or name in LIBRARY_MODULE_BASES or name in extra:
        return True
    # any torch.nn class (nn.Linear, nn.Sequential...) is a Module subclass
    if name.startswith("torch.nn.") and name.rsplit(".", 1)[-1][:1].isupper():
        return not name.startswith("torch.nn.functional")
    return False


def build_project(files: dict[str, FileIndex], module_bases=(), entry_modules=()) -> ProjectIndex:
    """Resolve nn.Module subclasses across files, entry points, and reachability from them."""
    extra = set(module_bases)
    proj = ProjectIndex(files)
    ancestry: dict[str, list[str]] = {}   # class -> its project ancestors (memo for this build)
    loaders: dict[str, bool | None] = {}  # class -> does it or a base define from_pretrained/from_config
    classes: dict[str, tuple[FileIndex, ClassFacts]] = {}
    functions: dict[str, tuple[FileIndex, FunctionFacts]] = {}
    taken: dict[str, str] = {}
    for path, ix in files.items():
        # two scripts named alike in different folders (not packages) must not shadow each other
        if taken.setdefault(ix.module, path) != path:
            _rename_module(ix, f"{ix.module}@{path}")
    modules: dict[str, FileIndex] = {}
    registries: dict[str, list[str]] = {}
    for ix in files.values():
        modules[ix.module] = ix
        for c in ix.classes.values():
            classes[f"{ix.module}.{c.name}"] = (ix, c)
        for f in ix.functions.values():
            functions[f"{ix.module}.{f.qualname}"] = (ix, f)
        for name, refs in ix.registries.items():
            registries[f"{ix.module}.{name}"] = refs
    canon = _Canonical(modules, classes, functions, registries)
    proj.canonical = canon

    proj.functions = functions
    # nn.Module subclasses: fixed point over project bases
    changed = True
    while changed:
        changed = False
        for name, (ix, c) in classes.items():
            if name in proj.module_classes:
                continue
            if any(_is_torch_module_base(canon(b), extra) or canon(b) in proj.module_classes for b in c.bases):
                proj.module_classes.add(name)
                changed = True

    def class_of(name: str) -> str:
        return canon(name)

    # what builders hand to constructors: (class, __init__ parameter) -> classes passed in
    param_types = _constructor_arguments(classes, functions, canon)
    for name, (ix, c) in classes.items():
        # any class's __init__ (its own base may live outside the linted tree) that builds, aliases or
        # passes on a module class makes that class a submodule: its forward is not the capture boundary
        init = c.methods.get("__init__")
        if init is not None:
            proj.submodule_classes |= {k for k in map(class_of, (*init.calls, *init.refs))
                                       if k in proj.module_classes and k != name}
    # classes a builder constructs and passes into another module's constructor are submodules too
    proj.submodule_classes |= {t for ts in param_types.values() for t in ts if t in proj.module_classes}
    proj.submodule_classes -= {canon(t) for ix in files.values() for t, _ in ix.captured}  # captured directly too
    # a loadable model (a subclass of a project base that defines `from_pretrained`/`from_config`) is
    # what users load and capture whole, even when a bigger model also holds it as a submodule
    entries = set(entry_modules)
    proj.entry_classes = {n for n in proj.module_classes
                          if n in entries or n.rsplit(".", 1)[-1] in entries or _loadable(n, classes, canon, loaders)}
    proj.submodule_classes -= proj.entry_classes
    proj.output_classes = _output_classes(classes, canon)

    owners: dict[str, dict[str, tuple[str, FileIndex, FunctionFacts] | None]] = {}

    def method_owner(cls_name: str, meth: str) -> tuple[str, FileIndex, FunctionFacts] | None:
        """The class defining `meth` for `cls_name`, bases depth-first (memoised per method: every
        module class asks, and a generated inheritance chain can be thousands deep)."""
        def own(name: str):
            ix, c = classes[name]
            return (name, ix, c.methods[meth]) if meth in c.methods else None
        return _inherited(canon(cls_name), classes, canon, owners.setdefault(meth, {}), own)

    def attr_types(cls: str, attr: str) -> list[str]:
        """Classes `self.<attr>` may hold: its constructor in the class (or a base), or what builders pass in."""
        seen = set()
        cls = canon(cls)
        while cls in classes and cls not in seen:
            seen.add(cls)
            _, c = classes[cls]
            if attr in c.attr_types:
                return [canon(c.attr_types[attr])]
            if attr in c.attr_params:
                return sorted(param_types.get((cls, c.attr_params[attr]), ()))
            cls = next((canon(b) for b in c.bases if canon(b) in classes), "")
        return []

    for name in proj.module_classes:
        hit = method_owner(name, "forward")
        if hit and (hit[2].returns_tuple or hit[2].returns_structured
                    or hit[2].returns.replace(" ", "").startswith(("Tuple[", "tuple["))):
            proj.tuple_output_classes.add(name)

    proj.size_functions = {n for n, (_, f) in functions.items() if f.returns_size}
    for _ in range(4):  # `def get_dimensions(img): return F_t.get_dimensions(img)` hands them on
        more = {n for n, (_, f) in functions.items()
                if n not in proj.size_functions and any(canon(c) in proj.size_functions for c in f.returns_calls)}
        if not more:
            break
        proj.size_functions |= more
    for ix in files.values():  # one-line guard wrappers (`def _is_tracing(): return torch._C._get_tracing_state()`)
        for f in ix.functions.values():
            if f.guard:
                proj.guard_functions[f"{ix.module}.{f.qualname}"] = {canon(g) for g in f.guard.split("|")}
        overrides = {k: c for k, v in ix.aliases.items() if (c := canon(v)) != v}
        if overrides:
            proj.alias_overrides[ix.path] = overrides
    raw = dict(proj.guard_functions)
    for w in raw:   # wrappers of wrappers: to the calls at the end
        final: set[str] = set()
        todo, seen = list(raw[w]), {w}
        while todo:
            g = todo.pop()
            if g in raw:
                if g not in seen:
                    seen.add(g)
                    todo.extend(raw[g])
            else:
                final.add(g)
        proj.guard_functions[w] = final

    queue: deque[tuple[FileIndex, FunctionFacts, str, str, str | None]] = deque()

    def add(ix: FileIndex, f: FunctionFacts, role: str, via: str, cls: str | None,
            excluded: tuple[str, ...] = ()) -> None:
        per = proj.reach.setdefault(ix.path, {})
        if f.qualname in per:
            return
        per[f.qualname] = Reach(f.qualname, role, via, cls in proj.module_classes if cls else False, excluded)
        queue.append((ix, f, role, via, cls))

    # entry points
    with_properties: dict[str, bool | None] = {}

    def has_property(a: str) -> bool | None:
        return any("property" in f.decorators or "builtins.property" in f.decorators
                   for f in classes[a][1].methods.values()) or None

    for name, (ix, c) in classes.items():
        is_mod = name in proj.module_classes
        for m, f in c.methods.items():
            decos = set(f.decorators)
            if is_mod and m == "forward":
                add(ix, f, "forward", f"{c.name}.forward", name)
            elif EXPORT_DECORATOR in decos:
                add(ix, f, "export", f"{c.name}.{m}", name)
        if is_mod:
            # torch.jit.script compiles a module's properties too, those it inherits from mixins included;
            # the tracers only run the ones forward reads
            for a in (_ancestors(name, classes, canon, ancestry)
                      if _inherited(name, classes, canon, with_properties, has_property) else ()):
                aix, ac = classes[a]
                for m, f in ac.methods.items():
                    if "property" in f.decorators or "builtins.property" in f.decorators:
                        add(aix, f, "export", f"{c.name}.{m} (property)", a, ("trace", "export", "compile"))
    for name, (ix, f) in functions.items():
        for d in f.decorators:
            if d in SCRIPT_DECORATORS:
                add(ix, f, SCRIPT_DECORATORS[d], f.qualname, None)
    for ix in files.values():
        for target, mech in ix.captured:
            made = mech.endswith("()")
            mech = mech.rstrip("()")
            target = canon(target)
            if target in functions:
                if made:
                    continue  # `torch.jit.trace(build(), ...)`: the factory's result is captured, not the factory
                fix, f = functions[target]
                add(fix, f, mech, f.qualname, None)
            elif target in classes and target not in proj.module_classes:
                hit = method_owner(target, "forward")
                if hit:
                    add(hit[1], hit[2], "forward", f"{target}.forward", hit[0])

    def reach_function(name: str, via: str, excluded: tuple[str, ...] = ()) -> bool:
        hit = functions.get(name)
        if hit is None:
            return False
        add(hit[0], hit[1], "helper", via, None, excluded)
        return True

    def reach_registry(name: str, via: str, depth: int = 0) -> None:
        """A dispatch table, registry object or alias read in reachable code: what it holds is reached."""
        table = canon.registry(name)
        if table is None or depth > 3:
            return
        for ref in registries[table]:
            ref = canon(ref)
            if not reach_function(ref, via):
                if ref in classes:
                    for v in classes[ref][1].values:  # `TABLE = Registry()`: the class's own mapping
                        v = canon(v)
                        if not reach_function(v, via):
                            reach_registry(v, via, depth + 1)
                else:
                    reach_registry(ref, via, depth + 1)

    # reachability
    while queue:
        ix, f, role, via, cls = queue.popleft()
        for d in f.decorators:  # a project decorator wraps the function: its wrapper runs on every call
            reach_function(canon(d), via, ("script",))  # TorchScript compiles the undecorated function
        for value in f.values:
            value = canon(value)
            if not reach_function(value, via):
                reach_registry(value, via)
        for call in f.calls:
            if call.startswith("self.") and cls:
                parts = call.split(".")
                if len(parts) == 2:
                    hit = method_owner(cls, parts[1])
                    if hit:
                        add(hit[1], hit[2], "helper", via, hit[0])
                        continue
                    # self.sub(...) -> the submodule's forward
                    for sub in attr_types(cls, parts[1]):
                        hit = method_owner(sub, "forward")
                        if hit:
                            add(hit[1], hit[2], "forward", f"{sub.rsplit('.', 1)[-1]}.forward", hit[0])
                elif len(parts) == 3:  # self.sub.method(...)
                    for sub in attr_types(cls, parts[1]):
                        hit = method_owner(sub, parts[2])
                        if hit:
                            add(hit[1], hit[2], "helper", via, hit[0])
            elif call.startswith("super.") and cls:
                _, c = classes[cls]
                for b in c.bases:
                    hit = method_owner(b, call[6:])
                    if hit:
                        add(hit[1], hit[2], "helper", via, hit[0])
                        break
            else:
                call = canon(call)
                if not reach_function(call, via) and call not in classes:
                    reach_registry(call, via)
    return proj


class _Canonical:
    """Where a dotted name is really defined: follows re-exports (`from .trace_utils import _assert` in a
    package `__init__`) and private aliases across the project's modules. Memoised."""

    def __init__(self, modules, classes, functions, registries):
        self.modules = modules
        self.known = classes.keys() | functions.keys()
        self.registries = registries
        self.memo: dict[str, str] = {}
        self.tables: dict[str, str | None] = {}

    def __call__(self, name: str) -> str:
        if not name:
            return name
        hit = self.memo.get(name)
        if hit is None:
            hit = self.memo[name] = self._resolve(name, 0)
        return hit

    def _resolve(self, name: str, depth: int) -> str:
        if name in self.known or depth > 8:
            return name
        parts = name.split(".")
        for i in range(len(parts) - 1, 0, -1):  # the longest prefix that is a project module
            mod = ".".join(parts[:i])
            ix = self.modules.get(mod)
            if ix is None:
                continue
            target = ix.aliases.get(parts[i])
            if target is None or target == ".".join(parts[: i + 1]):
                return name
            return self._resolve(".".join([target, *parts[i + 1:]]), depth + 1)
        return name

    def registry(self, name: str) -> str | None:
        """The registry a (canonical) name reads: `mod.TABLE`, `mod.TABLE.get`, `mod.TABLE.get_interface`."""
        if name not in self.tables:
            self.tables[name] = self._registry(name)
        return self.tables[name]

    def _registry(self, name: str) -> str | None:
        while name:
            if name in self.registries:
                return name
            name = name.rpartition(".")[0]
            if name in self.modules:
                return None
        return None


_LOADERS = ("from_pretrained", "from_config")
_DICT_BASES = {"collections.OrderedDict", "typing.OrderedDict", "dict", "typing.Dict", "builtins.dict",
               "collections.UserDict"}


def _ancestors(name: str, classes, canon, memo: dict[str, list[str]] | None = None) -> list[str]:
    """`name` and its project base classes, nearest first (each once); `memo` keeps the answers of
    one project build (every class asks, and a generated chain can be thousands deep)."""
    if memo is not None and name in memo:
        return memo[name]
    out: list[str] = []
    seen: set[str] = set()
    todo = deque([name])
    while todo:
        c = todo.popleft()
        if c in seen or c not in classes:
            continue
        seen.add(c)
        out.append(c)
        todo.extend(canon(b) for b in classes[c][1].bases)
    if memo is not None:
        memo[name] = out
    return out


def _inherited(name: str, classes, canon, memo: dict, own):
    """The first non-None `own(a)` over `name` and its project bases, depth-first, bases in order
    (a method's owner, say). `memo` keeps every class's answer, so asking it for every class of a
    project costs one step per class, even for a generated chain thousands deep (an explicit stack,
    no recursion; an inheritance cycle in broken code ends the walk)."""
    if name in memo:
        return memo[name]
    active: set[str] = set()
    stack = [(name, False)]
    while stack:
        n, expanded = stack.pop()
        if n in memo:
            continue
        if n not in classes:
            memo[n] = None
            continue
        if not expanded:
            if n in active:        # a cycle: this branch adds nothing
                continue
            found = own(n)
            if found is not None:
                memo[n] = found
                continue
            active.add(n)
            bases = [canon(b) for b in classes[n][1].bases]
            stack.append((n, True))
            stack.extend((b, False) for b in reversed(bases) if b not in memo)
            continue
        active.discard(n)
        memo[n] = next((hit for b in classes[n][1].bases if (hit := memo.get(canon(b))) is not None), None)
    return memo.get(name)


def _inherits(name: str, classes, canon, memo: dict, own) -> bool:
    """Does any project base of `name` (not `name` itself) satisfy `own`?"""
    return any(_inherited(canon(b), classes, canon, memo, own) for b in classes[name][1].bases)


def _loadable(name: str, classes, canon, memo: dict) -> bool:
    return _inherits(name, classes, canon, memo, lambda a: any(m in classes[a][1].methods for m in _LOADERS) or None)


def _output_classes(classes, canon) -> dict[str, str]:
    """Classes a forward may return whole: dataclasses, namedtuples and dict subclasses (ModelOutput)."""
    out: dict[str, str] = {}
    memos: tuple[dict, dict, dict] = ({}, {}, {})
    dict_base = lambda a: bool({canon(b) for b in classes[a][1].bases} & _DICT_BASES) or None  # noqa: E731
    pytree = lambda a: classes[a][0].pytree or None  # noqa: E731
    named = lambda a: "typing.NamedTuple" in {canon(b) for b in classes[a][1].bases} or None  # noqa: E731
    for name, (ix, c) in classes.items():
        if _inherited(name, classes, canon, memos[0], dict_base):
            out[name] = "dict-pytree" if _inherited(name, classes, canon, memos[1], pytree) else "dict"
        elif "dataclasses.dataclass" in c.decorators:
            out[name] = "dataclass"
        elif _inherited(name, classes, canon, memos[2], named):
            out[name] = "namedtuple"
    return out


def _constructor_arguments(classes, functions, canon) -> dict[tuple[str, str], set[str]]:
    """(class, __init__ parameter) -> the classes builders construct and pass for it, across files,
    through `super().__init__(...)` and parameters passed on (a fixed point)."""
    out: dict[tuple[str, str], set[str]] = {}
    init_params: dict[str, list[str]] = {}

    def params_of(cls: str) -> list[str]:
        if cls not in init_params:
            seen, c = set(), cls
            names: list[str] = []
            while c in classes and c not in seen:
                seen.add(c)
                init = classes[c][1].methods.get("__init__")
                if init is not None:
                    names = [p.name for p in init.params if p.kind in ("positional", "kwonly")][1:]
                    break
                c = next((canon(b) for b in classes[c][1].bases if canon(b) in classes), "")
            init_params[cls] = names
        return init_params[cls]

    sites: list[tuple[str | None, str, str, str]] = []   # (enclosing class, callee class, key, ctor)
    for name, (ix, c) in classes.items():
        for m in c.methods.values():
            for callee, key, ctor in m.ctor_args:
                if callee.startswith("super."):
                    if callee != "super.__init__":
                        continue
                    base = next((canon(b) for b in c.bases if canon(b) in classes), None)
                    if base is None:
                        continue
                    sites.append((name if m.qualname.endswith(".__init__") else None, base, key, ctor))
                else:
                    sites.append((name if m.qualname.endswith(".__init__") else None, canon(callee), key, ctor))
    for _, (ix, f) in functions.items():
        for callee, key, ctor in f.ctor_args:
            if not callee.startswith("super."):
                sites.append((None, canon(callee), key, ctor))
    for _ in range(4):
        changed = False
        for enclosing, callee, key, ctor in sites:
            if callee not in classes:
                continue
            params = params_of(callee)
            pname = params[int(key)] if key.isdigit() and int(key) < len(params) else key
            if ctor.startswith("@"):
                found = out.get((enclosing, ctor[1:]), set()) if enclosing else set()
            else:
                found = {canon(ctor)}
            slot = out.setdefault((callee, pname), set())
            if not found <= slot:
                slot |= found
                changed = True
        if not changed:
            break
    return out


def _rename_module(ix: FileIndex, new: str) -> None:
    """Give a file a unique module name, rewriting the references to its own definitions."""
    old = ix.module + "."

    def fix(name: str) -> str:
        return new + "." + name[len(old):] if name.startswith(old) else name

    ix.module = new
    for c in ix.classes.values():
        c.bases = [fix(b) for b in c.bases]
        c.attr_types = {k: fix(v) for k, v in c.attr_types.items()}
        for m in c.methods.values():
            m.calls = [fix(x) for x in m.calls]
    for f in ix.functions.values():
        f.calls = [fix(x) for x in f.calls]
        f.decorators = [fix(d) for d in f.decorators]
    ix.captured = [(fix(t), mech) for t, mech in ix.captured]
