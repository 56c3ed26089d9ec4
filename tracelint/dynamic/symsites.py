"""Where export turned a symbolic size into a Python value (and so specialised or guarded it).

"You marked ... as dynamic but your code specialized it to be a constant" carries no location.
Non-strict export runs forward as Python on symbolic sizes, so the user frame on the stack when
the shape environment replaces a symbol by a constant (its `set_replacement` log record) is the
line that specialised the dimension, even when the conversion happened inside a torch op
(`x.new_tensor([x.size(0)])`). Failing that, the first user line that converts a
SymInt/SymBool/SymFloat (`range(x.size(0))`, `if x.shape[0] > 2`, `int(...)`) is reported.
"""
from __future__ import annotations

import logging
import re
import sys
from typing import Any

from tracelint.dynamic.userfiles import is_user_file

_METHODS = {"SymInt": ("__index__", "__int__", "__bool__"), "SymBool": ("__bool__", "__int__"),
            "SymFloat": ("__float__", "__int__", "__bool__")}


_SHAPES_LOGGER = "torch.fx.experimental.symbolic_shapes"
_TO_CONSTANT = re.compile(r"set_replacement \S+ = -?\d+\b")


def _user_frame() -> tuple[str, int] | None:
    frame = sys._getframe(2)
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


class _Specialisations(logging.Handler):
    """Notes the user frame on the stack when a symbol is replaced by a constant."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.sites: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if len(self.sites) < 10 and _TO_CONSTANT.search(record.getMessage()):
                where = _user_frame()
                if where is not None:
                    self.sites.append({"path": where[0], "line": where[1], "how": "specialization",
                                       "detail": "export specialised a dynamic size to a constant here"})
        except Exception:  # noqa: BLE001 - logging must never break the capture
            pass


class SymSites:
    """Context manager recording the user lines that specialised or converted symbolic sizes."""

    def __init__(self) -> None:
        self.sites: list[dict[str, Any]] = []
        self._saved: list[tuple[type, str, Any]] = []
        self._log = _Specialisations()
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
        if self._log.sites:
            return self._log.sites[0]
        return self.sites[0] if self.sites else None
