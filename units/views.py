from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.policy import Action, may_take, role_required
from units import selectors
from units.models import LearnerGuidance


@require_GET
@role_required(Action.VIEW_SPECIFICATIONS)
def catalogue(request: HttpRequest) -> HttpResponse:
    can_import = may_take(request.user, Action.MANAGE_SPECIFICATIONS)
    return render(
        request,
        "units/catalogue.html",
        {
            "qualifications": selectors.qualification_list(),
            "units": selectors.unit_list(),
            "can_import": can_import,
            "drafts": selectors.drafts_open() if can_import else None,
        },
    )


@require_GET
@role_required(Action.VIEW_SPECIFICATIONS)
def unit_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    unit = selectors.unit_detail(uuid=uuid)
    guidance = list(unit.learner_guidance.all())
    guidance_sections = [
        (label, [g.text for g in guidance if g.kind == kind])
        for kind, label in LearnerGuidance.Kind.choices
        if any(g.kind == kind for g in guidance)
    ]
    return render(request, "units/unit_detail.html", {"unit": unit, "guidance_sections": guidance_sections})


@require_GET
@role_required(Action.VIEW_SPECIFICATIONS)
def qualification_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    return render(
        request, "units/qualification_detail.html", {"qualification": selectors.qualification_detail(uuid=uuid)}
    )
