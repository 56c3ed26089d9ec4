"""`tracelint server`, driven over stdio by a real LSP client (pygls's LanguageClient)."""
from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pygls")
from lsprotocol import types as lsp  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

TIMEOUT = 120  # seconds for one answer: generous for a loaded CI machine, never a speed assertion

MODEL = textwrap.dedent("""\
    import torch
    from torch import nn


    class Net(nn.Module):
        def forward(self, x):
            s = x.sum().item()
            return x / s
    """)


def apply_edits(text: str, edits: list[lsp.TextEdit]) -> str:
    """Apply LSP text edits (ASCII text: UTF-16 units are characters)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def at(p: lsp.Position) -> int:
        return offsets[p.line] + p.character if p.line < len(lines) else len(text)

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:at(e.range.start)] + e.new_text + text[at(e.range.end):]
    return text


class Session:
    """A client talking to `python -m tracelint server`, collecting publishDiagnostics per URI."""

    def __init__(self) -> None:
        self.client = LanguageClient("tracelint-tests", "1")
        self.published: dict[str, asyncio.Queue] = {}

        @self.client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_publish(params: lsp.PublishDiagnosticsParams) -> None:
            self.queue(params.uri).put_nowait(params)

    def queue(self, uri: str) -> asyncio.Queue:
        return self.published.setdefault(uri, asyncio.Queue())

    async def diagnostics(self, uri: str, version: int | None = None) -> lsp.PublishDiagnosticsParams:
        while True:
            params = await asyncio.wait_for(self.queue(uri).get(), TIMEOUT)
            if version is None or params.version == version:
                return params

    async def start(self, root: Path) -> lsp.InitializeResult:
        env = {**os.environ, "TRACELINT_NO_CACHE": "1"}
        await self.client.start_io(sys.executable, "-m", "tracelint", "server", env=env, cwd=str(root))
        result = await asyncio.wait_for(self.client.initialize_async(lsp.InitializeParams(
            process_id=os.getpid(), root_uri=from_fs_path(str(root)),
            capabilities=lsp.ClientCapabilities())), TIMEOUT)
        self.client.initialized(lsp.InitializedParams())
        return result

    async def stop(self) -> None:
        await asyncio.wait_for(self.client.shutdown_async(None), TIMEOUT)
        self.client.exit(None)
        await asyncio.wait_for(self.client.stop(), TIMEOUT)

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))

    def replace(self, uri: str, text: str, version: int) -> None:
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [lsp.TextDocumentContentChangeWholeDocument(text=text)]))


def run(coro):
    return asyncio.run(coro)


def _summary(params: lsp.PublishDiagnosticsParams):
    return [(d.range.start.line, d.range.start.character, d.code) for d in params.diagnostics]


def test_lsp_session_open_change_actions_hover_shutdown(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    uri = from_fs_path(str(path))

    async def scenario():
        s = Session()
        init = await s.start(tmp_path)
        caps = init.capabilities
        assert caps.code_action_provider and caps.hover_provider
        assert caps.text_document_sync is not None

        # didOpen -> diagnostics from the buffer
        s.open(uri, MODEL)
        first = await s.diagnostics(uri, 1)
        assert _summary(first) == [(6, 12, "TL201")]
        d = first.diagnostics[0]
        assert d.severity == lsp.DiagnosticSeverity.Error and d.source == "tracelint"
        assert d.code_description.href.endswith("rules/TL201-tensor-to-python.md")
        assert (d.range.end.line, d.range.end.character) == (6, 26)

        # didChange (incremental): a second hazard, in the unsaved buffer only
        edit = lsp.TextDocumentContentChangePartial(
            range=lsp.Range(lsp.Position(7, 0), lsp.Position(7, 0)), text="        n = len(x)\n")
        s.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=2), [edit]))
        second = await s.diagnostics(uri, 2)
        assert _summary(second) == [(6, 12, "TL201"), (7, 12, "TL203")]
        text = apply_edits(MODEL, [lsp.TextEdit(edit.range, edit.text)])
        assert path.read_text() == MODEL  # nothing written to disk

        # hover: the outcome per capture target
        hover = await asyncio.wait_for(s.client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri), lsp.Position(6, 20))), TIMEOUT)
        assert "TL201" in hover.contents.value
        assert "| trace | fail |" in hover.contents.value and "| script | ok |" in hover.contents.value
        assert "| export |" in hover.contents.value and "| compile |" in hover.contents.value

        # codeAction: suppress on the line
        actions = await asyncio.wait_for(s.client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri), second.diagnostics[0].range,
            lsp.CodeActionContext(diagnostics=[second.diagnostics[0]]))), TIMEOUT)
        titles = [a.title for a in actions]
        assert titles == ["Suppress TL201 on this line", "Suppress TL201 in this file"]
        on_line = apply_edits(text, actions[0].edit.changes[uri])
        assert "s = x.sum().item()  # tracelint: ignore[TL201]\n" in on_line
        s.replace(uri, on_line, 3)
        assert _summary(await s.diagnostics(uri, 3)) == [(7, 12, "TL203")]

        # codeAction: suppress in the file (TL203)
        actions = await asyncio.wait_for(s.client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri), lsp.Range(lsp.Position(7, 12), lsp.Position(7, 12)),
            lsp.CodeActionContext(diagnostics=[]))), TIMEOUT)
        in_file = next(a for a in actions if a.title == "Suppress TL203 in this file")
        whole = apply_edits(on_line, in_file.edit.changes[uri])
        assert whole.startswith("# tracelint: ignore-file[TL203]\n")
        s.replace(uri, whole, 4)
        assert _summary(await s.diagnostics(uri, 4)) == []

        # adding a code to an existing line suppression extends its list
        extended = whole.replace("s = x.sum().item()  # tracelint: ignore[TL201]",
                                 "s = int(x.sum()) + x.sum().item()  # tracelint: ignore[TL201]")
        s.replace(uri, extended, 5)
        fifth = await s.diagnostics(uri, 5)
        assert [c for _, _, c in _summary(fifth)] == ["TL202"]
        actions = await asyncio.wait_for(s.client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri), fifth.diagnostics[0].range,
            lsp.CodeActionContext(diagnostics=fifth.diagnostics))), TIMEOUT)
        merged = apply_edits(extended, actions[0].edit.changes[uri])
        assert "# tracelint: ignore[TL201, TL202]" in merged
        s.replace(uri, merged, 6)
        assert _summary(await s.diagnostics(uri, 6)) == []

        # didClose clears
        s.client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
        closed = await s.diagnostics(uri)
        assert list(closed.diagnostics) == []
        await s.stop()

    run(scenario())
