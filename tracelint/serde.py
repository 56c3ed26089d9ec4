"""Data-only (de)serialisation of tracelint's dataclasses, for the caches.

`to_data` turns dataclasses, enums, sets and tuples into JSON-ready values; `from_data(T, data)`
rebuilds a `T` from its type hints and rejects anything of the wrong shape (`DecodeError`). Both are
generic over the dataclass fields, so a field added to `FileIndex` or `Diagnostic` flows through
without touching this module. Nothing here can run code from the data: a cache entry written by
someone else is at worst a miss.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import sys
import types
import typing
from functools import lru_cache
from typing import Any, Callable

Decoder = Callable[[Any], Any]


class DecodeError(ValueError):
    """The data does not have the shape the type describes."""


def to_data(value: Any) -> Any:
    """JSON-ready plain data: dataclass -> dict of fields, enum -> value, set -> sorted list."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {(k.value if isinstance(k, enum.Enum) else k): to_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [to_data(v) for v in value]
        return sorted(items, key=_sort_key)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _sort_key(item: Any) -> str:
    return item if isinstance(item, str) else canonical(item)


def canonical(data: Any) -> str:
    """The canonical JSON text of plain data: sorted keys, no spaces (equal data, equal bytes)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def from_data(tp: Any, data: Any) -> Any:
    """Rebuild a value of type `tp` from plain data; DecodeError for any mismatch."""
    try:
        return _decoder(tp)(data)
    except DecodeError:
        raise
    except (TypeError, ValueError, KeyError, RecursionError) as e:
        raise DecodeError(str(e)) from None


@lru_cache(maxsize=None)
def _decoder(tp: Any) -> Decoder:
    if tp is Any:
        raise TypeError("Any is not data-only")
    if tp is type(None) or tp is None:
        return _none
    if tp in (str, bool):
        return _exact(tp)
    if tp is int:
        return _int
    if tp is float:
        return _float
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or (sys.version_info >= (3, 10) and origin is types.UnionType):
        return _union(tuple(_decoder(a) for a in args))
    if origin in (list, set, frozenset):
        item = _decoder(args[0]) if args else _fail
        build = origin
        return lambda d: build(item(x) for x in _seq(d))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda d: tuple(item(x) for x in _seq(d))
        parts = tuple(_decoder(a) for a in args)
        return lambda d: _fixed_tuple(parts, d)
    if origin is dict or tp is dict:
        key = _key_decoder(args[0]) if args else _exact(str)
        val = _decoder(args[1]) if args else _fail
        return lambda d: {key(k): val(v) for k, v in _map(d).items()}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda d: tp(d)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass(tp)
    if isinstance(tp, str):
        raise TypeError(f"unresolved type {tp!r}")
    raise TypeError(f"no decoder for {tp!r}")


def from_data_given(cls: type, data: Any, **given: Any) -> Any:
    """Rebuild dataclass `cls` from plain data, taking the fields in `given` as they are (already
    decoded values shared by many records) instead of from `data`; DecodeError for any mismatch."""
    try:
        m = _map(data)
        hints = _field_decoders(cls)
        if m.keys() | given.keys() != hints.keys() or m.keys() & given.keys():
            raise DecodeError(f"{cls.__name__}: fields {sorted(m)} + {sorted(given)} != {sorted(hints)}")
        return cls(**{k: hints[k](v) for k, v in m.items()}, **given)
    except DecodeError:
        raise
    except (TypeError, ValueError, KeyError, RecursionError) as e:
        raise DecodeError(str(e)) from None


@lru_cache(maxsize=None)
def _field_decoders(cls: type) -> dict[str, Decoder]:
    hints = typing.get_type_hints(cls)
    return {f.name: _decoder(hints[f.name]) for f in dataclasses.fields(cls) if f.init}


def _dataclass(cls: type) -> Decoder:
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    names = frozenset(f.name for f in fields)
    decoders: dict[str, Decoder] = {}

    def decode(d: Any) -> Any:
        m = _map(d)
        if m.keys() != names:
            raise DecodeError(f"{cls.__name__}: fields {sorted(m)} != {sorted(names)}")
        if not decoders:
            decoders.update({f.name: _decoder(hints[f.name]) for f in fields})
        return cls(**{k: decoders[k](v) for k, v in m.items()})

    return decode


def _key_decoder(tp: Any) -> Decoder:
    """JSON object keys are strings: int keys come back from their decimal text."""
    if tp is int:
        def as_int(k: Any) -> int:
            if not isinstance(k, str) or not k.lstrip("-").isdigit():
                raise DecodeError(f"expected an int key, got {k!r}")
            return int(k)
        return as_int
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda k: tp(k)
    return _decoder(tp)


def _none(d: Any) -> None:
    if d is not None:
        raise DecodeError(f"expected null, got {type(d).__name__}")
    return None


def _exact(tp: type) -> Decoder:
    def check(d: Any) -> Any:
        if type(d) is not tp:
            raise DecodeError(f"expected {tp.__name__}, got {type(d).__name__}")
        return d
    return check


def _int(d: Any) -> int:
    if type(d) is not int:
        raise DecodeError(f"expected int, got {type(d).__name__}")
    return d


def _float(d: Any) -> float:
    if type(d) not in (int, float):
        raise DecodeError(f"expected a number, got {type(d).__name__}")
    return float(d)


def _fail(d: Any) -> Any:
    raise DecodeError("untyped container")


def _union(options: tuple[Decoder, ...]) -> Decoder:
    def decode(d: Any) -> Any:
        for opt in options:
            try:
                return opt(d)
            except (DecodeError, TypeError, ValueError, KeyError):
                continue
        raise DecodeError(f"no alternative matches {type(d).__name__}")
    return decode


def _seq(d: Any) -> list:
    if type(d) is not list:
        raise DecodeError(f"expected a list, got {type(d).__name__}")
    return d


def _map(d: Any) -> dict:
    if type(d) is not dict:
        raise DecodeError(f"expected an object, got {type(d).__name__}")
    return d


def _fixed_tuple(parts: tuple[Decoder, ...], d: Any) -> tuple:
    items = _seq(d)
    if len(items) != len(parts):
        raise DecodeError(f"expected {len(parts)} items, got {len(items)}")
    return tuple(p(x) for p, x in zip(parts, items))
