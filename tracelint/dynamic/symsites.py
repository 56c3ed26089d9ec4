"""Where export guarded, specialised or converted a symbolic size: the lines to blame for its errors.

Non-strict export runs forward as Python on symbolic sizes. The shape environment logs each
symbol it creates (`create_symbol s27 = 5 for L['x'].size()[1]`), each guard it adds (`eval
Eq(s27, 5) [guard added]`) and each symbol it replaces by a constant (`set_replacement s27 = 5`);
the user frame on the stack when such a record is emitted is the line responsible, even when the
conversion happened inside a torch op. That gives two localisations:
  * "you marked it dynamic but your code specialized it" (no location in the message): the first
    specialising line (`first()`);
  * an exported program that rejects a variant at run time ("Guard failed: x.size()[1] == 5", no
    location either): the first guard on a symbol of a dimension the variant changed
    (`site_for()`).
Failing those, the first user line that converts a SymInt/SymBool/SymFloat is reported.
"""
from __future__ import annotations

import logging
import re
import sys
from typing import Any, Iterable

from tracelint.dynamic.userfiles import is_user_file

_METHODS = {"SymInt": ("__index__", "__int__", "__bool__"), "SymBool": ("__bool__", "__int__"),
            "SymFloat": ("__float__", "__int__", "__bool__")}

_SHAPES_LOGGER = "torch.fx.experimental.symbolic_shapes"
_TO_CONSTANT = re.compile(r"set_replacement (\S+) = -?\d+\b")
_CREATE = re.compile(r"create_symbol (\S+) = \S+ for (\S+)\.size\(\)\[(\d+)\]")
_GUARD = re.compile(r"eval (.+?) \[guard added\]")
_SYMBOL = re.compile(r"\b[su]\d+\b")
MAX_SITES = 200


def _user_frame() -> tuple[str, int] | None:
    frame = sys._getframe(2)
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


class _ShapeLog(logging.Handler):
    """Symbols, guards and specialisations, each guard/specialisation with its user frame."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.symbols: dict[str, tuple[str, int]] = {}        # symbol -> (source, dim)
        self.specialised: list[dict[str, Any]] = []
        self.guards: list[tuple[set[str], dict[str, Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
            if msg.startswith("create_symbol"):
                m = _CREATE.match(msg)
                if m:
                    self.symbols[m.group(1)] = (m.group(2), int(m.group(3)))
                return
            if len(self.guards) + len(self.specialised) >= MAX_SITES:
                return
            guard = _GUARD.search(msg)
            const = _TO_CONSTANT.search(msg)
            if not guard and not const:
                return
            where = _user_frame()
            if where is None:
                return
            if const:
                site = {"path": where[0], "line": where[1], "how": "specialization",
                        "detail": "export specialised a dynamic size to a constant here"}
                self.specialised.append(site)
                self.guards.append(({const.group(1)}, site))
            else:
                site = {"path": where[0], "line": where[1], "how": "guard",
                        "detail": f"export added the guard {guard.group(1)} here"}
                self.guards.append((set(_SYMBOL.findall(guard.group(1))), site))
        except Exception:  # noqa: BLE001 - logging must never break the capture
            pass


class SymSites:
    """Context manager recording the user lines that guarded, specialised or converted sizes."""

    def __init__(self) -> None:
        self.sites: list[dict[str, Any]] = []
        self._saved: list[tuple[type, str, Any]] = []
        self._log = _ShapeLog()
        self._logger_state: tuple[int, bool] | None = None

    def __enter__(self) -> "SymSites":
        import torch

        logger = logging.getLogger(_SHAPES_LOGGER)
        self._logger_state = (logger.level, logger.propagate)
        logger.addHandler(self._log)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
            logger.propagate = False   # INFO records would otherwise reach torch's stderr handler

        for cls_name, methods in _METHODS.items():
            cls = getattr(torch, cls_name, None)
            if cls is None:
                continue
            for name in methods:
                original = cls.__dict__.get(name)
                if original is None:
                    continue
                self._saved.append((cls, name, original))
                setattr(cls, name, self._hook(f"{cls_name}.{name}", original))
        return self

    def __exit__(self, *exc) -> None:
        for cls, name, original in reversed(self._saved):
            setattr(cls, name, original)
        self._saved.clear()
        logger = logging.getLogger(_SHAPES_LOGGER)
        logger.removeHandler(self._log)
        if self._logger_state is not None:
            logger.setLevel(self._logger_state[0])
            logger.propagate = self._logger_state[1]

    def _hook(self, label: str, original: Any):
        sites = self.sites

        def wrapper(value, *args, **kwargs):
            frame = sys._getframe(1)
            path = frame.f_code.co_filename
            if is_user_file(path) and len(sites) < 1000:
                sites.append({"path": path, "line": frame.f_lineno, "how": "specialization",
                              "detail": f"{label} turned a symbolic size into a Python value here"})
            return original(value, *args, **kwargs)

        return wrapper

    def first(self) -> dict[str, Any] | None:
        if self._log.specialised:
            return self._log.specialised[0]
        return self.sites[0] if self.sites else None

    def site_for(self, dims: Iterable[tuple[str, int]]) -> dict[str, Any] | None:
        """The first guard or specialisation on a symbol of one of `dims` ((source, dim) pairs)."""
        wanted = set(dims)
        symbols = {s for s, src in self._log.symbols.items() if src in wanted}
        if not symbols:
            return None
        for syms, site in self._log.guards:
            if syms & symbols:
                return site
        return None
