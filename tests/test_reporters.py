"""Every output format, on Reports built by hand (no linting), so a reporter bug cannot hide behind a rule bug."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from jsonschema.validators import validator_for

import tracelint
from tracelint.diagnostics import Diagnostic, Report, RuleInfo, Severity
from tracelint.reporters import FORMATS, render, summary
from tracelint.reporters import full as full_format
from tracelint.reporters import github as github_format
from tracelint.targets import TARGETS, fail, ok, warn

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
ANSI = "\x1b["

TL201_EFFECTS = {"trace": fail("silently wrong: baked in as a constant"), "script": ok(),
                 "export": fail("data-dependent guard"), "compile": warn("graph break")}
TL301_EFFECTS = {"trace": warn("TracerWarning"), "script": ok(), "export": ok(), "compile": ok()}

RULES = {
    "TL201": RuleInfo("TL201", "tensor-to-python", "Tensor data turned into a Python value.",
                      "Keep the value a tensor.", TL201_EFFECTS, "rules/TL201-tensor-to-python.md"),
    "TL301": RuleInfo("TL301", "some-warning", "Only a warning under trace.",
                      "Do the other thing.", TL301_EFFECTS, "rules/TL301-some-warning.md"),
}

SRC7 = "        s = x.sum().item()"


def diag(**kw) -> Diagnostic:
    """A TL201 finding at model.py:7:13-27 (the `x.sum().item()` span of SRC7) unless overridden."""
    base = dict(path="src/model.py", line=7, column=13, end_line=7, end_column=27, code="TL201",
                name="tensor-to-python", message="`.item()` turns tensor data into a Python value",
                severity=Severity.ERROR, effects=tuple(TL201_EFFECTS.items()), scope="Net.forward",
                help="Keep the value a tensor.", source_line=SRC7)
    base.update(kw)
    return Diagnostic(**base)


def warning(**kw) -> Diagnostic:
    base = dict(path="src/other.py", line=3, column=5, end_line=3, end_column=9, code="TL301",
                name="some-warning", message="only a warning", severity=Severity.WARNING,
                effects=tuple(TL301_EFFECTS.items()), source_line="    y = x\n")
    base.update(kw)
    return diag(**base)


def report(*diags: Diagnostic, **kw) -> Report:
    kw.setdefault("files_checked", 3)
    kw.setdefault("rules", dict(RULES))
    kw.setdefault("targets", ("trace", "script"))
    return Report(diagnostics=list(diags), **kw)


DYNAMIC = [{"example": "Net(x=randn(2, 3))",
            "rows": [{"variant": "same shape", "target": "trace", "result": "ok"},
                     {"variant": "other values", "target": "trace", "result": "WRONG (max err 3.1)"}]}]


# --- the registry ---------------------------------------------------------------------------------

def test_formats_registry_and_dispatch():
    assert set(FORMATS) == {"text", "full", "json", "jsonl", "sarif", "github"}
    r = report(diag())
    for fmt, fn in FORMATS.items():
        assert render(r, fmt) == fn(r)
    with pytest.raises(ValueError, match="nope"):
        render(r, "nope")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_renderers_are_pure_and_end_in_newline(fmt):
    r = report(warning(), diag(), errors=["bad.py: cannot read"], dynamic=copy.deepcopy(DYNAMIC))
    before = copy.deepcopy(r)
    out = render(r, fmt)
    assert r == before                      # the report is not mutated (no sorting in place, ...)
    assert out == render(r, fmt)            # deterministic
    assert out.endswith("\n")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_ansi_unless_asked_and_never_in_machine_formats(fmt):
    r = report(diag(), warning())
    assert ANSI not in render(r, fmt, color=False)
    coloured = render(r, fmt, color=True)
    if fmt in ("text", "full"):
        assert ANSI in coloured
    else:
        assert ANSI not in coloured


# --- text -----------------------------------------------------------------------------------------

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>TL\d{3}) (?P<msg>.+)$")


def test_text_one_line_per_finding_with_1_based_positions():
    out = render(report(diag(), warning(line=1, column=1, end_column=2)), "text")
    lines = out.splitlines()
    assert len(lines) == 2
    first, second = (LINE.match(line) for line in lines)
    assert first and second
    assert (first["path"], first["line"], first["col"], first["code"]) == ("src/model.py", "7", "13", "TL201")
    assert (second["path"], second["line"], second["col"], second["code"]) == ("src/other.py", "1", "1", "TL301")
    assert first["msg"] == diag().message + " [trace]"      # no short message given: the message
    short = LINE.match(render(report(diag(short="tensor to Python")), "text").rstrip("\n"))
    assert short["msg"] == "tensor to Python [trace]"
    # the bracket lists the selected targets that fail, then those that only warn
    assert render(report(diag(short="s"), targets=TARGETS), "text").rstrip().endswith("s [trace, export; warns: compile]")
    assert render(report(warning(short="w")), "text").rstrip().endswith(" w [warns: trace]")
    tool = diag(code="TL000", name="syntax-error", short="syntax error: x")
    assert render(report(tool), "text").rstrip().endswith("TL000 syntax error: x")


def test_text_empty_report_prints_nothing():
    assert render(report(), "text") == ""


def test_text_message_with_newline_stays_on_one_line():
    out = render(report(diag(message="first\nsecond\r\nthird")), "text")
    assert len(out.splitlines()) == 1
    assert LINE.match(out.rstrip("\n"))


def test_text_verdict_suffix_uses_first_evidence():
    confirmed = diag(verdict="confirmed", evidence=("outputs differ by 3.1", "second item"))
    unreached = diag(line=9, verdict="not-reached")
    lines = render(report(confirmed, unreached), "text").splitlines()
    assert lines[0].endswith(" [confirmed: outputs differ by 3.1]")
    assert "second item" not in lines[0]
    assert lines[1].endswith(" [not-reached]")
    plain = render(report(diag()), "text")
    assert plain.rstrip().endswith("[trace]")


def test_text_dynamic_table_only_when_present():
    assert "Dynamic" not in render(report(diag()), "text")
    out = render(report(diag(), dynamic=DYNAMIC), "text")
    lines = out.splitlines()
    assert LINE.match(lines[0])
    table = "\n".join(lines[1:])
    for value in ("Net(x=randn(2, 3))", "same shape", "other values", "WRONG (max err 3.1)", "trace"):
        assert value in table
    # Columns line up: "target" header and each row's target start at the same offset.
    header = next(line for line in lines if "variant" in line and "target" in line)
    row = next(line for line in lines if "other values" in line)
    assert header.index("target") == row.index("trace")
    # A table with no findings still prints.
    assert "same shape" in render(report(dynamic=DYNAMIC), "text")


def test_text_colour_marks_path_bold_and_code_by_severity():
    out = render(report(diag(), warning()), "text", color=True)
    err, warn_line = out.splitlines()
    assert "\x1b[1msrc/model.py:7:13:" in err
    assert "\x1b[31mTL201" in err            # red for errors
    assert "\x1b[33mTL301" in warn_line      # yellow for warnings
    # Stripped of ANSI, the coloured output is exactly the plain one.
    assert re.sub(r"\x1b\[[0-9;]*m", "", out) == render(report(diag(), warning()), "text")


def test_summary_counts_findings_severities_and_files():
    s = summary(report(diag(), diag(line=9), warning()))
    assert re.search(r"\b3 findings\b", s)
    assert re.search(r"\b2 errors?\b", s) and re.search(r"\b1 warning\b", s)
    assert re.search(r"\b2 files\b", s)      # files with findings
    assert "3" in s.split("files", 1)[1]    # files checked
    assert "\n" not in s
    empty = summary(report())
    assert "No findings" in empty and "3" in empty
    assert "tool error" in summary(report(errors=["x.py: cannot read"]))


# --- full -----------------------------------------------------------------------------------------

def _caret_under(out: str, src: str) -> tuple[str, str]:
    """The printed source line and the marker line under it, both without the gutter."""
    lines = out.splitlines()
    i = next(i for i, line in enumerate(lines) if line.endswith(src.rstrip("\n")))
    gutter = len(lines[i]) - len(src.rstrip("\n"))
    return lines[i][gutter:], lines[i + 1][gutter:]


def test_full_caret_under_exact_span():
    d = diag()
    out = render(report(d), "full")
    assert out.splitlines()[0] == render(report(d), "text").rstrip("\n")
    src, marks = _caret_under(out, SRC7)
    assert src == SRC7
    assert marks == " " * 12 + "^" + "~" * 13
    assert src[marks.index("^"):len(marks)] == "x.sum().item()"


def test_full_caret_single_character_and_zero_width():
    out = render(report(diag(column=13, end_column=14)), "full")
    assert _caret_under(out, SRC7)[1] == " " * 12 + "^"
    out = render(report(diag(column=13, end_column=13)), "full")
    assert _caret_under(out, SRC7)[1] == " " * 12 + "^"


def test_full_multiline_span_underlines_to_end_of_line():
    out = render(report(diag(column=13, end_line=9, end_column=5)), "full")
    src, marks = _caret_under(out, SRC7)
    assert marks == " " * 12 + "^" + "~" * (len(SRC7) - 13)
    assert len(marks) == len(SRC7)


def test_full_caret_keeps_tabs_and_wide_characters_aligned():
    d = diag(source_line="\tname = '数据'.item()", column=13, end_column=20)  # `.item()`
    marks = full_format.underline(d)
    # The tab stays a tab (same expansion as the line above); each wide char takes two cells.
    assert marks == "\t" + " " * len("name = '") + "    " + " " + "^" + "~" * 6


def test_full_help_and_effects_of_selected_targets_only():
    d = diag(short="tensor to Python", message="tensor to Python: trace: silently wrong — use instead: Keep the value a tensor.")
    out = render(report(d), "full")
    lines = out.splitlines()
    assert lines[0] == render(report(d), "text").rstrip("\n")     # the same first line as text
    help_lines = [line for line in lines if "= help:" in line]
    assert len(help_lines) == 1 and help_lines[0].endswith("= help: Keep the value a tensor.")
    assert out.count("Keep the value a tensor.") == 1              # each part once
    assert [line.split("= ", 1)[1] for line in lines if " = trace" in line or " = script" in line] == [
        "trace [fail]: silently wrong: baked in as a constant", "script [ok]"]
    assert "export" not in out and "compile" not in out
    everything = render(report(d, targets=("trace", "script", "export", "compile")), "full")
    assert "compile [warn]: graph break" in everything


def test_full_blank_line_between_findings_and_none_at_end():
    out = render(report(diag(), warning()), "full")
    blocks = out.rstrip("\n").split("\n\n")
    assert len(blocks) == 2
    assert LINE.match(blocks[0].splitlines()[0]) and LINE.match(blocks[1].splitlines()[0])
    assert not out.endswith("\n\n")


def test_full_without_source_line_skips_snippet():
    out = render(report(diag(source_line="")), "full")
    assert "^" not in out
    assert "= help:" in out


# --- json / jsonl ---------------------------------------------------------------------------------

def test_json_keys_types_and_round_trip():
    d1, d2 = diag(verdict="confirmed", evidence=("differs",)), warning()
    r = report(d1, d2, errors=["gone.py: cannot read: No such file"], dynamic=DYNAMIC)
    data = json.loads(render(r, "json"))
    assert list(data) == ["version", "targets", "files_checked", "findings", "errors", "dynamic"]
    assert data["version"] == tracelint.__version__
    assert data["targets"] == ["trace", "script"]
    assert data["files_checked"] == 3 and isinstance(data["files_checked"], int)
    assert data["findings"] == [d1.to_dict(), d2.to_dict()]
    assert data["findings"][0]["verdict"] == "confirmed"
    assert data["errors"] == ["gone.py: cannot read: No such file"]
    assert data["dynamic"] == DYNAMIC
    # Rebuild the diagnostics from the JSON: every positional field survives the trip.
    back = data["findings"][0]
    assert (back["line"], back["column"], back["end_line"], back["end_column"]) == (7, 13, 7, 27)
    assert back["targets"]["trace"] == {"outcome": "fail", "effect": "silently wrong: baked in as a constant"}


def test_json_empty_report_still_has_every_key():
    data = json.loads(render(report(files_checked=0), "json"))
    assert data["findings"] == [] and data["errors"] == [] and data["dynamic"] == []
    assert data["files_checked"] == 0


def test_jsonl_one_object_per_finding():
    ds = [diag(), diag(line=9, message="has\nnewline"), warning()]
    out = render(report(*ds, errors=["x"], dynamic=DYNAMIC), "jsonl")
    lines = out.splitlines()
    assert len(lines) == 3
    assert [json.loads(line) for line in lines] == [d.to_dict() for d in ds]
    assert render(report(), "jsonl") == ""


# --- sarif ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _sarif(r: Report, validator) -> dict:
    log = json.loads(render(r, "sarif"))
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return log


def test_sarif_valid_against_official_schema(sarif_validator):
    r = report(diag(verdict="confirmed", evidence=("outputs differ",)), warning(),
               diag(code="TL999", name="not-in-rules", severity=Severity.INFO, line=20),
               errors=["gone.py: cannot read"], dynamic=DYNAMIC)
    _sarif(r, sarif_validator)
    _sarif(report(), sarif_validator)
    _sarif(report(rules={}), sarif_validator)


def test_sarif_schema_rejects_a_broken_log(sarif_validator):
    # The validator really checks: a result with a bad level must fail.
    log = json.loads(render(report(diag()), "sarif"))
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert list(sarif_validator.iter_errors(log))


def test_sarif_driver_and_rules(sarif_validator):
    log = _sarif(report(diag()), sarif_validator)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "tracelint" and driver["version"] == tracelint.__version__
    assert driver["informationUri"] == "https://github.com/tracelint/tracelint"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == {"TL201", "TL301"}   # every rule in report.rules, used or not
    tl201 = rules["TL201"]
    assert tl201["name"] == "tensor-to-python"
    assert tl201["shortDescription"]["text"] == RULES["TL201"].summary
    assert tl201["fullDescription"]["text"] and tl201["help"]["text"] and tl201["help"]["markdown"]
    assert tl201["helpUri"] == "https://github.com/tracelint/tracelint/blob/main/rules/TL201-tensor-to-python.md"
    assert tl201["properties"]["targets"]["trace"] == {"outcome": "fail", "effect": "silently wrong: baked in as a constant"}
    assert "tags" in tl201["properties"]
    assert tl201["defaultConfiguration"]["level"] == "error"
    assert rules["TL301"]["defaultConfiguration"]["level"] == "warning"


def test_sarif_results_rule_region_fingerprint_and_relative_uri(sarif_validator):
    r = report(diag(verdict="not-reproduced", evidence=("same output",)), warning(),
               diag(code="TL999", name="unregistered", severity=Severity.INFO, line=20, end_line=21, end_column=3))
    run = _sarif(r, sarif_validator)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [res["ruleId"] for res in results] == ["TL201", "TL301", "TL999"]
    for res in results:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["message"]["text"]
        assert res["partialFingerprints"]["primaryLocationLineHash"]
        loc = res["locations"][0]["physicalLocation"]
        uri = loc["artifactLocation"]["uri"]
        assert not uri.startswith("/") and "://" not in uri and "\\" not in uri
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert [res["level"] for res in results] == ["error", "warning", "note"]
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 7, "startColumn": 13, "endLine": 7, "endColumn": 27}
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/model.py"
    assert results[2]["locations"][0]["physicalLocation"]["region"]["endLine"] == 21
    props = results[0]["properties"]
    assert props["verdict"] == "not-reproduced" and props["evidence"] == ["same output"]
    assert props["scope"] == "Net.forward" and props["targets"]["trace"]["outcome"] == "fail"
    assert "verdict" not in results[1]["properties"]


def test_sarif_fingerprint_stable_across_moves_distinct_for_repeats(sarif_validator):
    def fp(*ds: Diagnostic) -> list[str]:
        run = _sarif(report(*ds), sarif_validator)["runs"][0]
        return [res["partialFingerprints"]["primaryLocationLineHash"] for res in run["results"]]

    # The same hazard moved down by unrelated edits (and re-indented) keeps its fingerprint.
    moved = fp(diag(line=30, column=17, end_line=30, end_column=31, source_line="    " + SRC7))
    assert fp(diag()) == moved
    # Two identical lines in one file: different occurrence, different fingerprint.
    twice = fp(diag(), diag(line=9))
    assert len(set(twice)) == 2
    # Another file, another code or another text: another fingerprint.
    assert fp(diag(path="src/b.py"))[0] != fp(diag())[0]
    assert fp(diag(code="TL202"))[0] != fp(diag())[0]
    assert fp(diag(source_line="        t = y.sum().item()"))[0] != fp(diag())[0]


def test_sarif_uri_escaping_and_absolute_paths(sarif_validator):
    run = _sarif(report(diag(path="my dir/model.py"), diag(path="/abs/elsewhere.py", line=9)),
                 sarif_validator)["runs"][0]
    rel, absolute = (res["locations"][0]["physicalLocation"]["artifactLocation"] for res in run["results"])
    assert rel == {"uri": "my%20dir/model.py", "uriBaseId": "%SRCROOT%"}
    assert absolute == {"uri": "file:///abs/elsewhere.py"}


def test_sarif_tool_errors_become_invocation_notifications(sarif_validator):
    ok_run = _sarif(report(diag()), sarif_validator)["runs"][0]
    assert ok_run["invocations"][0]["executionSuccessful"] is True
    run = _sarif(report(diag(), errors=["gone.py: cannot read"]), sarif_validator)["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"] == [
        {"message": {"text": "gone.py: cannot read"}, "level": "error"}]


# --- github ---------------------------------------------------------------------------------------

COMMAND = re.compile(r"^::(?P<cmd>error|warning|notice) (?P<props>[^:]*)::(?P<data>.*)$")


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    m = COMMAND.match(line)
    assert m, line
    props = dict(item.split("=", 1) for item in m["props"].split(","))
    return m["cmd"], props, m["data"]


def test_github_annotation_shape():
    lines = render(report(diag(), warning()), "github").splitlines()
    assert len(lines) == 2
    cmd, props, data = _parse(lines[0])
    assert cmd == "error"
    assert props == {"file": "src/model.py", "line": "7", "col": "13", "endLine": "7",
                     "endColumn": "27", "title": "TL201"}
    assert data.startswith("`.item()` turns tensor data into a Python value")
    assert _parse(lines[1])[0] == "warning"


def test_github_escapes_data_and_properties():
    d = diag(path="odd,dir/a:b%.py", message="100% sure\r\nnext: a,b", help="", effects=())
    line = render(report(d), "github").rstrip("\n")
    assert "\n" not in line and "\r" not in line
    cmd, props, data = _parse(line)
    assert props["file"] == "odd%2Cdir/a%3Ab%25.py"
    assert data == "100%25 sure%0D%0Anext: a,b"      # ':' and ',' are left alone in data
    assert github_format.escape_property("a:b,c%d\r\n") == "a%3Ab%2Cc%25d%0D%0A"
    assert github_format.escape_data("a:b,c%d\r\n") == "a:b,c%25d%0D%0A"


def test_github_tool_errors_are_error_commands():
    out = render(report(errors=["bad: path, really\n"]), "github")
    assert out == "::error title=tracelint::bad: path, really%0A\n"
