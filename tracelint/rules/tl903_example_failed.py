"""TL903: the example could not be checked: its examples function or the model itself failed (dynamic checker)."""
from tracelint.rule import Rule
from tracelint.targets import fail


class ExampleFailed(Rule):
    """Reported by `tracelint confirm` / `--dynamic` only, when there is nothing to compare against."""

    code = "TL903"
    name = "example-failed"
    summary = ("tracelint_examples() raised, or the model raised, hung, crashed or ran out of memory "
               "in eager mode on its own example.")
    short_message = "the example failed in eager mode"
    message = "{example}: {what}"
    help = ("Make the example run in eager mode first (python -c 'import m; [e.module(*e.inputs) for e in "
            "m.tracelint_examples()]'); raise --timeout or --memory-limit if it is only slow or large.")
    targets = {t: fail("not checked: the example did not run") for t in ("trace", "script", "export", "compile")}
    dynamic_only = True
