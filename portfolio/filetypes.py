"""What an uploaded file really is, judged by its content, and names that are safe to keep.

The browser's content type and the file's extension are claims; libmagic reads the bytes. Zip
containers are opened to tell Office and OpenDocument files from arbitrary archives, and plain
text is checked for markup and code, which libmagic reports as text too.
"""

import re
import threading
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import IO

import magic
from django.conf import settings

MAX_NAME_LENGTH = 150
# libmagic reads at most this much of a file held in memory; files on disk it reads itself.
SNIFF_BYTES = 8 * 1024 * 1024
# [Content_Types].xml and an ODF `mimetype` are small; a bigger one is not a real Office file.
MAX_MANIFEST_BYTES = 1024 * 1024


class Family(StrEnum):
    DOCUMENT = "a document"
    SPREADSHEET = "a spreadsheet"
    PRESENTATION = "a presentation"
    IMAGE = "an image"
    AUDIO = "an audio recording"
    VIDEO = "a video"


@dataclass(frozen=True)
class FileKind:
    content_type: str
    label: str
    family: Family
    extensions: tuple[str, ...]  # the first is the one added when a name lacks a fitting one


_KINDS = [
    FileKind("application/pdf", "PDF document", Family.DOCUMENT, ("pdf",)),
    FileKind("application/msword", "Word document", Family.DOCUMENT, ("doc", "dot")),
    FileKind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word document",
        Family.DOCUMENT,
        ("docx",),
    ),
    FileKind("application/vnd.oasis.opendocument.text", "OpenDocument text", Family.DOCUMENT, ("odt",)),
    FileKind("text/rtf", "Rich text document", Family.DOCUMENT, ("rtf",)),
    FileKind("text/plain", "Text file", Family.DOCUMENT, ("txt", "text")),
    FileKind("text/csv", "CSV file", Family.SPREADSHEET, ("csv", "txt")),
    FileKind("application/vnd.ms-excel", "Excel spreadsheet", Family.SPREADSHEET, ("xls",)),
    FileKind(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel spreadsheet",
        Family.SPREADSHEET,
        ("xlsx",),
    ),
    FileKind(
        "application/vnd.oasis.opendocument.spreadsheet", "OpenDocument spreadsheet", Family.SPREADSHEET, ("ods",)
    ),
    FileKind("application/vnd.ms-powerpoint", "PowerPoint presentation", Family.PRESENTATION, ("ppt", "pps")),
    FileKind(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "PowerPoint presentation",
        Family.PRESENTATION,
        ("pptx",),
    ),
    FileKind(
        "application/vnd.oasis.opendocument.presentation",
        "OpenDocument presentation",
        Family.PRESENTATION,
        ("odp",),
    ),
    FileKind("image/jpeg", "JPEG image", Family.IMAGE, ("jpg", "jpeg", "jpe", "jfif")),
    FileKind("image/png", "PNG image", Family.IMAGE, ("png",)),
    FileKind("image/gif", "GIF image", Family.IMAGE, ("gif",)),
    FileKind("image/webp", "WebP image", Family.IMAGE, ("webp",)),
    FileKind("image/heic", "HEIC photo", Family.IMAGE, ("heic", "heif")),
    FileKind("image/heif", "HEIF photo", Family.IMAGE, ("heif", "heic")),
    FileKind("audio/mpeg", "MP3 audio", Family.AUDIO, ("mp3",)),
    FileKind("audio/mp4", "M4A audio", Family.AUDIO, ("m4a",)),
    FileKind("audio/aac", "AAC audio", Family.AUDIO, ("aac",)),
    FileKind("audio/wav", "WAV audio", Family.AUDIO, ("wav",)),
    FileKind("audio/ogg", "Ogg audio", Family.AUDIO, ("ogg", "oga", "opus")),
    FileKind("video/mp4", "MP4 video", Family.VIDEO, ("mp4", "m4v")),
    FileKind("video/quicktime", "QuickTime video", Family.VIDEO, ("mov", "qt")),
    FileKind("video/webm", "WebM video", Family.VIDEO, ("webm",)),
]
ALLOWED: dict[str, FileKind] = {k.content_type: k for k in _KINDS}

ALLOWED_SUMMARY = (
    "documents (PDF, Word, OpenDocument, RTF, plain text, CSV), spreadsheets (Excel, OpenDocument), "
    "presentations (PowerPoint, OpenDocument), images (JPEG, PNG, GIF, WebP, HEIC), "
    "audio (MP3, M4A, AAC, WAV, Ogg) and video (MP4, MOV, WebM)"
)

# libmagic's names for the same things.
_ALIASES = {
    "application/rtf": "text/rtf",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-m4a": "audio/mp4",
    "audio/x-hx-aac-adts": "audio/aac",
    "audio/x-aac": "audio/aac",
    "audio/mp3": "audio/mpeg",
    "application/ogg": "audio/ogg",
    "video/x-m4v": "video/mp4",
    "image/x-png": "image/png",
}

_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}
_ODF_TYPES = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
_ZIP_TYPES = {"application/zip", "application/x-zip-compressed", *_OOXML_MAIN.values(), *_ODF_TYPES}
_ARCHIVES = {
    "application/gzip": "gzip",
    "application/x-gzip": "gzip",
    "application/x-rar": "RAR",
    "application/vnd.rar": "RAR",
    "application/x-7z-compressed": "7-Zip",
    "application/x-tar": "tar",
    "application/x-bzip2": "bzip2",
    "application/x-xz": "xz",
}
_PROGRAMS = {
    "application/x-dosexec",
    "application/x-msdownload",
    "application/x-msi",
    "application/x-executable",
    "application/x-pie-executable",
    "application/x-sharedlib",
    "application/x-mach-binary",
    "application/x-elf",
    "application/java-archive",
    "application/x-java-applet",
    "application/vnd.android.package-archive",
    "application/javascript",
    "text/javascript",
    "application/x-shockwave-flash",
}
_ENCRYPTED = {"application/encrypted", "application/cdfv2-encrypted", "application/x-ole-storage-encrypted"}
# Plain text under these names is code or markup, which libmagic cannot always tell from prose.
_CODE_EXTENSIONS = frozenset(
    {
        *("html", "htm", "xhtml", "shtml", "svg", "svgz", "xml", "xsl", "xslt", "css", "json"),  # markup
        *("js", "mjs", "cjs", "ts", "jsx", "tsx", "php", "phtml", "asp", "aspx", "jsp", "cgi"),  # web code
        *("py", "pyw", "pl", "rb", "sh", "bash", "zsh"),  # scripts
        *("bat", "cmd", "ps1", "psm1", "vbs", "vbe", "jse", "wsf", "wsh", "hta", "reg", "scr"),  # Windows
    }
)
_MARKUP_MARKERS = (b"<html", b"<!doctype html", b"<script", b"<svg", b"<iframe", b"<body", b"<head")

_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})$")
_FAMILY_BY_EXTENSION = {ext: kind.family for kind in reversed(_KINDS) for ext in kind.extensions}
# Extensions that claim a type: on a file of another type they are replaced, not kept in front.
_TYPE_EXTENSIONS = frozenset(
    {
        *_FAMILY_BY_EXTENSION,
        *_CODE_EXTENSIONS,
        *["exe", "dll", "com", "msi", "scr", "lnk", "jar", "apk", "zip", "rar", "7z", "gz", "tar", "bin"],
    }
)


class UnsupportedFile(Exception):
    """The content is not a kind of file we accept; the message says what it is and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# A libmagic handle is not safe to share between threads; loading one costs a few milliseconds.
_magic = threading.local()


def _libmagic() -> magic.Magic:
    if not hasattr(_magic, "handle"):
        _magic.handle = magic.Magic(mime=True)
    return _magic.handle


def extension(name: str) -> str:
    match = _EXTENSION.search(name)
    return match.group(1).lower() if match else ""


def sniff(file: IO[bytes], name: str) -> FileKind:
    """The kind of file `file` is, by its bytes; `name` only shapes the refusal message.

    Raises UnsupportedFile for anything not on the allowed list.
    """
    path = getattr(file, "temporary_file_path", None)
    file.seek(0)
    head = file.read(65536 if path else SNIFF_BYTES)
    file.seek(0)
    raw = (_libmagic().from_file(path()) if path else _libmagic().from_buffer(head)).lower()
    content_type = _ALIASES.get(raw, raw)
    if content_type in _ZIP_TYPES or (content_type == "application/octet-stream" and head[:4] == b"PK\x03\x04"):
        content_type = _zip_kind(file)
    elif content_type in {"text/plain", "text/csv"}:
        content_type = _text_kind(content_type, head, name)
    kind = ALLOWED.get(content_type)
    if kind is None:
        raise UnsupportedFile(_refusal(content_type, name))
    return kind


def _zip_kind(file: IO[bytes]) -> str:
    """Office Open XML and OpenDocument files are zips with a manifest naming what they hold."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    declared = entry.read(200).decode("ascii", "replace").strip()
                if declared in _ODF_TYPES:
                    return declared
            if "[Content_Types].xml" in names:
                with archive.open("[Content_Types].xml") as entry:
                    manifest = entry.read(MAX_MANIFEST_BYTES).decode("utf-8", "replace")
                for main, content_type in _OOXML_MAIN.items():
                    if f'"{main}"' in manifest:
                        return content_type
                if "macroenabled" in manifest.lower():
                    return "office/macro-enabled"
                return "office/other"
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        OSError,
        KeyError,
        ValueError,
        zlib.error,
    ):
        return "application/x-damaged-zip"
    finally:
        file.seek(0)
    return "application/zip"


def _text_kind(content_type: str, head: bytes, name: str) -> str:
    lowered = head[:65536].lower()
    if any(marker in lowered for marker in _MARKUP_MARKERS):
        return "text/html"
    if extension(name) in _CODE_EXTENSIONS:
        return "text/x-code"
    return "text/csv" if extension(name) == "csv" else content_type


def _refusal(content_type: str, name: str) -> str:
    ext = extension(name)
    claimed = _FAMILY_BY_EXTENSION.get(ext)
    if content_type in {"text/html", "application/xhtml+xml"}:
        if ext in {"html", "htm", "xhtml"} or claimed is None:
            return "This file is a web page (HTML). Save it as a PDF and upload that instead."
        return f"This file is really a web page (HTML), not {claimed}. Upload the original document or image."
    if content_type == "image/svg+xml":
        return "This file is an SVG drawing, which can carry scripts. Save it as PNG or PDF and upload that instead."
    if content_type in _PROGRAMS or content_type.startswith(("text/x-", "application/x-executable")):
        return "This file is a program or code, not evidence of your work. Programs and scripts cannot be uploaded."
    if content_type in {"application/zip", "application/x-zip-compressed"} or content_type in _ARCHIVES:
        kind = _ARCHIVES.get(content_type, "zip")
        return f"This file is a compressed ({kind}) archive. Upload the files inside it one by one instead."
    if content_type == "application/x-damaged-zip":
        return "This file looks like an Office document or zip archive but is damaged. Save it again and retry."
    if content_type == "office/macro-enabled":
        return "This Office file contains macros, which can run code. Save it as .docx, .xlsx or .pptx instead."
    if content_type == "office/other":
        return "This kind of Office file is not accepted. Save it as .docx, .xlsx or .pptx and upload that."
    if content_type in _ENCRYPTED:
        return "This document is protected with a password. Remove the password and upload it again."
    if content_type in {"application/octet-stream", "application/x-ole-storage", "application/cdfv2"}:
        return f"We could not tell what kind of file this is. Allowed: {ALLOWED_SUMMARY}."
    return f"This kind of file ({content_type}) is not accepted. Allowed: {ALLOWED_SUMMARY}."


def clean_name(raw: str) -> str:
    """A file name safe to show and to offer on download: no folders, control characters or hidden dots."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = " ".join(name.split())  # tabs, newlines and runs of spaces become one space
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))  # NUL, RTL overrides…
    name = " ".join(name.split())
    match = _EXTENSION.search(name)
    suffix = match.group(0) if match else ""
    stem = name[: len(name) - len(suffix)].strip(" .")
    return _fit(stem or "file", suffix)


def with_extension(name: str, kind: FileKind) -> str:
    """`name` ending in an extension that fits `kind`: a wrong known one is replaced, else one is added."""
    ext = extension(name)
    if ext in kind.extensions:
        return name
    stem = name[: -len(ext) - 1] if ext in _TYPE_EXTENSIONS else name
    return _fit(stem.strip(" .") or "file", f".{kind.extensions[0]}")


def _fit(stem: str, suffix: str) -> str:
    return stem[: MAX_NAME_LENGTH - len(suffix)].rstrip(" .") + suffix


def display_name(raw: str, limit: int = 80) -> str:
    """How to quote a name as received in a message: printable and not too long."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in raw)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def format_size(size: int) -> str:
    """Sizes as people read them: 812 bytes, 14 KB, 3.4 MB, 200 MB."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    amount = float(size)
    for unit in ("KB", "MB", "GB"):
        amount /= 1024
        if amount < 1024 or unit == "GB":
            break
    text = f"{amount:.1f}".removesuffix(".0") if amount < 100 else f"{amount:.0f}"
    return f"{text} {unit}"


def label(content_type: str) -> str:
    kind = ALLOWED.get(content_type)
    return kind.label if kind else content_type


@dataclass(frozen=True)
class UploadRules:
    max_size: int
    max_size_label: str
    max_files: int
    allowed: str
    accept: str  # for <input accept>: a hint to the file picker, not a check


def upload_rules() -> UploadRules:
    extensions = dict.fromkeys(f".{ext}" for kind in _KINDS for ext in kind.extensions)
    return UploadRules(
        max_size=settings.EVIDENCE_MAX_FILE_SIZE,
        max_size_label=format_size(settings.EVIDENCE_MAX_FILE_SIZE),
        max_files=settings.EVIDENCE_MAX_FILES_PER_UPLOAD,
        allowed=ALLOWED_SUMMARY,
        accept=",".join(extensions),
    )
