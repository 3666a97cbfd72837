"""An upload handler that holds each file to EVIDENCE_MAX_FILE_SIZE while it streams in.

It runs first in FILE_UPLOAD_HANDLERS, so it sees each chunk before Django's handlers write it to
memory or a temporary file. A file that passes the limit is dropped at that chunk (`SkipFile`):
the rest of it is read off the connection and thrown away, never kept. The other files and form
fields in the same request still arrive, and the view reports each dropped file by name from
`rejected_uploads(request)`.

The two handlers after it are Django's, changed in two ways that matter for large files: all three
read the body 1 MB at a time (Django's multipart parser takes the smallest chunk size of its
handlers, 64 KB by default, and gunicorn receives up to 1 MB at a time, re-buffering the rest on
every smaller read), and the temporary-file handler takes the SHA-256 as it writes, so attaching
the file does not read it all back to hash it. Together they take about a third off the web
worker's CPU time for a 500 MB upload (`python -m bench.uploads`).
"""

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    SkipFile,
    TemporaryFileUploadHandler,
)
from django.http import HttpRequest

from portfolio.filetypes import clean_name, format_size

# Multipart boundaries, part headers and small form fields on top of the files themselves.
REQUEST_SLACK = 1024 * 1024
FRAGMENT_HEADER = "HTTP_X_UPLOAD_FRAGMENT"  # upload.js sends one file per request
# How much of the body the handlers are given at a time.
CHUNK_SIZE = 1024 * 1024


def too_large_message(name: str) -> str:
    return f"“{name}” is too large: each file can be at most {format_size(settings.EVIDENCE_MAX_FILE_SIZE)}."


def rejected_uploads(request: HttpRequest) -> list[tuple[str, str]]:
    """(cleaned file name, message) for each file the handler refused in this request."""
    request.FILES  # noqa: B018 - parsing the body is what fills the list
    return list(getattr(request, "_rejected_uploads", []))


class EvidenceUploadHandler(FileUploadHandler):
    chunk_size = CHUNK_SIZE

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit: int = settings.EVIDENCE_MAX_FILE_SIZE
        self.max_files: int = settings.EVIDENCE_MAX_FILES_PER_UPLOAD
        self.files_seen = 0
        self.received = 0
        self.refusal: str | None = None  # why the current file is refused, before any of it is read
        self.request_refusal: str | None = None

    def handle_raw_input(
        self, input_data: Any, META: dict[str, Any], content_length: int, boundary: bytes, encoding: str | None = None
    ) -> None:
        # Before a byte of the body is read: a request larger than its files could lawfully be
        # keeps none of them. Its form fields (the CSRF token) are still parsed, so the person
        # gets a message rather than a reset connection.
        if META.get(FRAGMENT_HEADER) == "1":
            self.max_files = 1
        if content_length > self.limit * self.max_files + REQUEST_SLACK:
            self.request_refusal = (
                f"was not added: the upload was {format_size(content_length)}, more than its files may be "
                f"(at most {format_size(self.limit)} each, {self.max_files} at a time)."
            )
        return None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.files_seen += 1
        self.received = 0
        name = clean_name(self.file_name or "")
        # SkipFile is raised from the first chunk, not here: raised here it would close the file
        # the next handler finished last (Django closes each handler's `file` on SkipFile).
        if self.request_refusal:
            self.refusal = f"“{name}” {self.request_refusal}"
        elif self.files_seen > self.max_files:
            self.refusal = f"“{name}” was not added: add at most {self.max_files} files at a time."
        elif self.content_length is not None and self.content_length > self.limit:
            self.refusal = too_large_message(name)
        else:
            self.refusal = None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.refusal is None and self.received > self.limit:
            self.refusal = too_large_message(clean_name(self.file_name or ""))
        if self.refusal is not None:
            self._reject(self.refusal)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler returns the file

    def _reject(self, message: str) -> None:
        if self.request is not None:
            rejected = self.request.__dict__.setdefault("_rejected_uploads", [])
            rejected.append((clean_name(self.file_name or ""), message))


class MemoryUploadHandler(MemoryFileUploadHandler):
    """Django's handler for small files (up to FILE_UPLOAD_MAX_MEMORY_SIZE), reading 1 MB at a time."""

    chunk_size = CHUNK_SIZE


class HashedTemporaryUploadedFile(TemporaryUploadedFile):
    """A file uploaded to a temporary file, with the SHA-256 of exactly the bytes written to it."""

    sha256: str | None = None  # set when the file is complete


class HashingTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Django's temporary-file handler, reading 1 MB at a time and hashing each chunk as it writes it."""

    chunk_size = CHUNK_SIZE

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = HashedTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )
        self.digest = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.digest.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> HashedTemporaryUploadedFile:
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self.digest.hexdigest()
        return self.file
