"""PDFs that would run something when opened are refused: evidence is read, never executed.

A PDF runs code through /JavaScript (or /JS) actions and starts programs through /Launch. The names
are found in the raw bytes, with #xx escapes decoded (/J#61vaScript is /JavaScript), and inside
compressed object streams, where a raw scan would not see them. The file is read in chunks, so a
200 MB PDF costs a few megabytes of memory.
"""

import re
import zlib
from typing import IO

from portfolio.filetypes import UnsupportedFile

CHUNK = 1024 * 1024
OVERLAP = 256  # longer than any name we look for, however escaped
# Decompressed object streams hold objects, not pictures: anything bigger is not worth reading.
MAX_OBJECT_STREAM = 16 * 1024 * 1024

_ACTIVE = {b"JavaScript": "scripts", b"JS": "scripts", b"Launch": "an action that starts a program"}
# Names beginning with J or L, written plainly or escaped: the only ones that could be on the list.
_NAME = re.compile(rb"/(?:[JL]|#4[AaCc])(?:[A-Za-z]|#[0-9A-Fa-f]{2})*")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm\b")
_STREAM_START = re.compile(rb"stream\r?\n")


class ActivePdf(UnsupportedFile):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"This PDF contains {what}, which could run when it is opened. "
            "Print it to a new PDF (or export it again without them) and upload that."
        )


def check_pdf(file: IO[bytes]) -> None:
    """Raise ActivePdf if the PDF holds JavaScript or a launch action anywhere."""
    file.seek(0)
    try:
        offset, tail = 0, b""
        while chunk := file.read(CHUNK):
            window = tail + chunk
            _check_names(window)
            for match in _OBJECT_STREAM.finditer(window):
                _check_object_stream(file, offset - len(tail) + match.end())
            tail = window[-OVERLAP:]
            offset += len(chunk)
            file.seek(offset)
    finally:
        file.seek(0)


def _check_names(data: bytes) -> None:
    for match in _NAME.finditer(data):
        name = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group()[1:])
        if name in _ACTIVE:
            raise ActivePdf(_ACTIVE[name])


def _check_object_stream(file: IO[bytes], after: int) -> None:
    """Decompress the stream whose dictionary ends after `after` and look for the names in it."""
    file.seek(after)
    head = file.read(4096)
    start = _STREAM_START.search(head)
    if start is None:
        return
    file.seek(after + start.end())
    inflater = zlib.decompressobj()
    produced, tail = 0, b""
    try:
        while not inflater.eof and produced < MAX_OBJECT_STREAM:
            pending = inflater.unconsumed_tail or file.read(64 * 1024)
            if not pending:
                break
            data = inflater.decompress(pending, CHUNK)  # at most a chunk out, however well it compresses
            produced += len(data)
            _check_names(tail + data)
            tail = data[-OVERLAP:]
    except zlib.error:
        return  # not Flate-compressed, or damaged: viewers cannot read what is inside either
