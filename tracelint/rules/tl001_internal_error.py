"""TL001: a rule crashed on a file."""
from tracelint.rule import Rule
from tracelint.targets import fail


class InternalErrorRule(Rule):
    code = "TL001"
    name = "internal-error"
    summary = "A tracelint rule raised on this file; its other rules and files still ran."
    short_message = "internal error in {rule}: {error}"
    message = "internal error in {rule} on {path}: {error}"
    help = "Please report it with the file (or a reduced version); suppress the rule for this file meanwhile."
    targets = {t: fail("unknown: the rule did not finish") for t in ("trace", "script", "export", "compile")}
    tool = True
