"""The only way the PDF renderer loads anything: the project's static files and this portfolio's thumbnails.

WeasyPrint would otherwise fetch any URL a document names: `file:///etc/passwd`, an internal HTTP
service, another learner's file. Learner text is escaped by the templates, so no learner can name a
URL at all; this is the second wall. Everything not explicitly allowed is refused with an
exception, which WeasyPrint logs and then skips the resource.

Allowed:
- `static:css/report.css`: a file found by the staticfiles finders (the project's `static/`),
  or under STATIC_ROOT.
- `evidence:<file uuid>`: a thumbnail this render produced from one of this portfolio's files.
"""

import logging
import mimetypes
import posixpath
import uuid
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.utils._os import safe_join
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

STATIC_SCHEME = "static"
EVIDENCE_SCHEME = "evidence"


class RefusedURL(ValueError):
    """A URL the report may not load."""


def static_url(path: str) -> str:
    return f"{STATIC_SCHEME}:{path}"


def evidence_url(file_uuid: uuid.UUID) -> str:
    return f"{EVIDENCE_SCHEME}:{file_uuid}"


class ReportURLFetcher(URLFetcher):
    """`thumbnails` maps this portfolio's file uuids to thumbnails on local disk; it may grow as
    sections render, and only what is in it at fetch time can be loaded."""

    def __init__(self, thumbnails: Mapping[uuid.UUID, Path]) -> None:
        # No protocol is allowed through urllib's handlers: fetch() below never calls them.
        super().__init__(allowed_protocols=frozenset(), allow_redirects=False)
        self._thumbnails = thumbnails

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        scheme, _, rest = url.partition(":")
        try:
            if scheme == STATIC_SCHEME:
                return self._static(rest)
            if scheme == EVIDENCE_SCHEME:
                return self._evidence(rest)
            raise RefusedURL("only static: and evidence: URLs are allowed")
        except RefusedURL as refusal:
            logger.warning("Report refused to load %.200r: %s", url, refusal)
            raise

    def _static(self, path: str) -> URLFetcherResponse:
        if not path or path.startswith("/") or "\\" in path or posixpath.normpath(path) != path or ".." in path:
            raise RefusedURL("not a plain relative static path")
        found = finders.find(path)
        if not found and settings.STATIC_ROOT:
            try:
                candidate = Path(safe_join(str(settings.STATIC_ROOT), path))
            except SuspiciousFileOperation:
                raise RefusedURL("outside the static files") from None
            found = str(candidate) if candidate.is_file() else None
        if not found:
            raise RefusedURL("no such static file")
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(static_url(path), Path(found).read_bytes(), headers={"Content-Type": content_type})

    def _evidence(self, rest: str) -> URLFetcherResponse:
        try:
            file_uuid = uuid.UUID(rest)
        except ValueError:
            raise RefusedURL("not a file id") from None
        if str(file_uuid) != rest:
            raise RefusedURL("not a file id in canonical form")
        thumbnail = self._thumbnails.get(file_uuid)
        if thumbnail is None:
            raise RefusedURL("not a thumbnail of this portfolio's files")
        # A file: URL as the response's own address lets WeasyPrint read the bytes from disk when it
        # writes the PDF, instead of keeping every thumbnail in memory until then. It is never fetched.
        return URLFetcherResponse(thumbnail.as_uri(), thumbnail.open("rb"), headers={"Content-Type": "image/jpeg"})
