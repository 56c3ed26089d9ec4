"""The rule registry: every module in this package defines one Rule subclass.

Selecting rules needs only `catalog.CATALOG` (codes, names, defaults); the rule classes, and with
them LibCST, are imported only when a file is really linted.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from tracelint.rules.catalog import CATALOG

if TYPE_CHECKING:  # pragma: no cover
    from tracelint.rule import Rule


@lru_cache(maxsize=1)
def all_rules() -> dict[str, type[Rule]]:
    """code -> rule class, for every rule module in this package, sorted by code."""
    from tracelint.rule import Rule
    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "catalog":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule \
                    and obj.__module__ == module.__name__ and hasattr(obj, "code"):
                obj.validate()
                if obj.code in found:
                    raise RuntimeError(f"duplicate rule code {obj.code}")
                found[obj.code] = obj
    return dict(sorted(found.items()))


def by_name() -> dict[str, type[Rule]]:
    return {r.name: r for r in all_rules().values()}


def resolve_selectors(selectors, where: str = "") -> set[str]:
    """Codes matched by codes, code prefixes (`TL1`), rule names or `ALL`; ValueError for one that matches nothing."""
    rules = {c: name for c, (name, _) in CATALOG.items()}
    out: set[str] = set()
    for sel in selectors:
        sel = sel.strip()
        if not sel:
            continue
        if sel.upper() == "ALL":
            out |= set(rules)
            continue
        hits = {c for c, name in rules.items() if c.startswith(sel.upper()) or name == sel}
        if not hits:
            raise ValueError(f"unknown rule selector {sel!r}{f' in {where}' if where else ''} "
                             "(a code such as TL201, a prefix such as TL2, a rule name, or ALL; see `tracelint rules`)")
        out |= hits
    return out


def selected_codes(select=(), ignore=(), extend_select=()) -> tuple[str, ...]:
    """The selected codes, sorted; ValueError for a selector that matches nothing. Imports no rule."""
    chosen = resolve_selectors(select, "select") if select else {c for c, (_, on) in CATALOG.items() if on}
    chosen |= resolve_selectors(extend_select, "extend-select")
    chosen |= {"TL000", "TL001"}  # a file that does not parse or a crash is always reported
    chosen -= resolve_selectors(ignore, "ignore")
    return tuple(sorted(chosen))


def select_rules(select=(), ignore=(), extend_select=()) -> list[type[Rule]]:
    """Resolve codes, code prefixes (`TL1`) and rule names; ValueError for a selector that matches nothing."""
    rules = all_rules()
    return [rules[c] for c in selected_codes(select, ignore, extend_select)]


def catalog_source() -> str:
    """The text of `catalog.py`, from the rule classes."""
    rows = "".join(f'    "{c}": ("{r.name}", {r.default_enabled}),\n' for c, r in all_rules().items())
    head, _, _ = Path(__file__).with_name("catalog.py").read_text(encoding="utf-8").partition("CATALOG")
    return (f'{head}CATALOG: dict[str, tuple[str, bool]] = {{\n{rows}}}\n\n\n'
            'if __name__ == "__main__":  # pragma: no cover - regenerates this file\n'
            '    from pathlib import Path\n\n'
            '    from tracelint.rules import catalog_source\n'
            '    Path(__file__).write_text(catalog_source(), encoding="utf-8")\n')
