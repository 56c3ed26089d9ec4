"""Inputs for the robustness harness and its seeded slice in the test suite: hypothesmith programs
wrapped so that the rules run on them, deep nesting, encodings and parser disagreements.

hypothesmith's programs are short (tens of characters) and never reach tracelint's limits, hence the
generators of our own. Every case is bytes; whether it is valid Python is decided by `compile()`.
"""
from __future__ import annotations

import textwrap
from typing import Iterator

HEAD = "import torch\nfrom torch import nn\n\n\n"
WRAPS = ("module", "forward", "helper", "scripted")


def wrap(body: str, how: str) -> str:
    """`body` as a whole module, as the body of an nn.Module's forward, of a helper forward calls, or
    of a torch.jit.script function: the places where the rules look."""
    if how == "module":
        return body
    inner = textwrap.indent(body if body.endswith("\n") else body + "\n", "        " if how == "forward" else "    ",
                            lambda line: True)
    if how == "forward":
        return f"{HEAD}class M(nn.Module):\n    def forward(self, x):\n{inner}        pass\n"
    if how == "helper":
        return (f"{HEAD}def helper(x):\n{inner}    pass\n\n\nclass M(nn.Module):\n"
                "    def forward(self, x):\n        return helper(x)\n")
    if how == "scripted":
        return f"{HEAD}@torch.jit.script\ndef fn(x):\n{inner}    pass\n"
    raise ValueError(how)


def hypothesmith_programs(count: int, seed: int = 0, strategy: str = "grammar") -> list[str]:
    """`count` programs (fewer if hypothesis repeats itself) from hypothesmith's grammar strategy
    (`from_grammar`) or its LibCST node strategy (`from_node`), reproducible for a seed."""
    import hypothesmith
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    made: list[str] = []
    strat = hypothesmith.from_grammar() if strategy == "grammar" else hypothesmith.from_node()

    @with_seed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strat)
    def collect(src: str) -> None:
        made.append(src)

    collect()
    return list(dict.fromkeys(made))


# -------------------------------------------------------------------------------------- deep
CHAINS = {
    "sum": lambda n: " + ".join(["1"] * n),
    "attribute": lambda n: "a" + ".b" * n,
    "not": lambda n: "not " * n + "1",
    "lambda": lambda n: "lambda: " * n + "1",
    "call": lambda n: "f" + "()" * n,
    "subscript": lambda n: "a" + "[0]" * n,
    "paren": lambda n: "(" * n + "1" + ")" * n,
    "list": lambda n: "[" * n + "]" * n,
    "unary": lambda n: "-" * n + "1",
    "power": lambda n: "**".join(["2"] * n),
    "ternary": lambda n: "1 if x else " * n + "0",
    "compare": lambda n: " < ".join(["x"] * n),
    "boolop": lambda n: " and ".join(["x"] * n),
    "concat": lambda n: "'a' " * n,
    "fconcat": lambda n: "f'{x}' 'a' " * (n // 2),
    "dict": lambda n: "{" * n + "}" * n,
}
DEPTHS = (100, 490, 500, 1000, 2000, 2900, 5000)


def deep_cases(depths=DEPTHS, chains=None) -> Iterator[tuple[str, bytes]]:
    """Deep expressions (as a module-level assignment and inside forward), deep block nesting and a
    long inheritance chain: (name, source bytes)."""
    for kind in chains or CHAINS:
        for n in depths:
            expr = CHAINS[kind](n)
            yield f"deep_{kind}_{n}_module", f"z = {expr}\n".encode()
            yield f"deep_{kind}_{n}_forward", wrap(f"y = x.sum().item()\nz = {expr}\n", "forward").encode()
    for n in (20, 99, 100, 101, 200):   # CPython: "too many levels of indentation" at 100
        body = "".join("    " * i + "if x:\n" for i in range(n)) + "    " * n + "y = x.sum().item()\n"
        yield f"deep_blocks_{n}", wrap(body, "forward").encode()
    for n in (50, 200):
        body = "".join("    " * i + f"def f{i}(x):\n" for i in range(n)) + "    " * n + "return x\n"
        yield f"deep_functions_{n}", body.encode()
    classes = "".join(f"class C{i}(C{i - 1}):\n    pass\n" for i in range(1, 3000))
    yield "deep_inheritance_3000", (HEAD + "class C0(nn.Module):\n    def forward(self, x):\n"
                                    "        return x.sum().item()\n" + classes).encode()


# ---------------------------------------------------------------------------------- encodings
MODEL = wrap("y = x.sum().item()\n", "forward")


def encoding_cases() -> Iterator[tuple[str, bytes]]:
    """Encodings, line endings and the spots where LibCST's tokenizer and CPython's disagree."""
    model = MODEL.encode()
    yield "enc_utf8_bom", b"\xef\xbb\xbf" + model
    yield "enc_bom_and_utf8_cookie", b"\xef\xbb\xbf# -*- coding: utf-8 -*-\n" + model
    yield "enc_bom_and_latin1_cookie", b"\xef\xbb\xbf# -*- coding: latin-1 -*-\n" + model   # SyntaxError
    yield "enc_latin1_cookie", "# -*- coding: latin-1 -*-\n# café\nNAME = 'é'\n".encode("latin-1") + model
    yield "enc_cp1252_cookie", "# coding: cp1252\nNAME = '€'\n".encode("cp1252") + model
    yield "enc_unknown_cookie", b"# -*- coding: klingon -*-\n" + model
    yield "enc_latin1_in_comment_no_cookie", b"# caf\xe9\n" + model
    yield "enc_latin1_in_trailing_comment", model.replace(b"item()\n", b"item()  # \xe9t\xe9\n", 1)
    yield "enc_latin1_in_string_no_cookie", b"NAME = 'caf\xe9'\n" + model
    yield "enc_latin1_in_docstring_no_cookie", b'"""caf\xe9"""\n' + model
    yield "enc_utf16_no_cookie", MODEL.encode("utf-16")
    yield "enc_nul_byte", model + b"x = 1\x00\n"
    yield "enc_nul_in_comment", b"# a\x00b\n" + model
    yield "enc_non_ascii_names", ("µ = 1\nclass Ñet(nn.Module):\n    def forward(self, x):\n"
                                  "        return x.sum().item()\n").encode() + model
    yield "end_crlf", model.replace(b"\n", b"\r\n")
    yield "end_cr_only", model.replace(b"\n", b"\r")
    yield "end_mixed", model.replace(b"\n", b"\r\n", 3)
    yield "end_no_final_newline", model.rstrip(b"\n")
    yield "end_backslash_at_eof", model + b"x = 1 + \\"
    yield "ws_tabs", model.replace(b"        ", b"\t\t")
    yield "ws_tab_then_spaces", model.replace(b"    def", b"\tdef").replace(b"        y", b"\t    y")
    yield "ws_inconsistent_tabs", model.replace(b"        y", b"\t y")
    yield "ws_form_feed_line", model.replace(b"class M", b"\x0c\nclass M")
    yield "ws_form_feed_in_indent", model.replace(b"        y", b"    \x0c    y")
    yield "ws_form_feed_resets_indent", model.replace(b"        y", b"  \x0c        y")
    yield "ws_lone_backslash", model.replace(b"        y", b"\\\n        y")
    yield "ws_indented_lone_backslash", model.replace(b"        y", b"        \\\n        y")
    yield "ws_lone_backslash_sets_indent", model.replace(b"        y", b"        \\\n    y")
    yield "ws_only_comment", b"# nothing\n"
    yield "empty", b""
    yield "only_newlines", b"\n\n\n"
    yield "only_bom", b"\xef\xbb\xbf"
    yield "syntax_error", model + b"def broken(:\n"
    yield "syntax_error_unclosed", model + b"x = (\n"
    yield "long_line", b"x = [" + b"1, " * 200_000 + b"]\n" + model
