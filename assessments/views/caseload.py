"""The assessor's caseload: their learners, progress per unit, and the evidence waiting on them."""

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.policy import Action, role_required
from assessments import selectors
from assessments.selectors import CaseloadSort

# What is shown instead when a GET parameter is not one of the choices (an old bookmark, a typo).
IGNORED = {
    "learner": "That learner is not in your caseload, so every learner is shown.",
    "unit": "None of your learners is on that unit, so every unit is shown.",
    "sort": "That is not a way to sort the caseload, so learners are sorted by name.",
}


class CaseloadFilterForm(forms.Form):
    """The GET parameters. Choices come from the assessor's own caseload, so nothing else validates."""

    learner = forms.ChoiceField(label="Learner", required=False, widget=forms.Select(attrs={"class": "form-select"}))
    unit = forms.ChoiceField(label="Unit", required=False, widget=forms.Select(attrs={"class": "form-select"}))
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=CaseloadSort.choices(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(
        self, *args: object, learners: list[tuple[str, str]], units: list[tuple[str, str]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["learner"].choices = [("", "All learners"), *learners]
        self.fields["unit"].choices = [("", "All units"), *units]


def _filters(request: HttpRequest, form: CaseloadFilterForm) -> dict[str, str]:
    """The valid parameters; each bad one is dropped with a message rather than failing the page."""
    form.is_valid()
    for name in form.errors:
        messages.warning(request, IGNORED.get(name, "A filter was not understood and has been ignored."))
    return {name: form.cleaned_data.get(name) or "" for name in form.fields}


@require_GET
@role_required(Action.VIEW_CASELOAD)
def caseload(request: HttpRequest) -> HttpResponse:
    enrolments = selectors.caseload_enrolments(request.user)
    choices = {"learners": selectors.learner_choices(enrolments), "units": selectors.unit_choices(enrolments)}
    chosen = _filters(request, CaseloadFilterForm(request.GET, **choices))
    sort = CaseloadSort.from_param(chosen["sort"] or CaseloadSort.LEARNER.param)
    result = selectors.caseload(
        enrolments,
        learner=uuid.UUID(chosen["learner"]) if chosen["learner"] else None,
        unit=uuid.UUID(chosen["unit"]) if chosen["unit"] else None,
        sort=sort,
        page=request.GET.get("page"),
        queue_page=request.GET.get("queue"),
    )
    context = {
        # An unbound form showing what is in effect, so a dropped parameter is not shown as chosen.
        "form": CaseloadFilterForm(initial={**chosen, "sort": sort.param}, **choices),
        "caseload": result,
        "sort": sort,
        "filtered": bool(chosen["learner"] or chosen["unit"]),
        "has_learners": bool(enrolments),
    }
    return render(request, "assessments/caseload.html", context)
