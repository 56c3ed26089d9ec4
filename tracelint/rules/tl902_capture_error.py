"""TL902: capture fails, or the captured artefact raises where eager does not (dynamic checker)."""
from tracelint.rule import Rule
from tracelint.targets import fail


class CaptureError(Rule):
    """Reported by `tracelint confirm` / `--dynamic` only: found by running, not by reading."""

    code = "TL902"
    name = "capture-error"
    summary = "Capturing the model fails, or the captured model raises on an input eager accepts."
    short_message = "capturing fails, or the captured model rejects an input eager accepts"
    message = "{target}: {what}"
    help = ("Fix the construct at this line for the failing mechanism (the error says which), or do not "
            "use that mechanism for this model.")
    targets = {
        "trace": fail("torch.jit.trace raises, or the traced graph raises on another input"),
        "script": fail("torch.jit.script cannot compile this code, or the program raises"),
        "export": fail("torch.export.export raises, or the exported program's guards reject the input"),
        "compile": fail("torch.compile(fullgraph=True) hits a graph break, or the compiled code raises"),
    }
    dynamic_only = True
