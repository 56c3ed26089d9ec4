"""The cheap first phase: an `ast` index of every file, then project-wide entry points and reachability.

`ast.parse` costs about a tenth of the LibCST parse, so this pass decides which files hold code
reachable from a capture entry point at all; only those are parsed with LibCST and linted.
"""
from __future__ import annotations

import ast
import os
from collections import deque
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
    refs: list[str] = field(default_factory=list)  # names loaded in an __init__ (classes used as submodules)


@dataclass
class ClassFacts:
    name: str
    lineno: int
    bases: list[str] = field(default_factory=list)      # resolved dotted names
    methods: dict[str, FunctionFacts] = field(default_factory=dict)
    attr_types: dict[str, str] = field(default_factory=dict)  # self.attr = Ctor(...) -> dotted Ctor


@dataclass
class FileIndex:
    path: str
    module: str
    aliases: dict[str, str] = field(default_factory=dict)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    captured: list[tuple[str, str]] = field(default_factory=list)  # (dotted callee, target)
    constants: set[str] = field(default_factory=set)    # module-level assigned names
    syntax_error: tuple[int, int, str] | None = None
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


class _Indexer(ast.NodeVisitor):
    def __init__(self, index: FileIndex, package: str):
        self.ix = index
        self.package = package
        self.cls: ClassFacts | None = None
        self.fn: FunctionFacts | None = None

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
                           [self._res(dotted(b)) or "" for b in node.bases])
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

    def visit_FunctionDef(self, node) -> None:
        if self.fn is not None:
            self.generic_visit(node)  # nested defs: their calls count for the enclosing function
            return
        qual = f"{self.cls.name}.{node.name}" if self.cls else node.name
        facts = FunctionFacts(qual, node.lineno,
                              [self._res(dotted(d.func if isinstance(d, ast.Call) else d)) or ""
                               for d in node.decorator_list],
                              params=_params(node.args),
                              returns=ast.unparse(node.returns) if node.returns else "")
        if self.cls is not None:
            self.cls.methods[node.name] = facts
        else:
            self.ix.functions[node.name] = facts
        self.fn = facts
        if node.name == "__init__":  # `def __init__(self, block=Attention)`: classes passed as defaults
            for d in [*node.args.defaults, *(k for k in node.args.kw_defaults if k is not None)]:
                self.visit(d)
        for stmt in node.body:
            self.visit(stmt)
        self.fn = None

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.fn is None and self.cls is None:
            for t in node.targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        self.ix.constants.add(n.id)
        elif self.fn is not None and self.cls is not None and isinstance(node.value, ast.Call):
            ctor = self._res(dotted(node.value.func))
            for t in node.targets:
                if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                        and t.value.id == "self" and ctor):
                    self.cls.attr_types[t.attr] = ctor
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if self.fn is not None and isinstance(node.value, ast.Tuple):
            self.fn.returns_tuple = True
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if self.fn is not None and self.fn.qualname.endswith(".__init__") and isinstance(node.ctx, ast.Load):
            self.fn.refs.append(self._res(node.id) or node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if self.fn is not None and self.fn.qualname.endswith(".__init__") and isinstance(node.ctx, ast.Load):
            name = dotted(node)
            if name and not name.startswith("self."):
                self.fn.refs.append(self._res(name) or name)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = dotted(func)
        if self.fn is not None:
            if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
                    and isinstance(func.value.func, ast.Name) and func.value.func.id == "super"):
                self.fn.calls.append("super." + func.attr)
            elif name and name.startswith("self."):
                self.fn.calls.append(name)
            elif name:
                self.fn.calls.append(self._res(name) or name)
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


def _params(args: ast.arguments) -> list[Param]:
    out: list[Param] = []
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for a, d in zip(positional, defaults):
        out.append(Param(a.arg, ast.unparse(a.annotation) if a.annotation else "", _default(d)))
    if args.vararg:
        out.append(Param(args.vararg.arg, "", "", "vararg"))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append(Param(a.arg, ast.unparse(a.annotation) if a.annotation else "", _default(d), "kwonly"))
    if args.kwarg:
        out.append(Param(args.kwarg.arg, "", "", "kwarg"))
    return out


def _default(node) -> str:
    if node is None:
        return ""
    if isinstance(node, ast.Constant):
        return "None" if node.value is None else "literal"
    return "other"


def _first_line(node: ast.stmt) -> int:
    """The line a statement starts on, decorators included."""
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])


def index_source(path: str, source: bytes | str, module: str | None = None) -> FileIndex:
    """Index one file; a syntax error is recorded, not raised."""
    module = module or module_name(path)
    ix = FileIndex(path=path, module=module)
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as e:
        ix.syntax_error = (e.lineno or 1, e.offset or 1, e.msg or "invalid syntax")
        return ix
    except ValueError as e:  # e.g. NUL bytes
        ix.syntax_error = (1, 1, str(e))
        return ix
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
    _Indexer(ix, package).visit(tree)
    return ix


@dataclass(frozen=True)
class Reach:
    """Why a function is analysed: its entry kind and the chain that reaches it."""

    qualname: str
    role: str            # forward | export | script | compile | trace | helper
    via: str = ""        # the entry point it is reached from
    is_module_class: bool = False


@dataclass
class ProjectIndex:
    files: dict[str, FileIndex]                        # path -> index
    module_classes: set[str] = field(default_factory=set)  # dotted names
    functions: dict[str, tuple[FileIndex, FunctionFacts]] = field(default_factory=dict)  # dotted -> facts
    reach: dict[str, dict[str, Reach]] = field(default_factory=dict)  # path -> qualname -> Reach
    # module classes constructed in another module class's __init__ (blocks, heads): their forward is
    # called by a parent, so its parameters and returns are not a capture boundary
    submodule_classes: set[str] = field(default_factory=set)
    tuple_output_classes: set[str] = field(default_factory=set)  # module classes whose forward returns a tuple

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


def build_project(files: dict[str, FileIndex], module_bases=()) -> ProjectIndex:
    """Resolve nn.Module subclasses across files, entry points, and reachability from them."""
    extra = set(module_bases)
    proj = ProjectIndex(files)
    classes: dict[str, tuple[FileIndex, ClassFacts]] = {}
    functions: dict[str, tuple[FileIndex, FunctionFacts]] = {}
    taken: dict[str, str] = {}
    for path, ix in files.items():
        # two scripts named alike in different folders (not packages) must not shadow each other
        if taken.setdefault(ix.module, path) != path:
            _rename_module(ix, f"{ix.module}@{path}")
    for ix in files.values():
        for c in ix.classes.values():
            classes[f"{ix.module}.{c.name}"] = (ix, c)
        for f in ix.functions.values():
            functions[f"{ix.module}.{f.qualname}"] = (ix, f)

    proj.functions = functions
    # nn.Module subclasses: fixed point over project bases
    changed = True
    while changed:
        changed = False
        for name, (ix, c) in classes.items():
            if name in proj.module_classes:
                continue
            if any(_is_torch_module_base(b, extra) or b in proj.module_classes for b in c.bases):
                proj.module_classes.add(name)
                changed = True

    for name, (ix, c) in classes.items():
        # any class's __init__ (its own base may live outside the linted tree) that builds, aliases or
        # passes on a module class makes that class a submodule: its forward is not the capture boundary
        init = c.methods.get("__init__")
        if init is not None:
            proj.submodule_classes |= {k for k in (*init.calls, *init.refs) if k in proj.module_classes and k != name}
    proj.submodule_classes -= {t for ix in files.values() for t, _ in ix.captured}  # captured directly too

    def method_owner(cls_name: str, meth: str, seen=None) -> tuple[str, FileIndex, FunctionFacts] | None:
        seen = seen or set()
        if cls_name in seen or cls_name not in classes:
            return None
        seen.add(cls_name)
        ix, c = classes[cls_name]
        if meth in c.methods:
            return cls_name, ix, c.methods[meth]
        for b in c.bases:
            hit = method_owner(b, meth, seen)
            if hit:
                return hit
        return None

    for name in proj.module_classes:
        hit = method_owner(name, "forward")
        if hit and (hit[2].returns_tuple or hit[2].returns.replace(" ", "").startswith(("Tuple[", "tuple["))):
            proj.tuple_output_classes.add(name)

    queue: deque[tuple[FileIndex, FunctionFacts, str, str, str | None]] = deque()

    def add(ix: FileIndex, f: FunctionFacts, role: str, via: str, cls: str | None) -> None:
        per = proj.reach.setdefault(ix.path, {})
        if f.qualname in per:
            return
        per[f.qualname] = Reach(f.qualname, role, via, cls in proj.module_classes if cls else False)
        queue.append((ix, f, role, via, cls))

    # entry points
    for name, (ix, c) in classes.items():
        is_mod = name in proj.module_classes
        for m, f in c.methods.items():
            decos = set(f.decorators)
            if is_mod and m == "forward":
                add(ix, f, "forward", f"{c.name}.forward", name)
            elif EXPORT_DECORATOR in decos:
                add(ix, f, "export", f"{c.name}.{m}", name)
    for name, (ix, f) in functions.items():
        for d in f.decorators:
            if d in SCRIPT_DECORATORS:
                add(ix, f, SCRIPT_DECORATORS[d], f.qualname, None)
    for ix in files.values():
        for target, mech in ix.captured:
            made = mech.endswith("()")
            mech = mech.rstrip("()")
            if target in functions:
                if made:
                    continue  # `torch.jit.trace(build(), ...)`: the factory's result is captured, not the factory
                fix, f = functions[target]
                add(fix, f, mech, f.qualname, None)
            elif target in classes and target not in proj.module_classes:
                hit = method_owner(target, "forward")
                if hit:
                    add(hit[1], hit[2], "forward", f"{target}.forward", hit[0])

    # reachability
    while queue:
        ix, f, role, via, cls = queue.popleft()
        for call in f.calls:
            if call.startswith("self.") and cls:
                parts = call.split(".")
                if len(parts) == 2:
                    hit = method_owner(cls, parts[1])
                    if hit:
                        add(hit[1], hit[2], "helper", via, hit[0])
                        continue
                    # self.sub(...) -> the submodule's forward
                    sub = _attr_type(classes, cls, parts[1])
                    if sub and sub in classes:
                        hit = method_owner(sub, "forward")
                        if hit:
                            add(hit[1], hit[2], "forward", f"{sub.rsplit('.', 1)[-1]}.forward", hit[0])
                elif len(parts) == 3:  # self.sub.method(...)
                    sub = _attr_type(classes, cls, parts[1])
                    hit = method_owner(sub, parts[2]) if sub else None
                    if hit:
                        add(hit[1], hit[2], "helper", via, hit[0])
            elif call.startswith("super.") and cls:
                _, c = classes[cls]
                for b in c.bases:
                    hit = method_owner(b, call[6:])
                    if hit:
                        add(hit[1], hit[2], "helper", via, hit[0])
                        break
            elif call in functions:
                fix, g = functions[call]
                add(fix, g, "helper", via, None)
            elif call in classes:
                # constructing a project class then calling it is resolved only via attr types
                continue
    return proj


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


def _attr_type(classes, cls: str, attr: str) -> str | None:
    seen = set()
    while cls in classes and cls not in seen:
        seen.add(cls)
        _, c = classes[cls]
        if attr in c.attr_types:
            return c.attr_types[attr]
        cls = next((b for b in c.bases if b in classes), "")
    return None
