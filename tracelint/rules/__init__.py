"""The rule registry: every module in this package defines one Rule subclass."""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from tracelint.rule import Rule


@lru_cache(maxsize=1)
def all_rules() -> dict[str, type[Rule]]:
    """code -> rule class, for every rule module in this package, sorted by code."""
    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(__path__):
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
    rules = all_rules()
    out: set[str] = set()
    for sel in selectors:
        sel = sel.strip()
        if not sel:
            continue
        if sel.upper() == "ALL":
            out |= set(rules)
            continue
        hits = {c for c, r in rules.items() if c.startswith(sel.upper()) or r.name == sel}
        if not hits:
            raise ValueError(f"unknown rule selector {sel!r}{f' in {where}' if where else ''} "
                             "(a code such as TL201, a prefix such as TL2, a rule name, or ALL; see `tracelint rules`)")
        out |= hits
    return out


def select_rules(select=(), ignore=(), extend_select=()) -> list[type[Rule]]:
    """Resolve codes, code prefixes (`TL1`) and rule names; ValueError for a selector that matches nothing."""
    rules = all_rules()
    chosen = resolve_selectors(select, "select") if select else {c for c, r in rules.items() if r.default_enabled}
    chosen |= resolve_selectors(extend_select, "extend-select")
    chosen |= {"TL000", "TL001"} & set(rules)  # a file that does not parse or a crash is always reported
    chosen -= resolve_selectors(ignore, "ignore")
    return [rules[c] for c in sorted(chosen)]
