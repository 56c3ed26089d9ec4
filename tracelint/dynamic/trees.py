"""Walk nested inputs and outputs (tuples, lists, dicts, namedtuples, dataclasses) of tensors."""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Callable


def is_tensor(x: Any) -> bool:
    import torch

    return isinstance(x, torch.Tensor)


def tree_map(fn: Callable[[Any], Any], obj: Any) -> Any:
    """Apply `fn` to every tensor leaf; containers are rebuilt with their own types."""
    if is_tensor(obj):
        return fn(obj)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(tree_map(fn, v) for v in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(tree_map(fn, v) for v in obj)
    if isinstance(obj, dict):
        out = {k: tree_map(fn, v) for k, v in obj.items()}
        try:
            return type(obj)(out)
        except Exception:  # noqa: BLE001 - exotic mappings: a plain dict is good enough for inputs
            return out
    return obj


def map_with_path(fn: Callable[[tuple, Any], Any], obj: Any, path: tuple = ()) -> Any:
    """Like tree_map, with the leaf's path (indices and keys from the root) as first argument."""
    if is_tensor(obj):
        return fn(path, obj)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(map_with_path(fn, v, path + (i,)) for i, v in enumerate(obj)))
    if isinstance(obj, (tuple, list)):
        return type(obj)(map_with_path(fn, v, path + (i,)) for i, v in enumerate(obj))
    if isinstance(obj, dict):
        out = {k: map_with_path(fn, v, path + (k,)) for k, v in obj.items()}
        try:
            return type(obj)(out)
        except Exception:  # noqa: BLE001
            return out
    return obj


def with_paths(obj: Any) -> list[tuple[tuple, Any]]:
    """Every tensor leaf with its path."""
    out: list[tuple[tuple, Any]] = []
    map_with_path(lambda p, t: out.append((p, t)) or t, obj)
    return out


def tensor_sequences(obj: Any, path: tuple = ()) -> list[tuple[tuple, int]]:
    """(path, length) of every list/tuple (not a namedtuple) whose items are all tensors: a
    variable-length collection (a list of images), not a fixed structure."""
    out: list[tuple[tuple, int]] = []
    if is_tensor(obj):
        return out
    if isinstance(obj, (tuple, list)) and not hasattr(obj, "_fields"):
        if obj and all(is_tensor(v) for v in obj):
            return [(path, len(obj))]
        for i, v in enumerate(obj):
            out += tensor_sequences(v, path + (i,))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out += tensor_sequences(v, path + (k,))
    return out


def get(obj: Any, path: tuple) -> Any:
    for key in path:
        obj = obj[key]
    return obj


def replace_at(obj: Any, path: tuple, value: Any) -> Any:
    """A copy of the containers along `path` with the item at `path` replaced."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        items = list(obj)
        items[head] = replace_at(items[head], rest, value)
        return type(obj)(*items)
    if isinstance(obj, (tuple, list)):
        items = list(obj)
        items[head] = replace_at(items[head], rest, value)
        return type(obj)(items)
    out = dict(obj)
    out[head] = replace_at(obj[head], rest, value)
    try:
        return type(obj)(out)
    except Exception:  # noqa: BLE001
        return out


def leaves(obj: Any) -> list[Any]:
    out: list[Any] = []
    tree_map(lambda t: out.append(t) or t, obj)
    return out


def clone(obj: Any) -> Any:
    """Fresh copies, so a model that writes into its inputs cannot change later runs."""
    return tree_map(lambda t: t.detach().clone(), obj)


def digest(obj: Any) -> str:
    """Identity of an input tuple by shapes, dtypes and values (for dropping duplicate variants)."""
    import torch

    h = hashlib.sha1()

    def add(t):
        h.update(f"{tuple(t.shape)}{t.dtype}".encode())
        if t.device.type != "meta" and t.numel():
            h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        return t

    tree_map(add, obj)
    h.update(repr(_skeleton(obj)).encode())
    return h.hexdigest()


def _skeleton(obj: Any) -> Any:
    if is_tensor(obj):
        return "T"
    if isinstance(obj, (tuple, list)):
        return (type(obj).__name__, [_skeleton(v) for v in obj])
    if isinstance(obj, dict):
        return ("dict", [(k, _skeleton(v)) for k, v in obj.items()])
    return repr(obj)


_SHORT = {"float32": "f32", "float64": "f64", "float16": "f16", "bfloat16": "bf16", "int64": "i64",
          "int32": "i32", "int16": "i16", "int8": "i8", "uint8": "u8", "bool": "bool",
          "complex64": "c64", "complex128": "c128"}


def describe(obj: Any) -> str:
    """Compact text such as `(f32[4, 7], i64[4])`."""
    if is_tensor(obj):
        dt = str(obj.dtype).replace("torch.", "")
        return f"{_SHORT.get(dt, dt)}[{', '.join(str(s) for s in obj.shape)}]"
    if isinstance(obj, tuple):
        return "(" + ", ".join(describe(v) for v in obj) + ("," if len(obj) == 1 else "") + ")"
    if isinstance(obj, list):
        return "[" + ", ".join(describe(v) for v in obj) + "]"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in obj.items()) + "}"
    text = repr(obj)
    return text if len(text) <= 20 else text[:17] + "..."


def plain(obj: Any) -> Any:
    """Outputs as comparable containers: dataclasses become dicts of their fields."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type) and not isinstance(obj, dict):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return obj


def call(fn: Callable[..., Any], inputs: tuple) -> Any:
    """Call `fn` with an (args, kwargs) pair."""
    args, kwargs = inputs
    return fn(*args, **kwargs)
