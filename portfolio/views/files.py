"""Evidence files: upload, remove, download and preview, each through the access policy.

Uploads work as a plain form post (redirect with a message per file) and, from upload.js, one
file per request answered with an HTML fragment: the new row, or the refusal with status 400.
Downloads and previews stream from storage, or nginx sends them (portfolio.serving); nothing is ever
served from a public URL. Each download (and each PDF preview) is recorded in the audit trail.
"""

import logging
from dataclasses import dataclass
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST, require_safe

from portfolio.models import Evidence, StoredFile
from portfolio.selectors import evidence_to_edit, file_for_user
from portfolio.services.evidence import VersionLocked
from portfolio.services.files import DuplicateFile, FileRefused, file_attach, file_detach, file_download_record
from portfolio.serving import private_file_response
from portfolio.uploads import rejected_uploads

logger = logging.getLogger(__name__)

FILES_TEMPLATE = "portfolio/evidence/_files.html"


@dataclass(frozen=True)
class Outcome:
    name: str
    error: SafeString | str | None = None
    file: StoredFile | None = None
    notices: tuple[str, ...] = ()


@login_required
@require_POST
def upload(request: HttpRequest, uuid: UUID) -> HttpResponse:
    evidence = evidence_to_edit(request.user, uuid)
    outcomes = [Outcome(name, error=message) for name, message in rejected_uploads(request)]
    uploads = request.FILES.getlist("files")
    keep_location = request.POST.get("keep_location") == "on"
    for position, upload in enumerate(uploads):
        try:
            result = file_attach(
                version=evidence.current_version, upload=upload, by=request.user, keep_location=keep_location
            )
        except DuplicateFile as refusal:
            outcomes.append(Outcome(refusal.name, error=_duplicate_message(refusal, evidence)))
        except FileRefused as refusal:
            outcomes.append(Outcome(refusal.name, error=refusal.message))
        except VersionLocked as locked:
            outcomes.append(Outcome(upload.name or "", error=locked.message))
            skipped = len(uploads) - position - 1
            if skipped:
                files = "1 more file was" if skipped == 1 else f"{skipped} more files were"
                outcomes.append(Outcome("", error=f"{files} not added."))
            break
        else:
            outcomes.append(Outcome(result.file.original_name, file=result.file, notices=tuple(result.notices)))
    if not outcomes:
        outcomes.append(Outcome("", error="Choose one or more files to upload."))

    if request.headers.get("X-Upload-Fragment") == "1":
        return _fragment(request, evidence, outcomes)
    for outcome in outcomes:
        if outcome.error:
            messages.error(request, outcome.error)
        else:
            messages.success(request, f"Added “{outcome.name}”.")
            for notice in outcome.notices:
                messages.info(request, notice)
    return _back_to_edit(evidence)


def _duplicate_message(refusal: DuplicateFile, evidence: Evidence) -> SafeString:
    if refusal.evidence is None or refusal.evidence.pk == evidence.pk:
        return format_html("{}", refusal.message)
    url = reverse("portfolio:evidence", args=[refusal.evidence.uuid])
    return format_html('{} <a href="{}">Open that evidence</a>.', refusal.message, url)


def _fragment(request: HttpRequest, evidence: Evidence, outcomes: list[Outcome]) -> HttpResponse:
    """upload.js sends one file per request: the new row, or why it was refused (400)."""
    errors = [o.error for o in outcomes if o.error]
    context = {"evidence": evidence, "version": evidence.current_version, "can_edit": True}
    if errors:
        return render(request, FILES_TEMPLATE, {**context, "upload_errors": errors}, status=400)
    added = outcomes[0]
    return render(request, FILES_TEMPLATE, {**context, "file_row": added.file, "notices": added.notices})


@login_required
@require_POST
def remove(request: HttpRequest, uuid: UUID, file_uuid: UUID) -> HttpResponse:
    evidence = evidence_to_edit(request.user, uuid)
    stored = file_for_user(request.user, file_uuid)
    if stored.enrolment_id != evidence.enrolment_id:
        raise Http404("No such file in this evidence")
    try:
        file_detach(version=evidence.current_version, file=stored, by=request.user)
    except (FileRefused, VersionLocked) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"Removed “{stored.original_name}”.")
    return _back_to_edit(evidence)


def _back_to_edit(evidence: Evidence) -> HttpResponse:
    return HttpResponseRedirect(reverse("portfolio:evidence_edit", args=[evidence.uuid]), status=303)


@login_required
@require_safe
def download(request: HttpRequest, uuid: UUID) -> FileResponse | HttpResponse:
    stored = file_for_user(request.user, uuid)
    response = _stream(stored, as_attachment=True)  # a file missing from storage is a 404, not a download
    file_download_record(file=stored, by=request.user)
    return response


@login_required
@require_safe
@xframe_options_sameorigin
def preview(request: HttpRequest, uuid: UUID) -> FileResponse | HttpResponse:
    """Images and PDFs shown inline, e.g. a thumbnail or a PDF in an <iframe> on the evidence page."""
    stored = file_for_user(request.user, uuid)
    if not (stored.is_image or stored.is_pdf):
        raise Http404("No preview for this kind of file")
    response = _stream(stored, as_attachment=False)
    # A PDF preview is opened on purpose, in full, in its own tab: as much a download as the other.
    # Image thumbnails load by themselves on every evidence page, so recording them would bury the
    # trail in page views; the full image is recorded when someone downloads it.
    if stored.is_pdf:
        file_download_record(file=stored, by=request.user, preview=True)
    return response


def _stream(stored: StoredFile, *, as_attachment: bool) -> FileResponse | HttpResponse:
    try:
        return private_file_response(
            stored.storage_name,
            filename=stored.original_name,
            content_type=stored.content_type,
            as_attachment=as_attachment,
        )
    except FileNotFoundError:
        logger.error("Stored file %s (%s) is missing from storage", stored.uuid, stored.storage_name)
        raise Http404("This file's contents are missing") from None
