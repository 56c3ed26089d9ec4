"""Suppression comments, as users of flake8 and ruff expect them."""
from __future__ import annotations

from conftest import findings

BASE = """
import torch
from torch import nn


class Net(nn.Module):
    def forward(self, x):
        {line}
        return x
"""


def lint_line(line: str, select=()):
    return findings(BASE.format(line=line), select=select)


def test_unsuppressed_finding():
    assert lint_line("s = x.sum().item()") == [(7, 13, "TL201")]


def test_tracelint_ignore_with_code_and_name():
    assert lint_line("s = x.sum().item()  # tracelint: ignore[TL201]") == []
    assert lint_line("s = x.sum().item()  # tracelint: ignore[tensor-to-python]") == []
    assert lint_line("s = x.sum().item()  # tracelint: ignore[TL999]") == [(7, 13, "TL201")]


def test_bare_ignore_and_noqa():
    assert lint_line("s = x.sum().item()  # tracelint: ignore") == []
    assert lint_line("s = x.sum().item()  # noqa: TL201") == []
    assert lint_line("s = x.sum().item()  # noqa: E501, TL201") == []
    assert lint_line("s = x.sum().item()  # noqa") == []
    assert lint_line("s = x.sum().item()  # noqa: E501") == [(7, 13, "TL201")]


def test_comment_inside_string_is_not_a_suppression():
    assert lint_line("s = (x.sum().item(), '# noqa: TL201')") == [(7, 14, "TL201")]


def test_any_line_of_a_multiline_statement():
    code = BASE.format(line="s = (\n            x.sum().item()\n        )  # noqa: TL201")
    assert findings(code) == []
    code = BASE.format(line="s = (  # tracelint: ignore[TL201]\n            x.sum().item()\n        )")
    assert findings(code) == []


def test_skip_file():
    assert findings("# tracelint: skip-file\n" + BASE.format(line="s = x.sum().item()")) == []


def test_unused_suppression_reported_only_when_selected():
    line = "s = x.sum()  # tracelint: ignore[TL201]"
    assert lint_line(line) == []
    assert lint_line(line, select=("TL201", "TL002")) == [(7, 22, "TL002")]
    used = "s = x.sum().item()  # noqa: TL201"
    assert lint_line(used, select=("TL201", "TL002")) == []


def test_ignore_file_with_codes():
    code = "# tracelint: ignore-file[TL201]\n" + BASE.format(line="s = x.sum().item()")
    assert findings(code) == []
    code = "# tracelint: ignore-file[tensor-to-python, TL999]\n" + BASE.format(line="s = x.sum().item()")
    assert findings(code) == []
    code = "# tracelint: ignore-file[TL3]\n" + BASE.format(line="s = x.sum().item()")
    assert findings(code) == [(9, 13, "TL201")]


def test_ignore_file_is_not_a_line_ignore_and_unused_is_reported():
    code = BASE.format(line="s = x.sum().item()  # tracelint: ignore-file[TL3]")
    assert (7, 13, "TL201") in findings(code, select=("ALL",))
    code = "# tracelint: ignore-file[TL301]\n" + BASE.format(line="s = x.sum().item()")
    assert findings(code, select=("ALL",)) == [(1, 1, "TL002"), (9, 13, "TL201")]
