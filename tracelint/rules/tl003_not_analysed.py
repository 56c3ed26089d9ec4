"""TL003: valid Python that tracelint could not analyse (too deep, too big, unreadable to LibCST)."""
from tracelint.rule import Rule
from tracelint.targets import fail


class NotAnalysedRule(Rule):
    code = "TL003"
    name = "not-analysed"
    summary = "A file tracelint skipped: nesting too deep, over max-file-size, or a form LibCST cannot parse."
    short_message = "not analysed: {reason}"
    message = "not analysed: {reason}"
    help = ("Nothing in this file was checked. Split the deeply nested expression or the huge file, raise "
            "max-file-size, or ignore TL003 for this file if that is expected.")
    targets = {t: fail("unknown: the file was not checked") for t in ("trace", "script", "export", "compile")}
    tool = True
