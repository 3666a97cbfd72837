"""Importing a unit specification: upload or paste, review beside the source, publish; what changed
between versions; moving a learner to a newer version."""

import re
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.policy import Action, may_take, require, role_required, scope_q
from assessments.models import PlannedActivity, SampleItem, SignOff
from config.http import see_other
from portfolio.filetypes import clean_name
from portfolio.models import Claim, EnrolledUnit, Enrolment, RequirementCoverage
from portfolio.selectors import enrolment_for_user
from portfolio.uploads import rejected_uploads
from units import selectors
from units.diff_selectors import previous_version, unit_diff
from units.forms_import import DraftForm, ImportForm, field_name
from units.importer import import_document, parse_text
from units.importer.extract import ExtractError
from units.models import GroupUnit, Unit, UnitDraft
from units.services_import import (
    PASTED,
    DraftConflict,
    Problem,
    draft_create,
    draft_problems,
    draft_publish,
    draft_update,
    enrolled_unit_move,
    latest_version,
    next_version,
    publish_preview,
)

LINES = re.compile(r"\blines?\s+(\d+)", re.IGNORECASE)


def _draft_url(draft: UnitDraft) -> str:
    return reverse("units:draft", args=[draft.uuid])


def _unit_url(unit: Unit) -> str:
    return reverse("units:unit", args=[unit.uuid])


@dataclass(frozen=True)
class Note:
    """A warning or problem as the page lists it: its words, the source line it names and the field it is about."""

    text: str
    line: int | None = None
    field_id: str | None = None


def _note(text: str) -> Note:
    found = LINES.search(text)
    return Note(text, int(found.group(1)) if found else None)


def _problem_notes(problems: list[Problem], form: DraftForm | None) -> list[Note]:
    notes = []
    for p in problems:
        name = field_name(p.path)
        field_id = form[name].auto_id if form is not None and name in form.fields else None
        span = form._span(p.path) if form is not None and p.path else None
        notes.append(Note(str(p), span[0] if span else None, field_id))
    return notes


def _source_lines(draft: UnitDraft) -> list[str]:
    return draft.source_text.splitlines()


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------


def _nothing_found(data: object) -> bool:
    return not isinstance(data, dict) or not (data.get("title") or data.get("outcomes"))


@require_http_methods(["GET", "POST"])
@role_required(Action.MANAGE_SPECIFICATIONS)
def unit_import(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        valid = form.is_valid()
        for _name, message in rejected_uploads(request):
            form.add_error("file", message)
            valid = False
        if valid:
            upload, text = form.cleaned_data["file"], form.cleaned_data["text"]
            source_name = clean_name(upload.name) if upload else PASTED
            try:
                result = (
                    import_document(upload.read(), upload.name, source_name=source_name)
                    if upload
                    else parse_text(text, source_name=PASTED)
                )
            except ExtractError as error:
                form.add_error("file", f"“{source_name}” could not be read: {error}")
            else:
                if _nothing_found(result.data):
                    form.add_error(
                        "file" if upload else "text",
                        f"No unit specification was found in {'“' + source_name + '”' if upload else 'the text'}: "
                        "no unit title and no learning outcomes. Check it is the awarding body's unit document.",
                    )
                else:
                    draft = draft_create(result=result, source_name=source_name, by=request.user)
                    messages.success(
                        request,
                        f"“{draft.data.get('title') or source_name}” is read. Check each field against the source, "
                        "correct what is wrong, then publish.",
                    )
                    return see_other(_draft_url(draft))
    else:
        form = ImportForm()
    return render(request, "units/import/import.html", {"form": form, "drafts": selectors.drafts_open()})


# ---------------------------------------------------------------------------------------------
# Review
# ---------------------------------------------------------------------------------------------


def _review_context(draft: UnitDraft, form: DraftForm | None) -> dict[str, object]:
    problems = draft_problems(draft)
    problem_notes = _problem_notes(problems, form)
    shown = {n.text for n in problem_notes}
    latest = latest_version(draft.key)
    return {
        "draft": draft,
        "form": form,
        "source_lines": _source_lines(draft),
        "warnings": [_note(w) for w in draft.warnings],
        # The importer's errors until corrections are saved; then what still stops publishing.
        "errors": [_note(e) for e in draft.errors if e not in shown],
        "problems": problem_notes,
        "latest": latest,
    }


@require_http_methods(["GET", "POST"])
@role_required(Action.MANAGE_SPECIFICATIONS)
def draft_review(request: HttpRequest, uuid: str) -> HttpResponse:
    draft = selectors.draft_detail(uuid=uuid)
    if draft.is_published:
        if request.method == "POST":
            messages.error(request, "This draft is published and is now a record: it cannot be changed.")
            return see_other(_draft_url(draft))
        return render(request, "units/import/published.html", _review_context(draft, None))
    if request.method == "POST":
        form = DraftForm(request.POST, draft=draft)
        if form.is_valid():
            data, moved = form.corrected()
            try:
                draft_update(
                    draft=draft,
                    data=data,
                    by=request.user,
                    key=form.cleaned_data["key"],
                    revision=form.cleaned_data["revision"],
                    moved=moved,
                )
            except DraftConflict as error:
                form.add_error(None, error.messages)
            except ValidationError as error:
                form.add_problems(error, data)
            else:
                messages.success(request, "Your corrections are saved.")
                return see_other(_draft_url(draft))
    else:
        form = DraftForm(draft=draft)
    return render(request, "units/import/review.html", _review_context(draft, form))


# ---------------------------------------------------------------------------------------------
# Publish
# ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Action.MANAGE_SPECIFICATIONS)
def draft_publish_confirm(request: HttpRequest, uuid: str) -> HttpResponse:
    draft = selectors.draft_detail(uuid=uuid)
    url = reverse("units:draft_publish", args=[draft.uuid])
    if draft.is_published:
        messages.info(request, f"This draft is already published as version {draft.version}.")
        return see_other(_unit_url(draft.published_unit))
    if request.method == "POST":
        if request.POST.get("confirm") != "publish":
            return see_other(url)
        if request.POST.get("version") != str(next_version(draft.key)):
            messages.error(
                request,
                "Another version of this unit was published after you opened this page. Check what it "
                "would become now, then confirm again.",
            )
            return see_other(url)
        try:
            unit = draft_publish(draft=draft, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return see_other(url)
        messages.success(request, f"Version {unit.version} of {unit.title} is published.")
        return see_other(_unit_url(unit))
    preview = publish_preview(draft)
    latest = preview.latest
    enrolled = latest.enrolled_units.count() if latest else 0
    qualifications = (
        sorted(
            {
                str(m.group.qualification)
                for m in GroupUnit.objects.filter(unit=latest).select_related("group__qualification")
            }
        )
        if latest
        else []
    )
    return render(
        request,
        "units/import/publish.html",
        {
            "draft": draft,
            "problems": _problem_notes(preview.problems, None),
            "latest": latest,
            "identical": preview.identical,
            "changes": preview.changes,
            "version": latest.version + 1 if latest else 1,
            "enrolled": enrolled,
            "qualifications": qualifications,
        },
    )


# ---------------------------------------------------------------------------------------------
# What changed between versions, and moving learners on
# ---------------------------------------------------------------------------------------------


def _earlier_enrolments(user: User, unit: Unit) -> list[EnrolledUnit]:
    """Learners whose portfolios `user` manages that are on an earlier version of `unit`, each
    with `recorded`: whether anything is recorded against that version (one query)."""
    enrolment, old = OuterRef("enrolment_id"), OuterRef("unit_id")
    recorded = (
        Exists(Claim.objects.filter(version__evidence__enrolment=enrolment, criterion__outcome__unit=old))
        | Exists(
            RequirementCoverage.objects.filter(version__evidence__enrolment=enrolment, item__requirement__unit=old)
        )
        | Exists(PlannedActivity.objects.filter(plan__enrolment=enrolment, criteria__outcome__unit=old))
        | Exists(SignOff.objects.filter(enrolment=enrolment, unit=old))
        | Exists(SampleItem.objects.filter(enrolment=enrolment, unit=old))
    )
    return list(
        EnrolledUnit.objects.filter(
            unit__key=unit.key,
            unit__version__lt=unit.version,
            enrolment__in=Enrolment.objects.filter(scope_q(user, Action.MANAGE_ENROLMENT)),
        )
        .select_related("enrolment__learner", "unit")
        .annotate(recorded=recorded)
        .order_by("enrolment__learner__last_name", "enrolment__learner__first_name", "pk")
    )


@require_GET
@role_required(Action.VIEW_SPECIFICATIONS)
def unit_changes(request: HttpRequest, uuid: str) -> HttpResponse:
    unit = get_object_or_404(Unit, uuid=uuid)
    previous = previous_version(unit)
    newest = latest_version(unit.key)
    manages = may_take(request.user, Action.MANAGE_SPECIFICATIONS) and newest is not None and newest.pk == unit.pk
    return render(
        request,
        "units/unit_changes.html",
        {
            "unit": unit,
            "previous": previous,
            "newest": newest,
            "diff": unit_diff(previous, unit) if previous else None,
            "earlier": _earlier_enrolments(request.user, unit) if manages else None,
        },
    )


@require_POST
@login_required
def enrolled_unit_move_view(request: HttpRequest, enrolment: str, unit: str) -> HttpResponse:
    found = enrolment_for_user(request.user, enrolment)
    require(request.user, Action.MANAGE_ENROLMENT, found)
    enrolled = get_object_or_404(EnrolledUnit.objects.select_related("unit"), enrolment=found, unit__uuid=unit)
    newest = latest_version(enrolled.unit.key) or enrolled.unit
    try:
        enrolled_unit_move(enrolled_unit=enrolled, to_unit=newest, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{found.learner} is now on version {newest.version} of {newest.title}.")
    return see_other(reverse("units:changes", args=[newest.uuid]))
