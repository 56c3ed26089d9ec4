"""`python -m tracelint.dynamic TARGET...` is `tracelint confirm TARGET...`."""
from tracelint.dynamic.cli import confirm_command

confirm_command(prog_name="tracelint confirm")
