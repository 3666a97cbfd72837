"""PDF exports of a portfolio: ask for one, watch it render, download it."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST, require_safe

from accounts.policy import Action, require
from config.http import see_other
from portfolio.models import ExportJob
from portfolio.selectors import enrolment_for_user, export_job_for_user
from portfolio.services.audit import Action as Audit
from portfolio.services.audit import audit
from portfolio.services.exports import can_retry, export_request, export_retry
from portfolio.serving import private_file_response

logger = logging.getLogger(__name__)


@require_POST
@login_required
def export_create(request: HttpRequest, uuid: object) -> HttpResponse:
    enrolment = enrolment_for_user(request.user, uuid)
    require(request.user, Action.EXPORT_PORTFOLIO, enrolment)
    job = export_request(
        enrolment=enrolment, by=request.user, include_originals=request.POST.get("include_originals") == "on"
    )
    return see_other(reverse("portfolio:export", args=[job.uuid]))


def _context(job: ExportJob) -> dict[str, object]:
    return {"job": job, "can_retry": can_retry(job)}


@require_safe
@login_required
def export_detail(request: HttpRequest, uuid: object) -> HttpResponse:
    job = export_job_for_user(request.user, uuid)
    return render(request, "portfolio/exports/detail.html", _context(job))


@require_safe
@login_required
def export_status(request: HttpRequest, uuid: object) -> HttpResponse:
    """The progress fragment the detail page polls until the job finishes."""
    job = export_job_for_user(request.user, uuid)
    return render(request, "portfolio/exports/_status.html", _context(job))


@require_POST
@login_required
def export_retry_view(request: HttpRequest, uuid: object) -> HttpResponse:
    job = export_job_for_user(request.user, uuid)
    if can_retry(job):
        export_retry(job=job, by=request.user)
    else:
        messages.info(request, "This export is not stuck or failed, so there is nothing to try again.")
    return see_other(reverse("portfolio:export", args=[job.uuid]))


@require_safe
@login_required
def export_download(request: HttpRequest, uuid: object) -> FileResponse | HttpResponse:
    job = export_job_for_user(request.user, uuid)
    if job.state != ExportJob.State.DONE:
        raise Http404("This export is not ready")
    learner = slugify(job.enrolment.learner.get_full_name() or job.enrolment.learner.username)
    filename = f"portfolio-{learner}-{timezone.localtime(job.finished_at):%Y-%m-%d}.pdf"
    try:
        response = private_file_response(
            job.storage_name, filename=filename, content_type="application/pdf", as_attachment=True
        )
    except FileNotFoundError:
        logger.error("Export %s (%s) is missing from storage", job.uuid, job.storage_name)
        raise Http404("This export's file is missing; export the portfolio again") from None
    with transaction.atomic():
        audit(
            request.user,
            Audit.EXPORT_DOWNLOADED,
            job,
            enrolment=job.enrolment,
            summary=f"{request.user} downloaded the PDF of {job.enrolment.learner}'s portfolio",
            detail={"sha256": job.sha256},
        )
    return response
