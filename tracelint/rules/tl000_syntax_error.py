"""TL000: the file does not parse."""
from tracelint.rule import Rule
from tracelint.targets import fail


class SyntaxErrorRule(Rule):
    code = "TL000"
    name = "syntax-error"
    summary = "The file does not parse, so nothing in it was checked."
    short_message = "syntax error: {detail}"
    message = "syntax error: {detail}"
    help = "Fix the syntax error; tracelint checks the other files meanwhile."
    targets = {t: fail("cannot be imported, so cannot be captured") for t in ("trace", "script", "export", "compile")}
    tool = True
