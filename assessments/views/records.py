"""Records the assessor writes as evidence (observation, discussion, Q&A, witness testimony), and
the learner's confirmation that one is accurate, which submits it for judgement."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.policy import Action, require
from assessments.models import AssessorRecord
from assessments.record_forms import RecordForm, kind_from
from assessments.services import records as services
from config.http import see_other
from portfolio import mapping
from portfolio.models import Claim, Evidence
from portfolio.selectors import enrolment_for_user, evidence_for_user


def _evidence_url(evidence: Evidence) -> str:
    return reverse("portfolio:evidence", args=[evidence.uuid])


@require_http_methods(["GET", "POST"])
@login_required
def record_create(request: HttpRequest, uuid: object) -> HttpResponse:
    enrolment = enrolment_for_user(request.user, uuid)
    require(request.user, Action.ASSESS, enrolment)
    units = mapping.units_for_mapping(enrolment)
    kind_url = reverse("assessments:record_create", args=[enrolment.uuid])
    errors: dict[str, list[str]] = {}  # the criteria's, keyed like the mapping form's fields
    if request.method == "POST":
        form = RecordForm(request.POST, kind_url=kind_url)
        accounts, items = mapping.read_mapping(request.POST, units)
        selection = mapping.selection_from_post(request.POST)
        # Checked here as well as in the service, so one post shows every problem at once.
        errors = services.claims_errors(accounts)
        if form.is_valid() and not errors:
            try:
                evidence = services.assessor_record_create(
                    enrolment=enrolment,
                    assessor=request.user,
                    kind=form.cleaned_data["kind"],
                    details=form.details(),
                    witness=form.witness(),
                    accounts=accounts,
                    items=items,
                )
            except ValidationError as error:
                errors = form.add_service_errors(error)
            else:
                messages.success(request, "Record saved. The learner has been asked to confirm it is accurate.")
                return see_other(_evidence_url(evidence))
    else:
        form = RecordForm(initial={"kind": kind_from(request.GET.get("kind"))}, kind_url=kind_url)
        selection = mapping.Selection()
    context = {
        "enrolment": enrolment,
        "form": form,
        "units": mapping.mapping_rows(units, "", selection, errors),
        # Errors about one criterion sit beside it (in the rows); the rest above the criteria.
        "criteria_errors": [m for key, messages in errors.items() if not key.startswith("account-") for m in messages],
    }
    return render(request, "assessments/records/create.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def record_confirm(request: HttpRequest, uuid: object) -> HttpResponse:
    evidence = evidence_for_user(request.user, uuid)
    require(request.user, Action.LEARNER_SIGN, evidence.enrolment)
    record = AssessorRecord.objects.filter(evidence=evidence).first()
    draft = services.record_draft(evidence) if record else None
    if record is None or draft is None:
        # Not a record, or confirmed already (another tab, the notice followed twice): show the evidence.
        messages.info(request, "There is nothing here to confirm: this evidence is not awaiting your confirmation.")
        return see_other(_evidence_url(evidence))
    error = ""
    if request.method == "POST":
        try:
            services.assessor_record_confirm(
                evidence=evidence, learner=request.user, confirmed=request.POST.get("confirmed") == "on"
            )
        except ValidationError as problem:
            error = " ".join(problem.messages)
        else:
            messages.success(request, "Thank you. The record is confirmed and has gone to your assessor for judgement.")
            return see_other(_evidence_url(evidence))
    context = {
        "evidence": evidence,
        "record": record,
        "version": draft,
        "claims": Claim.objects.filter(version=draft)
        .select_related("criterion__outcome__unit")
        .order_by("criterion__outcome__unit__title", "criterion__outcome__number", "criterion__ordinal"),
        "coverage": draft.coverage.select_related("item__requirement"),
        "statement": services.RECORD_CONFIRMATION_STATEMENT,
        "error": error,
    }
    return render(request, "assessments/records/confirm.html", context)
