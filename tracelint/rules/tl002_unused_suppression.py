"""TL002: a suppression comment that suppresses nothing."""
from tracelint.rule import Rule
from tracelint.targets import warn


class UnusedSuppressionRule(Rule):
    code = "TL002"
    name = "unused-suppression"
    summary = "A `# tracelint: ignore[...]` or `# noqa: TL...` comment that matched no finding."
    short_message = "unused suppression: {codes}"
    message = "unused suppression: {codes}"
    help = "Remove the comment, or the codes in it that no longer fire on this line."
    targets = {t: warn("no effect on capture") for t in ("trace", "script", "export", "compile")}
    default_enabled = False
    tool = True
