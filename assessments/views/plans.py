"""Assessment plans and progress reviews: the assessor writes them, both the assessor and the learner sign.

A plan is never edited: once written it is only signed, and a change is a new plan (which can
start as a copy of the old). Signing asks for the signer's password again.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import SignatureForm
from accounts.policy import Action, allows, require
from assessments import plan_forms
from assessments.models import AssessmentPlan, ProgressReview
from assessments.plan_forms import ACTIVITIES_PREFIX, ActivityFormSet, BaseActivityFormSet, PlanForm, ReviewForm
from assessments.plan_selectors import plan_for_user, plan_page, plan_to_copy, review_for_user
from assessments.services import plans as services
from assessments.services.plans import Signer, signer_for
from config.http import see_other
from portfolio import mapping
from portfolio.models import Enrolment
from portfolio.progress import State
from portfolio.selectors import enrolment_for_user
from units.models import AssessmentCriterion

PLAN_SIGN_PREFIX = "plan-sign"


def _plan_url(plan: AssessmentPlan, anchor: str = "") -> str:
    return reverse("assessments:plan", args=[plan.uuid]) + (f"#{anchor}" if anchor else "")


def _review_sign_prefix(review: ProgressReview) -> str:
    return f"review-{review.uuid}"


# ---------------------------------------------------------------------------------------------
# Writing a plan
# ---------------------------------------------------------------------------------------------


def _plan_forms(
    request: HttpRequest, enrolment: Enrolment, criteria: dict[str, AssessmentCriterion]
) -> tuple[PlanForm, BaseActivityFormSet, bool]:
    """The plan form and activity formset for this request, and whether they should be saved."""
    kwargs: dict[str, Any] = {"prefix": ACTIVITIES_PREFIX, "form_kwargs": {"criteria": criteria}}
    if request.method == "POST":
        if "add_activity" in request.POST:
            # Re-show what was typed with one more blank row. The title is not judged yet (an
            # unbound form keeps it); rows already half-filled may say what they still lack.
            data = plan_forms.with_another_row(request.POST)
            return PlanForm(initial={"title": data.get("title", "")}), ActivityFormSet(data, **kwargs), False
        return PlanForm(request.POST), ActivityFormSet(request.POST, **kwargs), True
    source = plan_to_copy(enrolment, request.GET.get("from"))
    if source is None:
        return PlanForm(), ActivityFormSet(**kwargs), False
    title, activities = plan_forms.initial_from(source)
    return PlanForm(initial=title), ActivityFormSet(initial=activities, **kwargs), False


@require_http_methods(["GET", "POST"])
@login_required
def plan_create(request: HttpRequest, uuid: object) -> HttpResponse:
    enrolment = enrolment_for_user(request.user, uuid)
    require(request.user, Action.ASSESS, enrolment)
    units = mapping.units_for_mapping(enrolment)
    form, formset, save = _plan_forms(request, enrolment, plan_forms.criteria_by_uuid(units))
    if save and form.is_valid() and formset.is_valid():
        try:
            plan = services.plan_create(
                enrolment=enrolment,
                assessor=request.user,
                title=form.cleaned_data["title"],
                activities=formset.activities(),
            )
        except ValidationError as error:
            plan_forms.add_service_errors(form, error)
        else:
            messages.success(request, "Plan saved, and the learner has been asked to sign it. Sign it yourself below.")
            return see_other(_plan_url(plan, "signatures"))
    context = {
        "enrolment": enrolment,
        "form": form,
        "formset": formset,
        "rows": plan_forms.activity_rows(formset, units),
        "copying": request.method == "GET" and formset.initial_form_count() > 0,
        "show_summary": save,  # only a real save attempt reports "not saved"
    }
    return render(request, "assessments/plans/create.html", context)


# ---------------------------------------------------------------------------------------------
# Reading and signing a plan and its reviews
# ---------------------------------------------------------------------------------------------


def _may_sign(signer: Signer | None, signable: AssessmentPlan | ProgressReview) -> bool:
    return signer is not None and getattr(signable, f"{signer}_signed_at") is None


def _render_plan(
    request: HttpRequest,
    plan: AssessmentPlan,
    bound: SignatureForm | None = None,
    bound_for: AssessmentPlan | ProgressReview | None = None,
) -> HttpResponse:
    """The plan page; `bound` is a signature form that failed, shown again for `bound_for`."""
    enrolment = plan.enrolment
    page = plan_page(plan)
    signer = signer_for(request.user, enrolment)
    plan_form = None
    if _may_sign(signer, plan):
        plan_form = bound if bound_for == plan else SignatureForm(request.user, prefix=PLAN_SIGN_PREFIX)
    reviews = []
    for review in page.reviews:
        form = None
        if _may_sign(signer, review):
            fresh = SignatureForm(request.user, prefix=_review_sign_prefix(review))
            form = bound if bound_for == review else fresh
        reviews.append((review, form))
    context = {
        "plan": plan,
        "enrolment": enrolment,
        "activities": page.activities,
        "reviews": reviews,
        "signer": signer,
        "sign_form": plan_form,
        "can_assess": allows(request.user, Action.ASSESS, enrolment),
        "legend": list(State),
    }
    return render(request, "assessments/plans/detail.html", context)


@require_http_methods(["GET"])
@login_required
def plan_detail(request: HttpRequest, uuid: object) -> HttpResponse:
    return _render_plan(request, plan_for_user(request.user, uuid))


def _signer_or_403(request: HttpRequest, enrolment: Enrolment) -> Signer:
    signer = signer_for(request.user, enrolment)
    if signer is None:  # e.g. the IQA or a centre admin: they may read the plan, not sign it
        raise PermissionDenied
    return signer


@require_POST
@login_required
def plan_sign(request: HttpRequest, uuid: object) -> HttpResponse:
    plan = plan_for_user(request.user, uuid)
    signer = _signer_or_403(request, plan.enrolment)
    form = SignatureForm(request.user, request.POST, prefix=PLAN_SIGN_PREFIX)
    if not form.is_valid():
        return _render_plan(request, plan, bound=form, bound_for=plan)
    try:
        services.plan_sign(plan=plan, by=request.user, reauthenticated=True)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"You have signed the plan as the {signer}.")
    return see_other(_plan_url(plan, "signatures"))


@require_POST
@login_required
def review_sign(request: HttpRequest, uuid: object) -> HttpResponse:
    review = review_for_user(request.user, uuid)
    plan = review.plan
    signer = _signer_or_403(request, plan.enrolment)
    form = SignatureForm(request.user, request.POST, prefix=_review_sign_prefix(review))
    if not form.is_valid():
        return _render_plan(request, plan, bound=form, bound_for=review)
    try:
        services.review_sign(review=review, by=request.user, reauthenticated=True)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"You have signed the review as the {signer}.")
    return see_other(_plan_url(plan, f"review-{review.uuid}"))


# ---------------------------------------------------------------------------------------------
# Recording a progress review
# ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def review_create(request: HttpRequest, uuid: object) -> HttpResponse:
    plan = plan_for_user(request.user, uuid)
    require(request.user, Action.ASSESS, plan.enrolment)
    form = ReviewForm(request.POST or None, initial={"reviewed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            review = services.review_create(plan=plan, assessor=request.user, **form.cleaned_data)
        except ValidationError as error:
            plan_forms.add_service_errors(form, error)
        else:
            messages.success(
                request, "Review saved, and the learner has been asked to sign it. Sign it yourself below."
            )
            return see_other(_plan_url(plan, f"review-{review.uuid}"))
    context = {"plan": plan, "enrolment": plan.enrolment, "form": form, "activities": plan.activities.all()}
    return render(request, "assessments/plans/review_create.html", context)
