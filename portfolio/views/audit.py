"""A portfolio's audit trail: who changed what, when (UTC) and from where; filterable, and as CSV.

Read by the portfolio's IQA, its centre's admins and EQAs with a grant (`Action.VIEW_AUDIT`). Out
of the user's scope the portfolio does not exist (404); in scope but not allowed is 403.
"""

import csv
import datetime
import json
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.policy import Action, require
from portfolio.forms import AuditFilterForm, object_type_label
from portfolio.models import AuditEvent, Enrolment
from portfolio.selectors import audit_actors_for, audit_events_for, audit_object_types_for, enrolment_for_user

PAGE_SIZE = 50
CSV_HEADER = [
    "When (UTC)",
    "Who",
    "Role",
    "What",
    "Action code",
    "Object",
    "Object id",
    "Summary",
    "Detail",
    "IP address",
    "Event id",
]
# A spreadsheet runs a cell that starts with one of these as a formula; summaries hold people's text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@require_GET
@login_required
def audit_trail(request: HttpRequest, uuid: object) -> HttpResponse:
    enrolment = enrolment_for_user(request.user, uuid)
    require(request.user, Action.VIEW_AUDIT, enrolment)
    form = AuditFilterForm(
        request.GET or None,
        actors=audit_actors_for(enrolment),
        object_types=lambda: audit_object_types_for(enrolment),
    )
    valid = form.is_valid() if form.is_bound else True
    filters = form.cleaned_data if form.is_bound and valid else {}
    if request.GET.get("format") == "csv":
        if not valid:
            return HttpResponseBadRequest("The filters are not valid; correct them on the audit trail page.")
        return _csv(enrolment, audit_events_for(request.user, enrolment, filters))

    page, page_numbers = None, []
    if valid:
        page = Paginator(audit_events_for(request.user, enrolment, filters), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        page.object_list = list(page.object_list)
        for event in page.object_list:
            event.object_label = object_type_label(event.object_type)
        page_numbers = list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    context = {
        "enrolment": enrolment,
        "form": form,
        "page": page,
        "page_numbers": page_numbers,
        "filtered": any(value not in (None, "") for value in filters.values()),
    }
    return render(request, "portfolio/audit.html", context, status=200 if valid else 400)


def utc_text(moment: datetime.datetime) -> str:
    """ "2026-11-23 14:05:09 UTC", as the page shows it."""
    return f"{moment.astimezone(datetime.UTC):%Y-%m-%d %H:%M:%S} UTC"


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _csv_row(event: AuditEvent) -> list[str]:
    actor = event.actor
    return [
        utc_text(event.at),
        _cell(str(actor)) if actor else "System",
        actor.role_label if actor else "",
        event.get_action_display(),
        event.action,
        object_type_label(event.object_type),
        str(event.object_uuid or ""),
        _cell(event.summary),
        json.dumps(event.detail, sort_keys=True, ensure_ascii=False),
        event.ip_address or "",
        str(event.uuid),
    ]


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def _csv(enrolment: Enrolment, events: QuerySet[AuditEvent]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(CSV_HEADER)
        for event in events.iterator(chunk_size=500):
            yield writer.writerow(_csv_row(event))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{enrolment.uuid}.csv"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
