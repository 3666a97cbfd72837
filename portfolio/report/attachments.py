"""Original evidence files embedded in the PDF, read from storage only while the PDF is written.

WeasyPrint's own `attachments` option reads every file when the PDF is assembled and keeps them all
in memory until the last byte is written: a hundred photos would be hundreds of megabytes at once.
Here each file is a pydyf stream whose bytes are read from storage at the moment pydyf writes that
object, and dropped straight after, so one original is in memory at a time.
"""

from collections.abc import Callable, Iterable

import pydyf
from django.core.files.storage import default_storage

from portfolio.report.tree import FileEntry

EmbedCallback = Callable[[int, int, FileEntry], None]  # (number from 1, total, file), as each is read


class _StoredBytes(pydyf.Object):
    """The contents of a stored file, as an item of a pydyf stream: read when written, never kept."""

    def __init__(self, entry: FileEntry, announce: Callable[[], None]) -> None:
        super().__init__()
        self.storage_name = entry.storage_name
        self.announce = announce

    @property
    def data(self) -> bytes:
        self.announce()
        with default_storage.open(self.storage_name, "rb") as stored:
            return stored.read()


def _subtype(content_type: str) -> str:
    return "/" + content_type.replace("/", "#2f")


def _filespec(pdf: pydyf.PDF, entry: FileEntry, announce: Callable[[], None]) -> pydyf.Dictionary:
    # Already-compressed formats (JPEG, PDF, Office) gain nothing from Flate, and it would mean
    # holding a second copy: store the bytes as they are.
    stream = pydyf.Stream(
        [_StoredBytes(entry, announce)],
        pydyf.Dictionary(
            {
                "Type": "/EmbeddedFile",
                "Subtype": _subtype(entry.content_type),
                "Params": pydyf.Dictionary({"Size": entry.size}),
            }
        ),
        compress=False,
    )
    pdf.add_object(stream)
    filespec = pydyf.Dictionary(
        {
            "Type": "/Filespec",
            "F": pydyf.String(entry.attachment_name.encode("ascii", errors="replace").decode("ascii")),
            "UF": pydyf.String(entry.attachment_name),
            "EF": pydyf.Dictionary({"F": stream.reference, "UF": stream.reference}),
            "Desc": pydyf.String(f"{entry.ref} {entry.name}, SHA-256 {entry.sha256}"),
        }
    )
    pdf.add_object(filespec)
    return filespec


def attachments_finisher(
    files: Iterable[FileEntry], on_embed: EmbedCallback | None = None
) -> Callable[[object, pydyf.PDF], None]:
    """A WeasyPrint `finisher` that adds `files` as embedded files, named "F3-original name.jpg".

    `on_embed` hears of each file as its bytes are read, while the PDF is being written.
    """

    def finish(_document: object, pdf: pydyf.PDF) -> None:
        entries = sorted(files, key=lambda f: f.attachment_name)  # a PDF name tree is sorted by key
        if not entries:
            return
        names = pydyf.Array()
        for number, entry in enumerate(entries, start=1):

            def announce(number: int = number, entry: FileEntry = entry) -> None:
                if on_embed is not None:
                    on_embed(number, len(entries), entry)

            names.append(pydyf.String(entry.attachment_name))
            names.append(_filespec(pdf, entry, announce).reference)
        tree = pydyf.Dictionary({"Names": names})
        pdf.add_object(tree)
        if "Names" not in pdf.catalog:
            pdf.catalog["Names"] = pydyf.Dictionary()
        pdf.catalog["Names"]["EmbeddedFiles"] = tree.reference

    return finish
