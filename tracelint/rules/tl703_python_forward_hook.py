"""TL703: forward hooks that are lambdas/closures: TorchScript compiles hooks and rejects them."""
from __future__ import annotations

import libcst as cst

from tracelint.rule import INIT, Invalid, Rule
from tracelint.targets import fail, ok

_HOOKS = {"register_forward_hook", "register_forward_pre_hook"}
_EFFECTS = {
    "trace": ok("the hook runs and is recorded"),
    "script": fail("error: Expected a single top-level function (hooks are compiled with the module)"),
    "export": ok("the hook runs and is recorded"),
    "compile": ok("the hook runs and is traced"),
}


class PythonForwardHook(Rule):
    """Flags `register_forward_hook(lambda ...)` / nested-def / partial hooks in __init__."""

    code = "TL703"
    name = "python-forward-hook"
    summary = "A lambda or closure registered as a forward hook: torch.jit.script cannot compile it."
    short_message = "`{method}` with a {what}"
    message = "`{method}` with a {what}: script: compile error (Expected a single top-level function); trace/export/compile run it"
    help = "define the hook as a module-level function with typed arguments, or fold its effect into forward"
    targets = _EFFECTS
    scope = INIT
    valid = (
        """
from torch import nn

def scale_output(module: nn.Module, inputs: tuple, output):
    return output * 10

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.lin.register_forward_hook(scale_output)

    def forward(self, x):
        return self.lin(x)
""",
    )
    invalid = (
        Invalid("""
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.lin.register_forward_hook(lambda m, i, o: o * 10)

    def forward(self, x):
        return self.lin(x)
""", ((7, 9),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not self.ctx.in_init or not isinstance(func, cst.Attribute) or func.attr.value not in _HOOKS:
            return
        if not node.args:
            return
        hook = node.args[0].value
        what = None
        if isinstance(hook, cst.Lambda):
            what = "lambda"
        elif isinstance(hook, cst.Call) and (self.ctx.qualified(hook.func) or "").endswith("partial"):
            what = "functools.partial"
        elif isinstance(hook, cst.Name) and self._nested_def(hook.value):
            what = "nested function (closure)"
        if what:
            self.report(node, method=func.attr.value, what=what)

    def _nested_def(self, name: str) -> bool:
        frame = self.ctx.frame
        fn = frame.node if frame is not None else None
        body = fn.body.body if fn is not None and isinstance(fn.body, cst.IndentedBlock) else ()
        return any(isinstance(s, cst.FunctionDef) and s.name.value == name for s in body)
