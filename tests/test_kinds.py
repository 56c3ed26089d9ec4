"""Value kinds and guards on patterns from real model code (each was a false positive once)."""
from __future__ import annotations

from conftest import findings

HEAD = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n\n\n"


def codes(body: str, select=("ALL",)):
    return [(line, code) for line, _, code in findings(HEAD + body, select=select)]


def test_torch_predicates_and_config_calls_are_python_values():
    body = ("class M(nn.Module):\n"
            "    def forward(self, x):\n"
            "        if torch.is_autocast_cpu_enabled() or torch.distributed.is_initialized():\n"
            "            x = x.half()\n"
            "        if torch.are_deterministic_algorithms_enabled():\n"
            "            x = x * 2\n"
            "        return x\n")
    assert codes(body) == []


def test_tuple_returning_ops_unpack_cleanly():
    body = ("class M(nn.Module):\n"
            "    def forward(self, x):\n"
            "        values, idx = x.topk(3)\n"
            "        m, i = torch.max(x, dim=1)\n"
            "        s, j = x.sort(-1)\n"
            "        v, mu = torch.var_mean(x, dim=1)\n"
            "        a, b = x.max(1)\n"
            "        return values + m + s + v + a\n")
    assert codes(body) == []
    # but unpacking the tensor itself is iterating it
    assert codes("class M(nn.Module):\n    def forward(self, x):\n        a, b = x\n        return a\n") \
        == [(8, "TL204")]


def test_parameter_shapes_are_fixed_even_through_helpers():
    body = ("import math\n\n"
            "def resample(posemb: torch.Tensor, size: int) -> torch.Tensor:\n"
            "    hw = int(math.sqrt(posemb.shape[1]))\n"
            "    if posemb.dtype == torch.float64:\n"
            "        posemb = posemb.float()\n"
            "    return posemb.reshape(1, hw, hw, -1)\n\n"
            "class M(nn.Module):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.pos = nn.Parameter(torch.zeros(1, 16, 8))\n"
            "    def forward(self, x):\n"
            "        if self.pos.shape[1] != 16:\n"
            "            x = x * 2\n"
            "        return x + resample(self.pos, 4).sum()\n")
    assert codes(body) == []


def test_guard_wrappers_and_script_if_tracing():
    body = ("def _is_tracing():\n"
            "    return torch._C._get_tracing_state()\n\n"
            "@torch.jit._script_if_tracing\n"
            "def paste(m: torch.Tensor) -> torch.Tensor:\n"
            "    return m * int(m.sum() > 0)\n\n"
            "class M(nn.Module):\n"
            "    def forward(self, x):\n"
            "        if _is_tracing():\n"
            "            return x * 2\n"
            "        return paste(x) * x.sum().item()\n")
    got = findings(HEAD + body, select=("TL2",), targets=("trace",))
    assert got == []
    assert [c for _, _, c in findings(HEAD + body, select=("TL2",), targets=("export",))] == ["TL202"]


def test_submodule_through_alias_or_argument_is_not_the_boundary():
    body = ("class Attn(nn.Module):\n"
            "    def forward(self, x, mask=None):\n"
            "        return x * 2, None\n\n"
            "class Stage(nn.Module):\n"
            "    def __init__(self, block=Attn):\n"
            "        super().__init__()\n"
            "        layer = block\n"
            "        self.attn = layer()\n"
            "    def forward(self, x):\n"
            "        return self.attn(x)[0]\n")
    assert [c for _, c in codes(body, select=("TL4",))] == ["TL401"]  # script-only: mask=None untyped
    got = findings(HEAD + body, select=("TL4",), targets=("trace",))
    assert got == []


def test_factory_passed_to_a_capture_call_is_not_itself_captured(tmp_path):
    body = ("def build():\n"
            "    return nn.Sequential(nn.Linear(3, 3))\n\n"
            "traced = torch.jit.trace(build(), (torch.ones(1, 3),))\n")
    assert codes(body) == []


def test_type_comments_are_annotations():
    body = ("class M(nn.Module):\n"
            "    def forward(self, x):\n"
            "        # type: (List[torch.Tensor]) -> torch.Tensor\n"
            "        out = []\n"
            "        for f in x:\n"
            "            out.append(f * 2)\n"
            "        return torch.cat(out)\n")
    assert codes(body) == []
    assert codes(body.replace("        # type: (List[torch.Tensor]) -> torch.Tensor\n", "")) == [(9, "TL204")]


def test_rank_through_a_variable_is_the_opt_in_rank_rule():
    body = ("class M(nn.Module):\n"
            "    def forward(self, x):\n"
            "        nd = x.dim()\n"
            "        if nd == 3:\n"
            "            x = x.unsqueeze(1)\n"
            "        for i in range(x.dim()):\n"
            "            x = x + i\n"
            "        if len(x.shape) > 2 and x.size(0) > 1:\n"
            "            x = x * 2\n"
            "        return x\n")
    assert codes(body, select=()) == [(13, "TL301")]          # only the size test, by default
    assert sorted(codes(body, select=("TL301", "TL304", "TL308"))) == [(9, "TL308"), (13, "TL301"), (13, "TL308")]
