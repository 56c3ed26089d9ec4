"""CLI conventions users know from ruff: `check`, command-vs-path, config discovery, show-*, colour, cache dir."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from test_cli import HAZARD, run


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "model.py").write_text(HAZARD)
    return tmp_path


def test_check_subcommand_is_the_bare_form(tree):
    bare, canonical = run("model.py", cwd=tree), run("check", "model.py", cwd=tree)
    assert bare.returncode == canonical.returncode == 1
    assert bare.stdout == canonical.stdout and bare.stdout.startswith("model.py:7:13: TL201")
    # options before the paths also mean `check`
    assert run("--select", "TL2", "model.py", cwd=tree).stdout == bare.stdout


@pytest.mark.parametrize("name", ["rules", "confirm"])
def test_a_folder_named_like_a_command(tree, name):
    folder = tree / name
    folder.mkdir()
    (folder / "m.py").write_text(HAZARD)
    for form in (f"{name}/", f"./{name}"):
        p = run(form, cwd=tree)
        assert p.returncode == 1 and p.stdout.startswith(f"{name}/m.py:7:13: TL201"), (form, p.stdout, p.stderr)
    assert run("check", name, cwd=tree).stdout.startswith(f"{name}/m.py:7:13: TL201")
    if name == "rules":
        listed = run("rules", cwd=tree)
        assert listed.returncode == 0 and listed.stdout.startswith("TL000")
        assert "tracelint check rules" in listed.stderr   # the note says how to lint the folder
    else:
        # `tracelint confirm` is the dynamic checker, which needs a TARGET: a usage error, not a lint
        p = run("confirm", cwd=tree)
        assert p.returncode == 2 and "TL201" not in p.stdout


def test_no_note_without_such_folder(tree):
    assert "note:" not in run("rules", cwd=tree).stderr


def test_output_format_is_an_alias_of_format(tree):
    a = run("--output-format", "json", "model.py", cwd=tree)
    b = run("--format", "json", "model.py", cwd=tree)
    assert a.returncode == b.returncode == 1
    assert json.loads(a.stdout)["findings"] == json.loads(b.stdout)["findings"]


def test_no_python_files_is_a_warning_and_exit_0(tmp_path):
    (tmp_path / "README.md").write_text("nothing here\n")
    p = run(".", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == ""
    assert "warning: no Python files found" in p.stderr


def test_color_modes(tree):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}

    def out(*args):
        return subprocess.run([sys.executable, "-m", "tracelint", *args, "model.py"], cwd=tree,
                              capture_output=True, text=True, env=env).stdout

    assert "\x1b[" in out("--color", "always")
    assert "\x1b[" not in out("--color", "never")
    assert "\x1b[" not in out("--color", "auto")   # a pipe is not a terminal
    env["FORCE_COLOR"] = "1"
    assert "\x1b[" not in out("--color", "never")  # an explicit choice beats the environment
    assert run("--color", "sometimes", "model.py", cwd=tree).returncode == 2


def test_cache_dir(tree, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("TRACELINT_NO_CACHE", None)
    p = subprocess.run([sys.executable, "-m", "tracelint", "--cache-dir", str(cache), "model.py"], cwd=tree,
                       capture_output=True, text=True, env=env)
    assert p.returncode == 1
    assert any(f.is_file() for f in cache.rglob("*")), "the cache was written where asked"
    again = subprocess.run([sys.executable, "-m", "tracelint", "--cache-dir", str(cache), "model.py"], cwd=tree,
                           capture_output=True, text=True, env=env)
    assert again.stdout == p.stdout
    assert not any(p.name != "model.py" for p in tree.iterdir()), "nothing written into the linted tree"


def test_show_files(tree):
    (tree / "sub").mkdir()
    (tree / "sub" / "b.py").write_text("x = 1\n")
    (tree / ".venv").mkdir()
    (tree / ".venv" / "c.py").write_text("x = 1\n")
    p = run("--show-files", ".", cwd=tree)
    assert p.returncode == 0 and p.stdout.splitlines() == ["model.py", "sub/b.py"]


def test_show_settings_names_the_config_file_and_merges_flags(tree):
    (tree / "tracelint.toml").write_text('target = ["export"]\nignore = ["TL203"]\n')
    p = run("--show-settings", "--extend-select", "TL002", ".", cwd=tree)
    assert p.returncode == 0 and p.stdout == run("--show-settings", "--extend-select", "TL002", ".", cwd=tree).stdout
    lines = dict(line.split(" = ", 1) for line in p.stdout.splitlines() if " = " in line)
    assert lines["target"] == '["export"]' and lines["ignore"] == '["TL203"]'
    assert lines["extend-select"] == '["TL002"]'
    assert "tracelint.toml" in p.stdout.splitlines()[0]
    assert "TL002" in lines["rules"] and "TL203" not in lines["rules"]


@pytest.mark.parametrize("where", [
    'select = ["TL9999"]\n',
    'ignore = ["no-such-rule"]\n',
    'extend-select = ["XY"]\n',
    '[per-file-ignores]\n"tests/*" = ["TL2", "TL77"]\n',
])
def test_unknown_selectors_anywhere_are_errors(tree, where):
    (tree / "tracelint.toml").write_text(where)
    p = run("model.py", cwd=tree)
    assert p.returncode == 2 and "unknown rule selector" in p.stderr, p.stderr


def test_unknown_selector_on_the_command_line(tree):
    p = run("--ignore", "TL77", "model.py", cwd=tree)
    assert p.returncode == 2 and "TL77" in p.stderr


def test_per_file_ignores_take_rule_names(tree):
    (tree / "tracelint.toml").write_text('[per-file-ignores]\n"model.py" = ["tensor-to-python"]\n')
    assert run("model.py", cwd=tree).returncode == 0


def test_config_file_precedence(tree):
    """Within a folder .tracelint.toml > tracelint.toml > pyproject.toml; the closest folder wins."""
    (tree / "pyproject.toml").write_text('[tool.tracelint]\nignore = ["TL201"]\n')
    assert run("model.py", cwd=tree).returncode == 0
    (tree / "tracelint.toml").write_text("")          # an empty tracelint.toml still wins: defaults
    assert run("model.py", cwd=tree).returncode == 1
    (tree / ".tracelint.toml").write_text('ignore = ["TL2"]\n')
    assert run("model.py", cwd=tree).returncode == 0
    sub = tree / "pkg"
    sub.mkdir()
    (sub / "model.py").write_text(HAZARD)
    (sub / "pyproject.toml").write_text('[project]\nname = "x"\n')   # no [tool.tracelint]: skipped
    assert run("pkg", cwd=tree).returncode == 0
    (sub / "tracelint.toml").write_text('target = ["trace"]\n')       # closer than the parent's
    assert run("pkg", cwd=tree).returncode == 1
