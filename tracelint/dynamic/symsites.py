"""Where export turned a symbolic size into a Python value (and so specialised or guarded it).

"You marked ... as dynamic but your code specialized it to be a constant" carries no location.
Non-strict export runs forward as Python on symbolic sizes, so the first user line that converts
a SymInt/SymBool/SymFloat (`range(x.size(0))`, `if x.shape[0] > 2`, `int(...)`) is the line that
specialised the dimension.
"""
from __future__ import annotations

import sys
from typing import Any

from tracelint.dynamic.userfiles import is_user_file

_METHODS = {"SymInt": ("__index__", "__int__", "__bool__"), "SymBool": ("__bool__", "__int__"),
            "SymFloat": ("__float__", "__int__", "__bool__")}


class SymSites:
    """Context manager recording the user lines that converted symbolic values, in order."""

    def __init__(self) -> None:
        self.sites: list[dict[str, Any]] = []
        self._saved: list[tuple[type, str, Any]] = []

    def __enter__(self) -> "SymSites":
        import torch

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
        return self.sites[0] if self.sites else None
