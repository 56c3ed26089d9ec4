"""Focused checks for the data-dependent control-flow, tensor-escape and shape families (TL1xx-TL3xx)."""
from __future__ import annotations

from conftest import findings, lint_snippet

HEAD = "import torch\nfrom torch import nn\n\n\nclass M(nn.Module):\n"


def _codes(body: str, select=("TL1", "TL2", "TL3"), targets=("trace", "script", "export", "compile")):
    return findings(HEAD + body, select=select, targets=targets)


def test_is_tracing_guard_keeps_export_and_compile_only():
    body = ("    def forward(self, x):\n"
            "        if not torch.jit.is_tracing() and x.min() < 0:\n"
            "            x = x.clamp_min(0)\n"
            "        return x\n")
    assert _codes(body) == [(7, 43, "TL101")]
    assert _codes(body, targets=("trace",)) == []
    assert _codes(body, targets=("export",)) == [(7, 43, "TL101")]


def test_bool_cast_fails_compile_but_int_cast_does_not():
    body = ("    def forward(self, x):\n"
            "        n = int(x.max())\n"
            "        b = bool(x.any())\n"
            "        return x[:n], b\n")
    assert [c for _, _, c in _codes(body, targets=("compile",))] == ["TL202"]
    assert {(l, c) for l, _, c in _codes(body, targets=("trace",))} == {(7, "TL202"), (8, "TL202")}


def test_standalone_boolean_operators_and_comprehension_if():
    body = ("    def forward(self, x, ys):\n"
            "        keep = x.any() or x.all()\n"
            "        kept = [y for y in ys if y.sum() > 0]\n"
            "        return keep, kept\n")
    got = [(l, c) for l, _, c in _codes(body)]
    assert (7, "TL101") in got          # bool(x.any()) decides `or`; the right side is returned as is
    assert len([g for g in got if g[0] == 7]) == 1


def test_shape_tests_are_not_tensor_tests_and_rank_is_not_flagged():
    body = ("    def forward(self, x):\n"
            "        if x.dim() == 3:\n"
            "            x = x.mean(1)\n"
            "        if x.size(0) > 1:\n"
            "            x = x * 2\n"
            "        return x\n")
    assert [(l, c) for l, _, c in _codes(body, select=())] == [(9, "TL301")]   # default rules
    # the rank test is the opt-in TL308's
    assert [(l, c) for l, _, c in _codes(body, select=("TL301", "TL308"))] == [(7, "TL308"), (9, "TL301")]


def test_len_of_tensor_is_baked_not_a_shape():
    body = ("    def forward(self, x):\n"
            "        for i in range(len(x)):\n"
            "            x = x + i\n"
            "        return x\n")
    assert [c for _, _, c in _codes(body)] == ["TL203"]   # not TL304 as well


def test_shape_arithmetic_and_scalar_tensor_are_clean():
    body = ("    def forward(self, x):\n"
            "        b, t, h = x.shape\n"
            "        n = torch.tensor(x.shape[0], dtype=torch.float32)\n"
            "        return x.reshape(b * t, h // 2, 2) / n / x.numel() * h ** -0.5\n")
    assert _codes(body) == []


def test_lstm_output_unpacking_is_not_tensor_iteration():
    code = HEAD + ("    def __init__(self):\n        super().__init__()\n"
                   "        self.rnn = nn.LSTM(3, 4, batch_first=True)\n\n"
                   "    def forward(self, x):\n        out, _ = self.rnn(x)\n        return out\n")
    assert [d for d in lint_snippet(code, select=("TL204",))] == []
