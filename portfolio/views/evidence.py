"""The learner's evidence pages: create, edit a draft, map to criteria, submit; and read-only detail."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.policy import Action, allows, require
from assessments.models import AssessorRecord, Decision
from portfolio import mapping
from portfolio.forms import EvidenceForm
from portfolio.models import Claim, Evidence, EvidenceVersion, RequirementCoverage
from portfolio.selectors import enrolment_for_user, evidence_for_user, evidence_to_edit
from portfolio.services import evidence as services

Status = EvidenceVersion.Status


def _go_to(name: str, uuid: object) -> HttpResponse:
    return redirect(reverse(f"portfolio:{name}", args=[uuid]), permanent=False)


def _editable_draft(request: HttpRequest, uuid: object) -> tuple[Evidence, EvidenceVersion | None]:
    """The evidence (404 out of scope, 403 for read-only roles) and its draft, if it has one."""
    evidence = evidence_to_edit(request.user, uuid)
    version = evidence.current_version
    return evidence, version if version and version.status == Status.DRAFT else None


def _locked(request: HttpRequest, evidence: Evidence) -> HttpResponse:
    messages.info(request, "This evidence has been submitted, so it cannot change. Start a new version to edit it.")
    return _go_to("evidence", evidence.uuid)


def _claims(version: EvidenceVersion) -> object:
    return version.claims.select_related("criterion__outcome__unit").order_by(
        "criterion__outcome__unit__title", "criterion_id"
    )


def _files_context(evidence: Evidence, version: EvidenceVersion, can_edit: bool) -> dict[str, object]:
    files = [vf.file for vf in version.version_files.select_related("file").order_by("position")]
    return {"evidence": evidence, "version": version, "files": files, "can_edit": can_edit}


@require_http_methods(["GET", "POST"])
@login_required
def evidence_create(request: HttpRequest, uuid: object) -> HttpResponse:
    enrolment = enrolment_for_user(request.user, uuid)
    require(request.user, Action.EDIT_EVIDENCE, enrolment)
    form = EvidenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            evidence = services.evidence_create(enrolment=enrolment, by=request.user, details=form.details())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "Evidence created. Now attach its files and map it to criteria.")
            return _go_to("evidence_edit", evidence.uuid)
    return render(request, "portfolio/evidence/create.html", {"enrolment": enrolment, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def evidence_edit(request: HttpRequest, uuid: object) -> HttpResponse:
    evidence, draft = _editable_draft(request, uuid)
    if draft is None:
        return _locked(request, evidence)
    form = EvidenceForm.for_version(draft, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.evidence_update(version=draft, by=request.user, details=form.details())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "Details saved.")
            return _go_to("evidence_edit", evidence.uuid)
    context = {
        **_files_context(evidence, draft, can_edit=True),
        "form": form,
        "enrolment": evidence.enrolment,
        "claims": _claims(draft),
    }
    return render(request, "portfolio/evidence/edit.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def evidence_mapping(request: HttpRequest, uuid: object) -> HttpResponse:
    evidence, draft = _editable_draft(request, uuid)
    if draft is None:
        return _locked(request, evidence)
    units = mapping.units_for_mapping(evidence.enrolment)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        accounts, items = mapping.read_mapping(request.POST, units)
        try:
            services.mapping_set(version=draft, by=request.user, accounts=accounts, items=items)
        except ValidationError as error:
            errors = error.message_dict
        else:
            messages.success(
                request, f"Mapping saved: {len(accounts)} criteria, {len(items)} evidence-requirement items."
            )
            return _go_to("evidence_edit", evidence.uuid)
        selection = mapping.selection_from_post(request.POST)
    else:
        selection = mapping.selection_from_version(draft)
    context = {
        "evidence": evidence,
        "version": draft,
        "units": mapping.mapping_rows(units, draft.method, selection, errors),
        "errors": errors,
    }
    return render(request, "portfolio/evidence/mapping.html", context, status=400 if errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
def evidence_submit(request: HttpRequest, uuid: object) -> HttpResponse:
    evidence, draft = _editable_draft(request, uuid)
    if draft is None:
        return _locked(request, evidence)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.evidence_submit(version=draft, by=request.user, declared=request.POST.get("declared") == "on")
        except ValidationError as error:
            errors = error.message_dict
        else:
            messages.success(request, "Submitted to your assessor. It is now locked; a change starts a new version.")
            return _go_to("evidence", evidence.uuid)
    context = {
        **_files_context(evidence, draft, can_edit=False),
        "errors": errors,
        "statement": services.DECLARATION_STATEMENT,
        "claims": _claims(draft),
        "coverage": draft.coverage.select_related("item__requirement"),
    }
    return render(request, "portfolio/evidence/submit.html", context, status=400 if errors else 200)


@require_POST
@login_required
def evidence_new_version(request: HttpRequest, uuid: object) -> HttpResponse:
    evidence = evidence_to_edit(request.user, uuid)
    draft = services.evidence_new_version(evidence=evidence, by=request.user)
    messages.success(
        request, f"Version {draft.number} started from the last one. The submitted version stays on record."
    )
    return _go_to("evidence_edit", evidence.uuid)


@require_http_methods(["GET"])
@login_required
def evidence_detail(request: HttpRequest, uuid: object) -> HttpResponse:
    evidence = evidence_for_user(request.user, uuid)
    # Each level one query, joined where it is one-to-one: versions, claims, decisions, coverage.
    versions = list(
        evidence.versions.order_by("-number")
        .prefetch_related(
            Prefetch(
                "claims",
                queryset=Claim.objects.select_related("criterion__outcome__unit")
                .prefetch_related(Prefetch("decisions", queryset=Decision.objects.select_related("decided_by")))
                .order_by("criterion__outcome__unit__title", "criterion_id"),
            ),
            Prefetch("coverage", queryset=RequirementCoverage.objects.select_related("item__requirement")),
        )
        .select_related("declaration")
    )
    current = evidence.current_version
    record = AssessorRecord.objects.filter(evidence=evidence).first()
    can_edit = record is None and allows(request.user, Action.EDIT_EVIDENCE, evidence.enrolment)
    context = {
        **_files_context(evidence, current, can_edit=False),
        "versions": versions,
        "current": next(v for v in versions if v.pk == current.pk),
        "can_edit": can_edit,
        "can_assess": allows(request.user, Action.ASSESS, evidence.enrolment),
        "record": record,
        "can_confirm": record is not None and allows(request.user, Action.LEARNER_SIGN, evidence.enrolment),
        "is_draft": current.status == Status.DRAFT,
    }
    return render(request, "portfolio/evidence/detail.html", context)
