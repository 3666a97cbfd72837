"""Handing a private file (evidence, a PDF export) to the person a view has already let have it.

The views check permission and record the download; this builds the response. By default the file
streams from storage through the web worker. With EVIDENCE_X_ACCEL_REDIRECT_PREFIX set (files on
disk behind nginx), the response is empty and names the file in X-Accel-Redirect: nginx sends it
from an `internal` location, which no one can ask for directly.
"""

from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

# A file is data, never a page of this site: no scripts, no requests of its own, and a unique
# origin. Chromium's PDF viewer still renders under it, framed or in its own tab (checked with
# Debian's Chromium 156), so PDFs get no weaker policy.
FILE_CSP = "default-src 'none'; sandbox"
BLOCK_SIZE = 256 * 1024


def private_file_response(
    storage_name: str, *, filename: str, content_type: str, as_attachment: bool
) -> FileResponse | HttpResponse:
    """The file's response, streamed or by X-Accel-Redirect. FileNotFoundError if storage lacks it."""
    prefix = settings.EVIDENCE_X_ACCEL_REDIRECT_PREFIX
    response: FileResponse | HttpResponse
    if prefix:
        if not default_storage.exists(storage_name):
            raise FileNotFoundError(storage_name)
        response = HttpResponse(b"", content_type=content_type)
        response["X-Accel-Redirect"] = prefix + quote(storage_name)
        response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
    else:
        content = default_storage.open(storage_name, "rb")
        response = FileResponse(content, as_attachment=as_attachment, filename=filename, content_type=content_type)
        response.block_size = BLOCK_SIZE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
