"""Value kinds: is an expression tensor data, a shape-derived int, or a plain Python value?

This distinction is what makes a finding right: a branch on TENSOR data is silently wrong under
trace and an error under export; a branch on a SHAPE value is frozen by trace, fine for script
and a guard for export; a branch on a PYTHON value (config, `self.training`) is no data flow at all.
"""
from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Iterable

import libcst as cst

from tracelint.analysis.names import dotted_name

if TYPE_CHECKING:  # pragma: no cover
    from tracelint.analysis.context import FileContext


class Kind(enum.Enum):
    TENSOR = "tensor"          # tensor data (values flow at run time)
    PARAM = "param"            # a parameter or buffer of the module (fixed shape, dtype, device)
    SHAPE = "shape"            # ints/tuples derived from .shape/.size()/.numel()
    RANK = "rank"              # the number of dimensions (.dim(), .ndim, len(x.shape)): static per input rank
    META = "meta"              # dtype, device, layout, is_floating_point(): fixed per input
    PYTHON = "python"          # literals, config, flags, loop counters over constants
    BAKED = "baked"            # a Python value converted from a tensor or shape (already a finding)
    MODULE = "module"          # an nn.Module (submodule, ModuleList, ...)
    SELF = "self"
    NONE = "none"
    TENSORS = "tensors"        # a Python sequence of tensors (x.unbind(), x.split(), [a, b])
    UNKNOWN = "unknown"


DATA = {Kind.TENSOR}
TRACED = {Kind.TENSOR, Kind.SHAPE}

# tensor methods whose result is a shape-derived Python int / torch.Size
SHAPE_METHODS = {"size", "dim", "numel", "ndimension", "nelement", "stride", "storage_offset",
                 "element_size", "__len__"}
SHAPE_ATTRS = {"shape", "ndim"}
RANK_METHODS = {"dim", "ndimension"}
META_ATTRS = {"dtype", "device", "layout", "is_cuda", "is_sparse", "is_quantized", "is_meta",
              "requires_grad", "is_leaf", "names",
              # the other device and layout flags of torch.Tensor (fixed per input, never data)
              "is_cpu", "is_mps", "is_xpu", "is_xla", "is_ipu", "is_hpu", "is_maia", "is_mtia", "is_vulkan",
              "is_mkldnn", "is_nested", "is_sparse_csr"}
META_METHODS = {"is_floating_point", "is_complex", "is_contiguous", "get_device", "is_signed",
                "type", "is_pinned", "is_nonzero", "is_conj", "is_neg", "is_inference", "is_shared",
                "is_coalesced", "is_distributed", "is_same_size", "is_set_to"}
ESCAPE_METHODS = {"item", "tolist", "numpy"}   # tensor -> Python value
SEQ_METHODS = {"unbind", "split", "chunk", "tensor_split", "split_with_sizes", "unflatten_seq"}
TENSOR_ATTRS = {"T", "mT", "H", "mH", "data", "real", "imag", "grad"}
# torch functions returning Python values, not tensors
TORCH_PYTHON = {
    "torch.jit.is_scripting", "torch.jit.is_tracing", "torch.compiler.is_compiling",
    "torch.compiler.is_dynamo_compiling", "torch._dynamo.is_compiling", "torch.is_grad_enabled",
    "torch.cuda.is_available", "torch.backends.mps.is_available", "torch.is_tensor",
    "torch.is_floating_point", "torch.is_complex", "torch.finfo", "torch.iinfo",
    "torch.get_default_dtype", "torch.is_autocast_enabled", "torch.device", "torch.dtype",
    "torch.jit.annotate", "torch.is_inference_mode_enabled",
}
TORCH_SEQ = {"torch.unbind", "torch.split", "torch.chunk", "torch.tensor_split", "torch.meshgrid",
             "torch.broadcast_tensors"}
# torch APIs returning Python values (flags, predicates, configuration), by prefix
TORCH_PYTHON_PREFIXES = ("torch.jit.is_", "torch.cuda.", "torch.backends.", "torch.distributed.",
                         "torch._C.", "torch.onnx.", "torch.fx.", "torch.utils.", "torch.overrides.",
                         "torch.version.", "torch.mps.", "torch.xpu.", "torch.hub.")
# `is_*` functions that do read tensor data
TORCH_DATA_PREDICATES = {"torch.is_nonzero", "torch.is_same_size"}
# ops that always return a tuple of tensors, and ops that do when given a dim
TUPLE_METHODS = {"topk", "sort", "kthvalue", "mode", "aminmax", "frexp", "slogdet", "qr", "svd", "lu",
                 "eig", "eigh", "var_mean", "std_mean", "histogram", "cummax", "cummin", "geqrf",
                 "triangular_solve", "lstsq", "lu_unpack", "unique_consecutive_with_counts"}
DIM_TUPLE_METHODS = {"max", "min", "median", "nanmedian"}
# torch.nn modules whose forward returns a tuple, not a tensor
TUPLE_MODULES = {"torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN", "torch.nn.MultiheadAttention",
                 "torch.nn.AdaptiveLogSoftmaxWithLoss", "torch.nn.MaxPool1d", "torch.nn.MaxPool2d",
                 "torch.nn.MaxPool3d"}
PY_BUILTIN_SCALARS = {"int", "float", "bool", "complex", "str", "round", "abs"}
TENSOR_ANNOTATIONS = {"Tensor", "torch.Tensor", "Optional[Tensor]", "Optional[torch.Tensor]",
                      "Tensor | None", "torch.Tensor | None", "typing.Optional[torch.Tensor]"}
PY_ANNOTATIONS = {"int", "float", "bool", "str", "complex"}


def join(kinds: Iterable[Kind]) -> Kind:
    """The kind of a value computed from several operands (the most data-dependent wins)."""
    ks = set(kinds)
    for k in (Kind.TENSOR, Kind.SHAPE, Kind.BAKED, Kind.META):
        if k in ks:
            return k
    if Kind.RANK in ks and ks <= {Kind.RANK, Kind.PYTHON, Kind.NONE}:
        return Kind.RANK
    if ks and ks <= {Kind.PYTHON, Kind.NONE}:
        return Kind.PYTHON
    if Kind.PARAM in ks and ks <= {Kind.PARAM, Kind.PYTHON, Kind.NONE}:
        return Kind.PARAM
    return Kind.UNKNOWN


def split_optional(text: str) -> tuple[str, bool]:
    """`Optional[X]`, `Union[X, None]`, `X | None`, `None | X` -> ("X", True); else (text, False)."""
    t = text.replace(" ", "").strip("'\"")
    for wrap in ("Optional[", "typing.Optional[", "Union[", "typing.Union["):
        if t.startswith(wrap) and t.endswith("]"):
            inner = _top_level(t[len(wrap):-1], ",")
            if wrap.endswith("Optional["):
                return inner[0] if len(inner) == 1 else t, True
            rest = [p for p in inner if p not in ("None", "NoneType")]
            return ("|".join(rest), len(rest) < len(inner))
    parts = _top_level(t, "|")
    if len(parts) > 1:
        rest = [p for p in parts if p not in ("None", "NoneType")]
        return "|".join(rest), len(rest) < len(parts)
    return t, False


def _top_level(text: str, sep: str) -> list[str]:
    """Split on `sep` outside brackets."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch in "[("
        depth -= ch in "])"
        cur += ch
    out.append(cur)
    return out


def is_tensor_type(t: str) -> bool:
    """`Tensor`, `torch.Tensor`, `torch.LongTensor`, `FloatTensor`, `nn.Parameter` (no spaces)."""
    last = t.rsplit(".", 1)[-1]
    return (last == "Tensor" or (last.endswith("Tensor") and last[:-6] in _TENSOR_TYPE_PREFIXES)
            or t in ("Parameter", "nn.Parameter", "torch.nn.Parameter"))


_TENSOR_TYPE_PREFIXES = {"Float", "Long", "Bool", "Int", "Half", "Double", "Byte", "Char", "Short", "BFloat16"}
_PY_SEQUENCES = ("List[", "list[", "Tuple[", "tuple[", "Sequence[", "typing.List[", "typing.Tuple[",
                 "Iterable[", "typing.Sequence[")


def annotation_kind(text: str) -> Kind | None:
    """The kind an annotation gives a value (None: says nothing useful)."""
    t, _ = split_optional(text)
    if len(_top_level(t, "|")) > 1:
        return None  # a union of several types
    if is_tensor_type(t):
        return Kind.TENSOR
    if t in PY_ANNOTATIONS or t.startswith(("Final", "typing.Final", "Literal", "typing.Literal")) \
            or t in ("torch.Size", "Size", "torch.dtype", "torch.device"):
        return Kind.PYTHON
    if t.startswith(_PY_SEQUENCES):
        inner = t[t.index("[") + 1:-1]
        elems = [e for e in _top_level(inner, ",") if e != "..."]
        if elems and all(is_tensor_type(split_optional(e)[0]) for e in elems):
            return Kind.TENSORS
        if any(is_tensor_type(split_optional(e)[0]) or "Tensor" in e for e in elems):
            return None   # a mix of tensors and other values
        return Kind.PYTHON
    if t.startswith(("Dict[", "dict[", "typing.Dict[", "Mapping[")):
        return None if "Tensor" in t else Kind.PYTHON
    return None


class KindEvaluator:
    """Computes (and memoises per node) the kind of expressions in the current function."""

    def __init__(self, ctx: "FileContext"):
        self.ctx = ctx
        self.cache: dict[int, Kind] = {}

    def kind(self, node: cst.CSTNode) -> Kind:
        key = id(node)
        k = self.cache.get(key)
        if k is None:
            k = self._kind(node)
            self.cache[key] = k
        return k

    # -------------------------------------------------------------------------
    def _kind(self, node: cst.CSTNode) -> Kind:
        ctx = self.ctx
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString,
                             cst.ConcatenatedString, cst.FormattedString, cst.Lambda)):
            return Kind.PYTHON
        if isinstance(node, cst.Name):
            if node.value in ("True", "False"):
                return Kind.PYTHON
            if node.value == "None":
                return Kind.NONE
            return ctx.name_kind(node.value)
        if isinstance(node, cst.Attribute):
            return self._attribute(node)
        if isinstance(node, cst.Subscript):
            base = self.kind(node.value)
            if base in (Kind.TENSOR, Kind.SHAPE, Kind.META, Kind.PARAM):
                return base
            if base == Kind.TENSORS:
                return Kind.TENSORS if any(isinstance(e.slice, cst.Slice) for e in node.slice) else Kind.TENSOR
            if base == Kind.MODULE:
                return Kind.MODULE
            if base == Kind.PYTHON:
                idx = [self.kind(e.slice.value) for e in node.slice if isinstance(e.slice, cst.Index)]
                return Kind.PYTHON if all(k in (Kind.PYTHON, Kind.NONE) for k in idx) else Kind.UNKNOWN
            return Kind.UNKNOWN
        if isinstance(node, cst.Call):
            return self._call(node)
        if isinstance(node, cst.BinaryOperation):
            return join([self.kind(node.left), self.kind(node.right)])
        if isinstance(node, cst.UnaryOperation):
            return self.kind(node.expression)
        if isinstance(node, cst.BooleanOperation):
            left = self.kind(node.left)
            if left == Kind.SHAPE and isinstance(node.left, cst.Comparison):
                # `n > 1 and flag`: the size comparison is converted to a Python bool right here (the
                # finding is there); what flows on is `flag`, or the frozen example's answer
                left = Kind.PYTHON
            return join([left, self.kind(node.right)])
        if isinstance(node, cst.Comparison):
            ops = node.comparisons
            if all(isinstance(c.operator, (cst.Is, cst.IsNot)) for c in ops):
                return Kind.PYTHON  # `x is None` is decided in Python, never data flow
            if all(isinstance(c.operator, (cst.In, cst.NotIn)) for c in ops):
                kinds = [self.kind(node.left)]
                return Kind.PYTHON if kinds[0] in (Kind.PYTHON, Kind.NONE) else join(
                    kinds + [self.kind(c.comparator) for c in ops])
            return join([self.kind(node.left), *(self.kind(c.comparator) for c in ops)])
        if isinstance(node, cst.IfExp):
            return join([self.kind(node.body), self.kind(node.orelse)])
        if isinstance(node, (cst.Tuple, cst.List)):
            kinds = [self.kind(e.value) for e in node.elements]
            if kinds and all(k == Kind.TENSOR for k in kinds):
                return Kind.TENSORS
            if kinds and all(k in (Kind.SHAPE, Kind.PYTHON) for k in kinds) and Kind.SHAPE in kinds:
                return Kind.SHAPE
            if all(k in (Kind.PYTHON, Kind.NONE) for k in kinds):
                return Kind.PYTHON
            return Kind.UNKNOWN
        if isinstance(node, (cst.Dict, cst.Set, cst.ListComp, cst.SetComp, cst.DictComp,
                             cst.GeneratorExp)):
            return Kind.UNKNOWN
        if isinstance(node, cst.NamedExpr):
            return self.kind(node.value)
        if isinstance(node, cst.Ellipsis):
            return Kind.PYTHON
        return Kind.UNKNOWN

    def _attribute(self, node: cst.Attribute) -> Kind:
        attr = node.attr.value
        full = self.ctx.qualified(node)
        if full and full.startswith(("torch.float", "torch.int", "torch.bool", "torch.bfloat", "torch.half",
                                     "torch.double", "torch.long", "torch.uint", "torch.complex")):
            return Kind.META
        if full and full.split(".")[0] in ("math", "numpy", "torch", "np") and "." in full:
            if full.split(".")[0] == "math":
                return Kind.PYTHON
        if isinstance(node.value, cst.Name) and node.value.value == "self":
            k = self.ctx.self_attr_kind(attr)
            return Kind.PARAM if k == Kind.TENSOR else k  # tensors set up in __init__
        base = self.kind(node.value)
        if base == Kind.PARAM:
            # parameters and buffers have a fixed shape, dtype and device
            return Kind.PYTHON if attr in SHAPE_ATTRS | META_ATTRS else Kind.PARAM
        if base == Kind.TENSOR or (base == Kind.UNKNOWN and attr in SHAPE_ATTRS and self.ctx.analysed):
            if attr == "ndim":
                return Kind.RANK
            if attr in SHAPE_ATTRS:
                return Kind.SHAPE
            if attr in META_ATTRS:
                return Kind.META
            if attr in TENSOR_ATTRS:
                return Kind.TENSOR
            return Kind.UNKNOWN if base == Kind.UNKNOWN else Kind.TENSOR
        if base == Kind.META:
            return Kind.META
        if base == Kind.MODULE:
            return Kind.UNKNOWN  # e.g. self.proj.weight: handled by the submodule; UNKNOWN is safe
        if base == Kind.PYTHON:
            return Kind.PYTHON
        return Kind.UNKNOWN

    def _call(self, node: cst.Call) -> Kind:
        ctx = self.ctx
        func = node.func
        args = [a.value for a in node.args]
        if isinstance(func, cst.Attribute):
            meth = func.attr.value
            full = ctx.qualified(func)
            if full and full.startswith("torch."):
                return self._torch_call(full, args)
            if full and full in ctx.size_functions:
                return Kind.SHAPE   # `F.get_dimensions(img)`: sizes read from the argument, in another file
            if full and full.split(".")[0] in ("math",):
                kinds = [self.kind(a) for a in args]
                return Kind.BAKED if any(k in TRACED for k in kinds) else Kind.PYTHON
            if full and full.split(".")[0] in ("numpy",):
                kinds = [self.kind(a) for a in args]
                return Kind.BAKED if any(k in TRACED for k in kinds) else Kind.PYTHON
            base = self.kind(func.value)
            if base == Kind.TENSOR:
                if meth in RANK_METHODS:
                    return Kind.RANK
                if meth in SHAPE_METHODS:
                    return Kind.SHAPE
                if meth in META_METHODS:
                    return Kind.META
                if meth in ESCAPE_METHODS:
                    return Kind.BAKED
                if meth in SEQ_METHODS or meth in TUPLE_METHODS:
                    return Kind.TENSORS
                if meth in DIM_TUPLE_METHODS and (self._has_dim(args) or any(
                        a.keyword is not None and a.keyword.value == "dim" for a in node.args)):
                    return Kind.TENSORS
                return Kind.TENSOR
            if base == Kind.PARAM:
                if meth in SHAPE_METHODS or meth in META_METHODS or meth in ESCAPE_METHODS:
                    return Kind.PYTHON  # fixed for a given module: not an input property
                if meth in SEQ_METHODS or meth in TUPLE_METHODS:
                    return Kind.TENSORS
                return Kind.PARAM
            if base == Kind.UNKNOWN and meth in ("size", "dim") and ctx.analysed and not args[1:]:
                return Kind.SHAPE if self._looks_like_tensor(func.value) else Kind.UNKNOWN
            if base == Kind.SHAPE:
                return Kind.SHAPE if meth in ("numel", "index", "count", "__getitem__") else Kind.UNKNOWN
            if base == Kind.MODULE:
                if meth in ("forward", "__call__"):
                    return Kind.TENSOR
                return Kind.UNKNOWN
            if base == Kind.SELF:
                if ctx.self_attr_kind(meth) == Kind.MODULE:
                    fact = ctx.attr_fact(meth)
                    ctors = (fact.ctor, *fact.alternatives) if fact is not None else ()
                    if ctors and all(c in TUPLE_MODULES for c in ctors):
                        return Kind.TENSORS  # (output, state) tuples: unpacking them is fine
                    if any(c in TUPLE_MODULES or c in ctx.tuple_output_classes for c in ctors):
                        return Kind.UNKNOWN  # a tuple (from some constructor): its elements may be anything
                    return Kind.TENSOR  # self.submodule(x): the submodule's forward output
                return ctx.method_return_kind(meth)
            if base == Kind.TENSORS and meth in ("index", "count"):
                return Kind.PYTHON
            return Kind.UNKNOWN
        if isinstance(func, cst.Name):
            name = func.value
            full = ctx.qualified(func)
            if full and full.startswith("torch."):
                return self._torch_call(full, args)
            if ctx.is_builtin(name):
                kinds = [self.kind(a) for a in args]
                if name == "len":
                    if not kinds:
                        return Kind.PYTHON
                    if kinds[0] == Kind.TENSOR:
                        return Kind.BAKED  # len(t) is a plain int even under trace (TL203)
                    if kinds[0] == Kind.SHAPE:
                        return Kind.RANK  # len(x.shape): the number of dimensions
                    return Kind.PYTHON if kinds[0] in (Kind.PYTHON, Kind.TENSORS, Kind.MODULE) else Kind.UNKNOWN
                if name in PY_BUILTIN_SCALARS or name in ("max", "min", "sum", "divmod", "pow"):
                    if any(k in TRACED for k in kinds):
                        if name in ("max", "min", "sum", "abs", "pow") and Kind.TENSOR in kinds:
                            return Kind.TENSOR  # torch overloads: max(t1, t2) on tensors is elementwise-ish
                        return Kind.BAKED
                    if name == "sum" and kinds and kinds[0] in (Kind.TENSORS, Kind.UNKNOWN):
                        return Kind.UNKNOWN
                    return join(kinds) if kinds else Kind.PYTHON
                if name in ("isinstance", "hasattr", "callable", "any", "all", "id", "type", "repr",
                            "range", "enumerate", "zip", "reversed", "sorted", "print"):
                    if name in ("any", "all") and any(k == Kind.TENSOR for k in kinds):
                        return Kind.TENSOR
                    return Kind.PYTHON
                if name in ("tuple", "list"):
                    if kinds and kinds[0] == Kind.SHAPE:
                        return Kind.SHAPE
                    if kinds and kinds[0] in (Kind.TENSORS, Kind.TENSOR):
                        return Kind.TENSORS
                    return Kind.UNKNOWN
                if name == "getattr":
                    return Kind.UNKNOWN
                return Kind.UNKNOWN
            return ctx.function_return_kind(name)
        return Kind.UNKNOWN

    def _torch_call(self, full: str, args) -> Kind:
        """Kind of a call to a torch API, by its resolved name."""
        last = full.rsplit(".", 1)[-1]
        if (full in TORCH_PYTHON or full.startswith(TORCH_PYTHON_PREFIXES)
                or (last.startswith(("is_", "are_", "get_")) and full not in TORCH_DATA_PREDICATES)):
            return Kind.PYTHON  # flags, predicates and configuration: Python values, not tensor data
        if full == "torch.numel":
            return Kind.SHAPE
        kinds = [self.kind(a) for a in args]
        if Kind.PARAM in kinds and all(k in (Kind.PARAM, Kind.PYTHON, Kind.NONE, Kind.META) for k in kinds):
            return Kind.PARAM  # torch ops on parameters and constants only
        if full in TORCH_SEQ or last in TUPLE_METHODS or (last in DIM_TUPLE_METHODS and self._has_dim(args[1:])):
            return Kind.TENSORS
        if full == "torch.Size":
            return join(self.kind(a) for a in args) if args else Kind.PYTHON
        if full.startswith("torch.nn.") and not full.startswith("torch.nn.functional.") and last[:1].isupper():
            return Kind.MODULE
        if full.startswith(("torch.jit.", "torch.compiler.", "torch._dynamo.")):
            return Kind.UNKNOWN
        return Kind.TENSOR

    def _has_dim(self, args) -> bool:
        """`x.max(1)` / `torch.max(x, dim=1)` return (values, indices); `x.max()` / `max(x, y)` a tensor."""
        return any(self.kind(a) not in (Kind.TENSOR, Kind.TENSORS) for a in args)

    def _looks_like_tensor(self, node: cst.CSTNode) -> bool:
        """An unknown value whose `.size()`/`.dim()` is called in reachable code: a tensor in practice."""
        return isinstance(node, (cst.Name, cst.Attribute, cst.Subscript, cst.Call))
