"""Original evidence files embedded in the PDF, copied from storage only while the PDF is written.

Holding every original while the PDF is assembled would be hundreds of megabytes for a hundred
photos. Each file is a stream object whose bytes pypdf never holds: when the writer reaches it, it
copies the stored file into the output in chunks, so memory holds one chunk at a time.
"""

import shutil
from collections.abc import Callable, Iterable
from typing import IO

from django.core.files.storage import default_storage
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

from portfolio.report.tree import FileEntry

EmbedCallback = Callable[[int, int, FileEntry], None]  # (number from 1, total, file), as each is copied
CHUNK = 1024 * 1024


class _StoredFileStream(StreamObject):
    """An embedded file's stream: its bytes come from storage at the moment it is written."""

    def __init__(self, entry: FileEntry, announce: Callable[[], None]) -> None:
        super().__init__()
        self.entry = entry
        self.announce = announce

    def write_to_stream(self, stream: IO) -> None:
        self.announce()
        self[NameObject("/Length")] = NumberObject(self.entry.size)
        DictionaryObject.write_to_stream(self, stream)
        del self["/Length"]
        stream.write(b"\nstream\n")
        with default_storage.open(self.entry.storage_name, "rb") as stored:
            before = stream.tell()
            shutil.copyfileobj(stored, stream, CHUNK)
            copied = stream.tell() - before
        if copied != self.entry.size:  # /Length is already written: a changed file would corrupt the PDF
            raise ValueError(f"{self.entry.storage_name} holds {copied} bytes, not the {self.entry.size} recorded")
        stream.write(b"\nendstream")


def embed_originals(writer: PdfWriter, files: Iterable[FileEntry], on_embed: EmbedCallback | None = None) -> None:
    """Add `files` to `writer` as embedded files named "F3-original name.jpg"; `on_embed` hears of
    each as it is copied, while the PDF is being written."""
    entries = sorted(files, key=lambda f: f.attachment_name)  # a PDF name tree is sorted by key
    if not entries:
        return
    names = ArrayObject()
    for number, entry in enumerate(entries, start=1):

        def announce(number: int = number, entry: FileEntry = entry) -> None:
            if on_embed is not None:
                on_embed(number, len(entries), entry)

        names.append(TextStringObject(entry.attachment_name))
        names.append(_add(writer, _filespec(writer, entry, announce)))
    root = writer.root_object
    if "/Names" not in root:
        root[NameObject("/Names")] = DictionaryObject()
    root["/Names"].get_object()[NameObject("/EmbeddedFiles")] = _add(
        writer, DictionaryObject({NameObject("/Names"): names})
    )


def _filespec(writer: PdfWriter, entry: FileEntry, announce: Callable[[], None]) -> DictionaryObject:
    # Already-compressed formats (JPEG, PDF, Office) gain nothing from Flate: stored as they are.
    stream = _StoredFileStream(entry, announce)
    stream.update(
        {
            NameObject("/Type"): NameObject("/EmbeddedFile"),
            NameObject("/Subtype"): NameObject("/" + entry.content_type),  # pypdf escapes the inner "/"
            NameObject("/Params"): DictionaryObject({NameObject("/Size"): NumberObject(entry.size)}),
        }
    )
    reference = _add(writer, stream)
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Filespec"),
            NameObject("/F"): TextStringObject(entry.attachment_name.encode("ascii", errors="replace").decode("ascii")),
            NameObject("/UF"): TextStringObject(entry.attachment_name),
            NameObject("/EF"): DictionaryObject({NameObject("/F"): reference, NameObject("/UF"): reference}),
            NameObject("/Desc"): TextStringObject(f"{entry.ref} {entry.name}, SHA-256 {entry.sha256}"),
        }
    )


def _add(writer: PdfWriter, obj: PdfObject) -> IndirectObject:
    # pypdf has no public way to add a bare object; _add_object is what its own helpers use.
    return writer._add_object(obj)
