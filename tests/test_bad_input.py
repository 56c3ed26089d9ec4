"""The bad-input matrix, through the command line as a user runs it: for each case the exit code,
one clear message (no traceback), and the other files of the run still linted."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HAZARD = ("import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n"
          "        return x * x.sum().item()\n")        # TL201 at line 7, column 20
POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX special files")


def cli(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "TRACELINT_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-m", "tracelint", *args], cwd=cwd, input=stdin,
                          capture_output=True, env=env, timeout=300)


def found(p: subprocess.CompletedProcess) -> set[tuple[str, str, int]]:
    return {(f["path"], f["code"], f["line"]) for f in json.loads(p.stdout)["findings"]}


def messages(p: subprocess.CompletedProcess) -> list[str]:
    return [ln for ln in p.stderr.decode().splitlines() if ln.startswith("tracelint:")]


def deep(kind: str, n: int) -> bytes:
    return {"sum": "x = " + " + ".join(["1"] * n), "attribute": "x = a" + ".b" * n,
            "not": "x = " + "not " * n + "1", "lambda": "x = " + "lambda: " * n + "1"}[kind].encode() + b"\n"


def _fifo(p: Path) -> None:
    os.mkfifo(p)


def _dev_zero(p: Path) -> None:
    p.symlink_to("/dev/zero")


def _loop(p: Path) -> None:
    p.symlink_to(p.name)


def _dangling(p: Path) -> None:
    p.symlink_to("nowhere.py")


# name -> (make the bad file, the bad file's expected (code, line) findings, a word of the warning or None)
IN_FOLDER = {
    "deep_sum_500": (lambda p: p.write_bytes(deep("sum", 500)), set(), None),
    "deep_attribute_490": (lambda p: p.write_bytes(deep("attribute", 490)), set(), None),
    "deep_not_490": (lambda p: p.write_bytes(deep("not", 490)), set(), None),
    "deep_lambda_490": (lambda p: p.write_bytes(deep("lambda", 490)), set(), None),
    "deep_sum_5000": (lambda p: p.write_bytes(deep("sum", 5000)), {("TL003", 1)}, None),
    "latin1_comment": (lambda p: p.write_bytes(b"# caf\xe9\n" + HAZARD.encode()), {("TL201", 8)}, None),
    "latin1_string": (lambda p: p.write_bytes(b"S = 'caf\xe9'\n" + HAZARD.encode()), {("TL000", 1)}, None),
    "bom": (lambda p: p.write_bytes(b"\xef\xbb\xbf" + HAZARD.encode()), {("TL201", 7)}, None),
    "nul_byte": (lambda p: p.write_bytes(HAZARD.encode() + b"x = 1\x00\n"), {("TL000", 1)}, None),
    "cr_only": (lambda p: p.write_bytes(HAZARD.encode().replace(b"\n", b"\r")), {("TL201", 7)}, None),
    "crlf": (lambda p: p.write_bytes(HAZARD.encode().replace(b"\n", b"\r\n")), {("TL201", 7)}, None),
    "tabs": (lambda p: p.write_text(HAZARD.replace("        ", "\t\t").replace("    def", "\tdef")),
             {("TL201", 7)}, None),
    "form_feed_indent": (lambda p: p.write_text(HAZARD.replace("        return", "  \f        return")),
                         {("TL201", 7)}, None),
    "lone_backslash": (lambda p: p.write_text(HAZARD.replace("        return", "\\\n        return")),
                       {("TL201", 8)}, None),
    "syntax_error": (lambda p: p.write_text(HAZARD + "def broken(:\n"), {("TL000", 8)}, None),
    # parsed fine, rejected by compile()'s later passes (symbol table, compiler): TL000 all the same
    "star_import_in_function": (lambda p: p.write_text(HAZARD + "def f():\n    from os import *\n"),
                                {("TL000", 9)}, None),
    "return_outside_function": (lambda p: p.write_text(HAZARD + "return 1\n"), {("TL000", 8)}, None),
    "nonlocal_at_module_level": (lambda p: p.write_text(HAZARD + "nonlocal x\n"), {("TL000", 8)}, None),
    "empty": (lambda p: p.write_bytes(b""), set(), None),
    "fifo": (_fifo, set(), "FIFO"),
    "dev_zero": (_dev_zero, set(), "character device"),
    "symlink_loop": (_loop, set(), "symlink loop"),
    "dangling_symlink": (_dangling, set(), "dangling symlink"),
}


@POSIX
@pytest.mark.parametrize("case", sorted(IN_FOLDER))
def test_bad_file_in_a_folder(tmp_path, case):
    make, expected, warning = IN_FOLDER[case]
    (tmp_path / "model.py").write_text(HAZARD)
    make(tmp_path / "bad.py")
    p = cli(".", "--format", "json", cwd=tmp_path)
    assert b"Traceback" not in p.stderr
    assert p.returncode == 1                                  # the model's hazard, nothing worse
    assert ("model.py", "TL201", 7) in found(p)
    assert {(c, ln) for f, c, ln in found(p) if f == "bad.py"} == expected
    if warning:
        (msg,) = messages(p)
        assert "bad.py" in msg and warning in msg and "warning" in msg
    else:
        assert messages(p) == []


@POSIX
def test_socket_in_a_folder_is_skipped(tmp_path):
    (tmp_path / "model.py").write_text(HAZARD)
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(tmp_path / "sock.py"))
        p = cli(".", "--format", "json", cwd=tmp_path)
    assert p.returncode == 1 and ("model.py", "TL201", 7) in found(p)
    (msg,) = messages(p)
    assert "sock.py" in msg and "socket" in msg


def test_names_with_spaces_and_non_ascii(tmp_path):
    (tmp_path / "my mödel.py").write_text(HAZARD)
    p = cli(".", "--format", "json", cwd=tmp_path)
    assert p.returncode == 1 and found(p) >= {("my mödel.py", "TL201", 7)}


@POSIX
@pytest.mark.parametrize("make, word", [(_fifo, "FIFO"), (_dev_zero, "character device"),
                                        (_loop, "symlink loop"), (_dangling, "dangling symlink")])
def test_special_path_on_the_command_line_is_an_error(tmp_path, make, word):
    (tmp_path / "model.py").write_text(HAZARD)
    make(tmp_path / "bad.py")
    p = cli("bad.py", "model.py", "--format", "json", cwd=tmp_path)
    assert p.returncode == 2 and b"Traceback" not in p.stderr
    assert ("model.py", "TL201", 7) in found(p)
    (msg,) = messages(p)
    assert "bad.py" in msg and word in msg


@POSIX
def test_symlink_loop_as_the_first_path(tmp_path):
    _loop(tmp_path / "loop.py")
    p = cli("loop.py", cwd=tmp_path)
    assert p.returncode == 2 and b"Traceback" not in p.stderr
    assert ["symlink loop" in m for m in messages(p)] == [True]


def test_output_file_in_a_missing_folder(tmp_path):
    (tmp_path / "model.py").write_text(HAZARD)
    p = cli("model.py", "-o", "missing/dir/out.json", cwd=tmp_path)
    assert p.returncode == 2 and b"Traceback" not in p.stderr
    (msg,) = messages(p)
    assert "missing/dir" in msg


@pytest.mark.parametrize("name, text", [("pyproject.toml", "[tool.tracelint]\nselect = [\n"),
                                        ("tracelint.toml", "x = 1\nselect = [,]\n")])
def test_invalid_config_found_by_discovery_names_file_and_line(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(HAZARD)
    p = cli("pkg", cwd=tmp_path)
    assert p.returncode == 2 and b"Traceback" not in p.stderr
    (msg,) = messages(p)
    assert name in msg and "line 2" in msg


def test_max_file_size_skips_with_a_clear_finding(tmp_path):
    (tmp_path / "model.py").write_text(HAZARD)
    (tmp_path / "big.py").write_text("x = 1\n" * 1000)
    (tmp_path / "tracelint.toml").write_text('max-file-size = "2KB"\n')
    p = cli(".", "--format", "json", cwd=tmp_path)
    assert p.returncode == 1
    assert found(p) >= {("model.py", "TL201", 7), ("big.py", "TL003", 1)}
    big = next(f for f in json.loads(p.stdout)["findings"] if f["path"] == "big.py")
    assert "max-file-size" in big["message"]
    p = cli(".", "--format", "json", "--max-file-size", "0", cwd=tmp_path)   # 0: no limit
    assert "big.py" not in {f for f, _, _ in found(p)}


def test_bad_max_file_size_is_a_config_error(tmp_path):
    (tmp_path / "tracelint.toml").write_text('max-file-size = "big"\n')
    (tmp_path / "model.py").write_text(HAZARD)
    p = cli(".", cwd=tmp_path)
    assert p.returncode == 2 and "max-file-size" in messages(p)[0]


@pytest.mark.parametrize("data, code", [(b"# caf\xe9\n" + HAZARD.encode(), 1), (b"# caf\xe9\nx = 1\n", 0),
                                        (deep("sum", 500) + HAZARD.encode(), 1), (b"x = (\n", 1)])
def test_stdin(tmp_path, data, code):
    p = cli("-", "--format", "json", cwd=tmp_path, stdin=data)
    assert p.returncode == code and b"Traceback" not in p.stderr
    codes = {c for _, c, _ in found(p)}
    assert codes == ({"TL000"} if data == b"x = (\n" else {"TL201"} if code else set())


@POSIX
def test_ctrl_c_exits_130_without_traceback(tmp_path):
    """A run stopped while it waits (here on stdin): one line, exit 130, as a shell reports Ctrl-C."""
    p = subprocess.Popen([sys.executable, "-m", "tracelint", "-"], cwd=tmp_path, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(2)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130 and b"Traceback" not in err and b"interrupted" in err


def test_acceptance_folder(tmp_path):
    """A 500-term sum, a FIFO, a Latin-1 comment and a model with a hazard: the hazard, exit 1."""
    (tmp_path / "table.py").write_bytes(deep("sum", 500))
    (tmp_path / "latin.py").write_bytes(b"# caf\xe9\nx = 1\n")
    (tmp_path / "model.py").write_text(HAZARD)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.py")
    p = cli(".", "--format", "json", cwd=tmp_path)
    assert p.returncode == 1 and b"Traceback" not in p.stderr
    assert ("model.py", "TL201", 7) in found(p) and {f for f, _, _ in found(p)} == {"model.py"}
