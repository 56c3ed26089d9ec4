"""Source text as CPython reads it, and a LibCST parse that does not reject what CPython accepts."""
from __future__ import annotations

import io
import tokenize
import os
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - LibCST loads only when a file is really linted
    import libcst as cst


def encoding_of(source: bytes) -> str:
    """The encoding `compile()` uses: a BOM, else a PEP 263 cookie, else UTF-8."""
    try:
        return tokenize.detect_encoding(io.BytesIO(source).readline)[0]
    except SyntaxError:  # a bad cookie: compile() rejects the file, and the index reports it
        return "utf-8"


def decode(source: bytes) -> str:
    """The text of a file compile() accepts. compile() skips comments without decoding them, so a
    Latin-1 byte in a comment of a UTF-8 file is valid Python: such bytes become U+FFFD."""
    encoding = encoding_of(source)
    try:
        return source.decode(encoding)
    except LookupError:
        return source.decode("utf-8", "replace")
    except UnicodeDecodeError:
        return source.decode(encoding, "replace")


class Unreadable(Exception):
    """Valid Python (CPython compiles it) that LibCST's parser rejects, even after normalising."""


@dataclass
class Parsed:
    module: "cst.Module"
    text: str                    # the original text: suppressions, source lines
    shifts: dict[int, int] = field(default_factory=dict)  # line -> columns to add to LibCST's column


def parse(source: bytes) -> Parsed:
    """Parse a file CPython compiles. Where LibCST's tokenizer disagrees with CPython's (form feeds
    in indentation, a line holding only a `\\` continuation), parse a normalised copy with the same
    lines and map columns back; raise Unreadable if even that fails."""
    import libcst as cst
    text = decode(source)
    try:
        return Parsed(_parse_text(text), text)
    except cst.ParserSyntaxError as first:
        failure = first
    normal, shifts = normalise(text)
    if normal != text:
        try:
            return Parsed(_parse_text(normal), text, shifts)
        except cst.ParserSyntaxError:
            pass
    raise Unreadable(f"LibCST's parser stops at line {failure.raw_line}, column {failure.raw_column + 1}: "
                     f"{failure.message}")


def _parse_text(text: str) -> "cst.Module":
    import libcst as cst
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError:
        raise
    except (KeyboardInterrupt, SystemExit, RecursionError, MemoryError):
        raise
    except BaseException as e:  # noqa: BLE001 - LibCST's native parser can panic (a BaseException)
        raise Unreadable(f"LibCST's parser failed: {type(e).__name__}") from None


def normalise(text: str) -> tuple[str, dict[int, int]]:
    """The same program with the same line numbers, in the form LibCST's tokenizer reads:
    - a form feed in the indentation resets CPython's column count: drop it and what precedes it;
    - a line holding only `\\` joins the next line, whose indentation CPython takes from the first
      such line with a non-zero indentation: blank it, and give the next line that indentation.
    Returns the text and, per changed line, how many columns to add to a column in the new text."""
    out: list[str] = []
    shifts: dict[int, int] = {}
    carried: str | None = None    # indentation set by preceding lone-backslash lines
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        body = line.rstrip("\r\n")
        end = line[len(body):]
        rest = body.lstrip(" \t\f")
        lead = body[: len(body) - len(rest)]
        indent = lead[lead.rindex("\f") + 1:] if "\f" in lead else lead
        if rest == "\\":
            if not carried:
                carried = indent
            out.append(end or "\n")
            continue
        if carried is not None:
            if carried and rest and not rest.startswith("#"):
                indent = carried
            carried = None
        if indent != lead:
            shifts[number] = len(lead) - len(indent)
        out.append(indent + rest + end)
    return "".join(out), shifts


# ------------------------------------------------------------------------------------ reading
class NotRegular(OSError):
    """A path that is a FIFO, a device, a socket or a folder: never read (a FIFO blocks, a device
    such as /dev/zero never ends)."""


def read_regular(path: str, max_bytes: int | None = None) -> tuple[bytes | int, os.stat_result]:
    """(the bytes of a regular file, or its size when it is over `max_bytes`; its stat). Opens without
    blocking and checks the type on the open descriptor, so a FIFO or a device swapped in after
    discovery is refused (NotRegular), never read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(0, f"{file_kind(st.st_mode)}, not a regular file: skipped")
        if max_bytes is not None and st.st_size > max_bytes:
            return st.st_size, st
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(), st
    finally:
        os.close(fd)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "a special file"


def size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
