"""TL901: the captured artefact silently returns something else than eager (dynamic checker)."""
from tracelint.rule import Rule
from tracelint.targets import fail


class CaptureDivergence(Rule):
    """Reported by `tracelint confirm` / `--dynamic` only: found by running, not by reading."""

    code = "TL901"
    name = "capture-divergence"
    summary = "The captured model's output differs from eager on an input other than the example."
    short_message = "the captured model's output differs from eager on another input"
    message = "{target}: output differs from eager on {variants}: {why}"
    help = ("Make the line named here depend on tensors, not on Python values fixed at capture time "
            "(tensor ops instead of Python branches/loops/indexing), or capture with a mechanism that "
            "keeps control flow (torch.jit.script, torch.export with torch.cond).")
    targets = {
        "trace": fail("the trace replays the example's Python decisions on every input"),
        "script": fail("the scripted program computes something else than eager"),
        "export": fail("the exported graph was specialised beyond its guards"),
        "compile": fail("the compiled graph computes something else than eager"),
    }
    dynamic_only = True
