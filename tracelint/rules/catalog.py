"""Every rule's code, name and default, without importing the rules (that costs LibCST's import).

Generated from the rule classes; `tests/test_startup.py` keeps it current (regenerate with
`python -m tracelint.rules.catalog`).
"""
from __future__ import annotations

# code: (name, enabled by default)
CATALOG: dict[str, tuple[str, bool]] = {
    "TL000": ("syntax-error", True),
    "TL001": ("internal-error", True),
    "TL002": ("unused-suppression", False),
    "TL003": ("not-analysed", True),
    "TL101": ("tensor-condition", True),
    "TL102": ("tensor-while", True),
    "TL103": ("tensor-assert", True),
    "TL201": ("tensor-to-python", True),
    "TL202": ("tensor-scalar-cast", True),
    "TL203": ("tensor-len", True),
    "TL204": ("tensor-iteration", True),
    "TL205": ("tensor-python-index", True),
    "TL301": ("shape-condition", True),
    "TL302": ("shape-assert", True),
    "TL303": ("shape-to-python", True),
    "TL304": ("range-over-shape", True),
    "TL305": ("shape-tensor-constant", True),
    "TL306": ("dtype-device-condition", True),
    "TL307": ("cached-shape-helper", True),
    "TL308": ("rank-condition", False),
    "TL401": ("non-tensor-input", True),
    "TL402": ("variadic-forward", True),
    "TL403": ("non-tensor-output", True),
    "TL404": ("dict-output", True),
    "TL405": ("list-output", True),
    "TL406": ("structured-output", True),
    "TL407": ("unrelated-tensor-output", True),
    "TL501": ("script-lambda", True),
    "TL502": ("script-nested-def", True),
    "TL503": ("script-try-except", True),
    "TL504": ("script-generator", True),
    "TL505": ("script-global", True),
    "TL506": ("script-set", True),
    "TL507": ("script-walrus", True),
    "TL508": ("script-match", True),
    "TL509": ("script-star-unpack", True),
    "TL510": ("script-star-call", True),
    "TL511": ("script-dynamic-getattr", True),
    "TL512": ("module-container-index", True),
    "TL513": ("script-super-call", True),
    "TL514": ("script-isinstance-type", True),
    "TL515": ("script-empty-container", True),
    "TL516": ("script-optional-unrefined", True),
    "TL517": ("script-optional-attribute", True),
    "TL518": ("script-mixed-container", True),
    "TL519": ("script-variable-type-change", True),
    "TL520": ("script-builtin-sum", True),
    "TL521": ("script-comprehension-clause", True),
    "TL522": ("script-import", True),
    "TL601": ("python-random", True),
    "TL602": ("wall-clock-time", True),
    "TL603": ("print-in-forward", True),
    "TL604": ("logging-in-forward", True),
    "TL605": ("warnings-in-forward", True),
    "TL606": ("mutable-global-read", True),
    "TL607": ("attribute-mutation", True),
    "TL608": ("python-list-state", True),
    "TL609": ("buffer-inplace-update", True),
    "TL610": ("inplace-resize", True),
    "TL611": ("module-created-in-forward", True),
    "TL612": ("cuda-availability-branch", True),
    "TL701": ("unregistered-submodule-list", True),
    "TL702": ("numpy-attribute", True),
    "TL703": ("python-forward-hook", True),
    "TL704": ("activation-checkpoint", True),
    "TL705": ("compiler-disable", True),
    "TL706": ("scripted-submodule", True),
    "TL707": ("jit-ignore-python-body", True),
    "TL708": ("recurrent-module", True),
    "TL901": ("capture-divergence", True),
    "TL902": ("capture-error", True),
    "TL903": ("example-failed", True),
}


if __name__ == "__main__":  # pragma: no cover - regenerates this file
    from pathlib import Path

    from tracelint.rules import catalog_source
    Path(__file__).write_text(catalog_source(), encoding="utf-8")
