"""Adopting tracelint on an existing tree: --write-baseline / --baseline, and --add-noqa."""
from __future__ import annotations

import json
import textwrap

from test_cli import HAZARD, run

LEGACY = textwrap.dedent('''\
    import torch
    from torch import nn

    DOC = """a long
    text"""


    class Net(nn.Module):
        def forward(self, x, n: int):
            s = x.sum().item()   # kept comment
            if x.max() > 0:  # noqa: E501
                x = x + 1
            k = len(x) + len("""
            """)
            y = x.view(
                int(x.shape[0]) + x.sum().item(), -1)  # tracelint: ignore[TL201]
            return x * s + y.sum() * k * n
    ''')


def codes_at(stdout: str) -> list[tuple[str, int, str]]:
    out = []
    for line in stdout.splitlines():
        path, ln, _col, rest = line.split(":", 3)
        out.append((path, int(ln), rest.split()[0]))
    return out


def test_baseline_hides_known_findings_and_survives_line_shifts(tmp_path):
    (tmp_path / "pkg").mkdir()
    model = tmp_path / "pkg" / "model.py"
    model.write_text(HAZARD)
    (tmp_path / "pkg" / "other.py").write_text(HAZARD)
    before = run(".", cwd=tmp_path)
    assert before.returncode == 1 and len(before.stdout.splitlines()) == 2

    w = run("--write-baseline", "tracelint-baseline.json", ".", cwd=tmp_path)
    assert w.returncode == 0 and w.stdout == ""
    data = json.loads((tmp_path / "tracelint-baseline.json").read_text())
    assert len(data["findings"]) == 2 and {f["code"] for f in data["findings"]} == {"TL201"}

    p = run("--baseline", "tracelint-baseline.json", ".", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == "", p.stdout
    assert "2 more in the baseline" in p.stderr

    # lines inserted above the known finding, and a new hazard further down the same file
    text = model.read_text().replace("class Net", "import math\n\n\nclass Net")
    text = text.replace("return x * s", "n = len(x)\n        return x * s * n")
    model.write_text(text)
    p = run("--baseline", "tracelint-baseline.json", ".", cwd=tmp_path)
    assert p.returncode == 1
    assert codes_at(p.stdout) == [("pkg/model.py", 11, "TL203")]

    # the same baseline from another working folder: paths are relative to the baseline file
    p = run("--baseline", "../tracelint-baseline.json", ".", cwd=tmp_path / "pkg")
    assert codes_at(p.stdout) == [("model.py", 11, "TL203")]

    # a second copy of a known line is new: the occurrence count tells them apart
    model.write_text(text.replace("s = x.sum().item()", "s = x.sum().item()\n        s = x.sum().item()"))
    p = run("--baseline", "tracelint-baseline.json", ".", cwd=tmp_path)
    assert [c for _, _, c in codes_at(p.stdout)] == ["TL201", "TL203"]


def test_bad_baseline_is_an_error(tmp_path):
    (tmp_path / "m.py").write_text(HAZARD)
    assert run("--baseline", "missing.json", "m.py", cwd=tmp_path).returncode == 2
    (tmp_path / "b.json").write_text("[1, 2]")
    p = run("--baseline", "b.json", "m.py", cwd=tmp_path)
    assert p.returncode == 2 and "not a tracelint baseline" in p.stderr


def test_add_noqa_suppresses_every_finding_keeps_comments_and_is_idempotent(tmp_path):
    model = tmp_path / "legacy.py"
    model.write_text(LEGACY)
    before = run("--select", "ALL", "--target", "all", "legacy.py", cwd=tmp_path)
    found = codes_at(before.stdout)
    assert {"TL201", "TL101", "TL203", "TL401"} <= {c for _, _, c in found}, before.stdout

    p = run("--add-noqa", "--select", "ALL", "--target", "all", "legacy.py", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == ""
    once = model.read_text()
    after = run("--select", "ALL", "--target", "all", "legacy.py", cwd=tmp_path)
    assert after.returncode == 0 and after.stdout == "", after.stdout   # incl. no TL002 (unused)

    lines = once.splitlines()
    assert "s = x.sum().item()   # kept comment  # tracelint: ignore[TL201]" in lines[9]
    assert lines[10].endswith("# noqa: E501  # tracelint: ignore[TL101]")      # another tool's noqa kept
    assert lines[13].strip().startswith('""")') and "ignore[TL203]" in lines[13]  # not inside the string
    assert lines[15].endswith("# tracelint: ignore[TL201, TL303]")   # an existing directive extended
    # code untouched: only comments were added
    strip = [ln.split("#")[0].rstrip() for ln in once.splitlines()]
    assert strip == [ln.split("#")[0].rstrip() for ln in LEGACY.splitlines()]

    again = run("--add-noqa", "--select", "ALL", "--target", "all", "legacy.py", cwd=tmp_path)
    assert again.returncode == 0 and model.read_text() == once


def test_add_noqa_only_when_asked(tmp_path):
    (tmp_path / "m.py").write_text(HAZARD)
    run(".", cwd=tmp_path)
    run("--format", "json", ".", cwd=tmp_path)
    assert (tmp_path / "m.py").read_text() == HAZARD
    assert run("--add-noqa", "-", cwd=tmp_path, stdin=HAZARD).returncode == 2


def test_add_noqa_keeps_encoding_and_line_endings(tmp_path):
    src = HAZARD.replace("\n", "\r\n").replace("import torch\r\n", "# -*- coding: latin-1 -*-\r\nimport torch  # caf\xe9\r\n", 1)
    (tmp_path / "m.py").write_bytes(src.encode("latin-1"))
    assert run("--add-noqa", "m.py", cwd=tmp_path).returncode == 0
    raw = (tmp_path / "m.py").read_bytes()
    assert b"caf\xe9" in raw and raw.count(b"\r\n") == src.count("\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert b"# tracelint: ignore[TL201]\r\n" in raw
    assert run("m.py", cwd=tmp_path).returncode == 0


def test_add_noqa_on_identical_lines_of_one_statement_leaves_no_unused_comment(tmp_path):
    src = textwrap.dedent('''\
        import torch
        from torch import nn


        class Net(nn.Module):
            def forward(self, x):
                pair = [
                    int(x.sum().item()),
                    int(x.sum().item()),
                ]
                return x * pair[0]
        ''')
    (tmp_path / "m.py").write_text(src)
    assert run("--add-noqa", "m.py", cwd=tmp_path).returncode == 0
    p = run("--extend-select", "TL002", "m.py", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == "", p.stdout   # each comment is used by its own line's findings


def test_a_comment_on_the_def_line_keeps_the_type_comment_below_it(tmp_path):
    """--add-noqa may put a directive on a `def` line whose PEP 484 type comment is on the next line."""
    src = textwrap.dedent('''\
        from typing import List
        import torch
        from torch import nn


        class Net(nn.Module):
            def forward(self, images):{comment}
                # type: (List[torch.Tensor]) -> torch.Tensor
                return torch.stack([img * 2 for img in images])
        ''')
    for comment in ("", "  # noqa: E501", "  # tracelint: ignore[TL401]"):
        (tmp_path / "m.py").write_text(src.format(comment=comment))
        p = run("--target", "all", "m.py", cwd=tmp_path)
        assert p.returncode == 0 and p.stdout == "", (comment, p.stdout)
