"""`tracelint server`: a Language Server over stdio (needs the `lsp` extra: pygls; never torch).

Diagnostics are published on open, change and save, from the editor's unsaved buffer, linted in
the context of its whole project (the buffer stands in for the file on disk, so bases, helpers and
submodules in other files count exactly as in `tracelint PATH`). Each diagnostic has its severity,
code, a link to the rule's page (`codeDescription`), and the outcome per capture target on hover.
Code actions add a suppression comment on the line, or for the whole file.
"""
from __future__ import annotations

import asyncio
import io
import re
import sys
import tokenize
from dataclasses import dataclass, field

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition

from tracelint import __version__, suppress
from tracelint.diagnostics import Diagnostic, Severity, rule_doc_url

SOURCE = "tracelint"


@dataclass
class Published:
    """What was last published for a document: the findings behind the LSP diagnostics."""

    version: int | None
    findings: list[Diagnostic] = field(default_factory=list)


class TracelintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("tracelint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        from tracelint.project import Workspace
        self.projects = Workspace()
        self.published: dict[str, Published] = {}

    def lint_document(self, uri: str) -> None:
        """Lint the buffer in its project and publish; stale versions are skipped by the callers."""
        doc = self.workspace.get_text_document(uri)
        path = to_fs_path(uri)
        if path is None or not path.endswith((".py", ".pyi")):
            return
        try:
            report = self.projects.lint_buffer(path, doc.source)
        except Exception as e:  # noqa: BLE001 - a broken config or tool error must not kill the server
            self.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Error, f"tracelint: {e}"))
            return
        for err in report.errors:
            self.window_log_message(lsp.LogMessageParams(lsp.MessageType.Warning, f"tracelint: {err}"))
        self.published[uri] = Published(doc.version, list(report.diagnostics))
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, version=doc.version, diagnostics=[to_lsp(d, doc) for d in report.diagnostics]))


def to_lsp(d: Diagnostic, doc: TextDocument) -> lsp.Diagnostic:
    """One finding as an LSP diagnostic: 0-based range in the client's units, severity, code, link."""
    return lsp.Diagnostic(
        range=_range(d, doc), message=d.message, source=SOURCE, code=d.code,
        code_description=lsp.CodeDescription(href=rule_doc_url(d.code, d.name)),
        severity=lsp.DiagnosticSeverity.Warning if d.severity == Severity.WARNING else lsp.DiagnosticSeverity.Error,
        data={"name": d.name})


def _range(d: Diagnostic, doc: TextDocument) -> lsp.Range:
    lines = doc.lines
    start = ServerTextPosition(max(d.line - 1, 0), max(d.column - 1, 0))
    end = ServerTextPosition(max(d.end_line - 1, 0), max(d.end_column - 1, 0))
    if (end.line, end.character) <= (start.line, start.character):
        end = ServerTextPosition(start.line, start.character + 1)
    codec = doc.position_codec
    return lsp.Range(codec.position_to_client_units(lines, start), codec.position_to_client_units(lines, end))


def hover_text(findings: list[Diagnostic]) -> str:
    """Markdown: each finding at the position with its outcome per capture target and the fix."""
    parts = []
    for d in findings:
        rows = "\n".join(f"| {t} | {e.outcome} | {e.text} |" for t, e in d.effects)
        block = [f"**{d.code}** [`{d.name}`]({rule_doc_url(d.code, d.name)}): {d.message}"]
        if rows:
            block.append("| target | outcome | what happens |\n|---|---|---|\n" + rows)
        if d.help and d.help not in d.message:
            block.append(f"Instead: {d.help}")
        parts.append("\n\n".join(block))
    return "\n\n---\n\n".join(parts)


def _contains(d: Diagnostic, line: int, col: int) -> bool:
    """(line, col) 1-based code points inside the finding's span (its first line counts wholly)."""
    if line == d.line and d.line == d.end_line:
        return d.column <= col <= max(d.end_column, d.column + 1)
    return (line, col) >= (d.line, d.column) and (line, col) <= (d.end_line, d.end_column)


def _statement_line_end(text: str, line: int) -> int:
    """The line whose end can take a comment for a finding on `line` (1-based): past any string that
    is still open at the end of `line`."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.start[0] > line:
                break
            if tok.start[0] <= line < tok.end[0] and tok.type not in (tokenize.NL, tokenize.NEWLINE):
                line = tok.end[0]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return line


def line_suppression_edit(text: str, d: Diagnostic) -> lsp.TextEdit:
    """`# tracelint: ignore[CODE]` at the end of the finding's line (or added to one already there)."""
    lines = text.splitlines()
    ln = _statement_line_end(text, d.line)
    line = lines[ln - 1] if 0 < ln <= len(lines) else ""
    existing = suppress.parse(text).get(ln)
    if existing is not None and existing.ours and existing.codes:
        m = re.search(r"(#\s*tracelint\s*:\s*ignore\[[^\]]*)\]", line[existing.column - 1:], re.I)
        if m:
            at = existing.column - 1 + m.end(1)
            pos = lsp.Position(ln - 1, _utf16(line, at))
            return lsp.TextEdit(lsp.Range(pos, pos), f", {d.code}")
    end = lsp.Position(ln - 1, _utf16(line, len(line.rstrip())))
    return lsp.TextEdit(lsp.Range(end, lsp.Position(ln - 1, _utf16(line, len(line)))),
                        f"  # tracelint: ignore[{d.code}]")


def file_suppression_edit(text: str, d: Diagnostic) -> lsp.TextEdit:
    """`# tracelint: ignore-file[CODE]` near the top (after a shebang or encoding line), or the code
    added to such a comment already in the file."""
    lines = text.splitlines()
    for s in suppress.file_level(text):
        line = lines[s.line - 1]
        m = re.search(r"(#\s*tracelint\s*:\s*ignore-file\[[^\]]*)\]", line[s.column - 1:], re.I)
        if m:
            pos = lsp.Position(s.line - 1, _utf16(line, s.column - 1 + m.end(1)))
            return lsp.TextEdit(lsp.Range(pos, pos), f", {d.code}")
    at = 0
    while at < min(2, len(lines)) and (lines[at].startswith("#!") or re.match(r"^[ \t\f]*#.*coding[:=]", lines[at])):
        at += 1
    pos = lsp.Position(at, 0)
    return lsp.TextEdit(lsp.Range(pos, pos), f"# tracelint: ignore-file[{d.code}]\n")


def _utf16(line: str, index: int) -> int:
    """A code-point column in client (UTF-16) units."""
    return len(line[:index].encode("utf-16-le")) // 2


def code_actions(uri: str, doc: TextDocument, findings: list[Diagnostic], rng: lsp.Range) -> list[lsp.CodeAction]:
    """Quick fixes for the findings that touch `rng`: suppress on the line, suppress in the file."""
    text = doc.source
    out: list[lsp.CodeAction] = []
    seen_codes: set[str] = set()
    for d in findings:
        lr = _range(d, doc)
        if (lr.end.line, lr.end.character) < (rng.start.line, rng.start.character) or \
                (lr.start.line, lr.start.character) > (rng.end.line, rng.end.character):
            continue
        diag = to_lsp(d, doc)
        out.append(lsp.CodeAction(
            title=f"Suppress {d.code} on this line", kind=lsp.CodeActionKind.QuickFix, diagnostics=[diag],
            edit=lsp.WorkspaceEdit(changes={uri: [line_suppression_edit(text, d)]})))
        if d.code not in seen_codes:
            seen_codes.add(d.code)
            out.append(lsp.CodeAction(
                title=f"Suppress {d.code} in this file", kind=lsp.CodeActionKind.QuickFix, diagnostics=[diag],
                edit=lsp.WorkspaceEdit(changes={uri: [file_suppression_edit(text, d)]})))
    return out


def create_server() -> TracelintServer:
    server = TracelintServer()

    async def relint(ls: TracelintServer, uri: str, version: int | None) -> None:
        await asyncio.sleep(0)  # let queued edits land first: lint only the newest version
        try:
            doc = ls.workspace.get_text_document(uri)
        except KeyError:
            return
        if version is not None and doc.version is not None and doc.version != version:
            return
        ls.lint_document(uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: TracelintServer, params: lsp.DidOpenTextDocumentParams) -> None:
        await relint(ls, params.text_document.uri, params.text_document.version)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: TracelintServer, params: lsp.DidChangeTextDocumentParams) -> None:
        await relint(ls, params.text_document.uri, params.text_document.version)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: TracelintServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.projects.saved(to_fs_path(params.text_document.uri))
        await relint(ls, params.text_document.uri, None)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TracelintServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.published.pop(uri, None)
        ls.projects.closed(to_fs_path(uri))
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: TracelintServer, params: lsp.HoverParams) -> lsp.Hover | None:
        pub = ls.published.get(params.text_document.uri)
        if pub is None:
            return None
        doc = ls.workspace.get_text_document(params.text_document.uri)
        pos = doc.position_codec.position_from_client_units(doc.lines, params.position)
        here = [d for d in pub.findings if _contains(d, pos.line + 1, pos.character + 1)]
        if not here:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=hover_text(here)))

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    def code_action(ls: TracelintServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        pub = ls.published.get(uri)
        if pub is None:
            return []
        doc = ls.workspace.get_text_document(uri)
        return code_actions(uri, doc, pub.findings, params.range)

    return server


def main() -> None:
    """Serve LSP over stdin/stdout until the client says exit."""
    import warnings
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    create_server().start_io()
    sys.exit(0)
