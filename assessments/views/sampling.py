"""IQA sampling: the IQA's plans, a plan's coverage and candidates, and the signed review of a sampled unit.

Plans are the IQA's own: the list and the new-plan page answer 403 to other roles, and a plan's
own pages are a 404 to everyone but its IQA. A sampled unit is read through its portfolio: out of
scope is 404, people who may see the portfolio but not its quality records get 403, and only the
plan's IQA signs a review.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import SignatureForm
from accounts.policy import Action, allows, may_take, require, role_required, scope_q
from assessments.models import SampleItem, SamplingPlan
from assessments.sampling_forms import SampleAddForm, SampleReviewForm, SamplingPlanForm, add_service_errors
from assessments.sampling_selectors import (
    current_fingerprint,
    name_of,
    plan_choices,
    plan_coverage,
    plan_for_iqa,
    plans_for_iqa,
    sample_item_for_user,
    sample_page,
)
from assessments.services.sampling import sample_add as add_to_sample
from assessments.services.sampling import sample_review_sign, sampling_plan_create
from config.http import see_other
from portfolio.models import Enrolment
from units.models import Unit

REVIEW_TEMPLATE = "assessments/sampling/review.html"


def _plan_url(plan: SamplingPlan, anchor: str = "") -> str:
    return reverse("assessments:sampling_plan", args=[plan.uuid]) + (f"#{anchor}" if anchor else "")


def _item_url(item: SampleItem, anchor: str = "") -> str:
    return reverse("assessments:sample_review", args=[item.uuid]) + (f"#{anchor}" if anchor else "")


# --- Plans -----------------------------------------------------------------------------------------


@require_GET
@role_required(Action.PLAN_SAMPLING)
def plan_list(request: HttpRequest) -> HttpResponse:
    return render(request, "assessments/sampling/plans.html", {"plans": plans_for_iqa(request.user)})


@require_http_methods(["GET", "POST"])
@role_required(Action.PLAN_SAMPLING)
def plan_create(request: HttpRequest) -> HttpResponse:
    choices = plan_choices(request.user)
    form = SamplingPlanForm(request.POST if request.method == "POST" else None, choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            plan = sampling_plan_create(iqa=request.user, **form.plan_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Sampling plan “{plan.title}” saved. Choose the learners' units to sample below."
            )
            return see_other(_plan_url(plan, "candidates"))
    context = {"form": form, "choices": choices, "has_portfolios": bool(choices.enrolments)}
    return render(request, "assessments/sampling/create.html", context)


def _own_plan(request: HttpRequest, uuid: object) -> SamplingPlan:
    """The user's own plan: anyone else's is a 404 to everyone; without the IQA role (any more), 403."""
    plan = plan_for_iqa(request.user, uuid)
    if not may_take(request.user, Action.PLAN_SAMPLING):
        raise PermissionDenied
    return plan


@require_GET
@login_required
def plan_detail(request: HttpRequest, uuid: object) -> HttpResponse:
    plan = _own_plan(request, uuid)
    coverage = plan_coverage(plan, request.user)
    return render(request, "assessments/sampling/detail.html", {"plan": plan, "coverage": coverage})


def _chosen(request: HttpRequest, form: SampleAddForm) -> tuple[Enrolment, Unit]:
    """The portfolio and unit behind the button: only among the portfolios the IQA quality-assures."""
    unknown = ValidationError("That learner's unit is not on a portfolio you quality-assure.")
    enrolment = (
        Enrolment.objects.filter(scope_q(request.user, Action.QUALITY_ASSURE), uuid=form.cleaned_data["enrolment"])
        .select_related("learner")
        .first()
    )
    unit = Unit.objects.filter(uuid=form.cleaned_data["unit"]).first()
    if enrolment is None or unit is None:
        raise unknown
    return enrolment, unit


@require_POST
@login_required
def sample_add(request: HttpRequest, uuid: object) -> HttpResponse:
    plan = _own_plan(request, uuid)
    form = SampleAddForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Choose a learner's unit with its “Add to sample” button.")
        enrolment, unit = _chosen(request, form)
        add_to_sample(plan=plan, enrolment=enrolment, unit=unit, by=request.user)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, f"Not added to the sample. {text}")
        return see_other(_plan_url(plan, "candidates"))
    messages.success(request, f"Added “{unit.title}” for {name_of(enrolment.learner)} to the sample.")
    return see_other(_plan_url(plan, "sampled"))


# --- Reviewing a sampled unit ----------------------------------------------------------------------


def _may_review(request: HttpRequest, item: SampleItem) -> bool:
    return item.plan.iqa_id == request.user.pk and allows(request.user, Action.QUALITY_ASSURE, item.enrolment)


def _render_review(
    request: HttpRequest,
    item: SampleItem,
    form: SampleReviewForm | None = None,
    signature: SignatureForm | None = None,
    status: int = 200,
) -> HttpResponse:
    page = sample_page(item)
    may_review = _may_review(request, item)
    own = page.own_part(request.user) if may_review else None
    if may_review and not own:
        form = form or SampleReviewForm(initial={"seen": page.fingerprint})
        signature = signature or SignatureForm(request.user)
    else:
        form = signature = None
    context = {
        "item": item,
        "plan": item.plan,
        "enrolment": item.enrolment,
        "unit": item.unit,
        "page": page,
        "own": own,
        "may_review": may_review,
        "form": form,
        "signature": signature,
        "has_errors": bool(form and form.errors) or bool(signature and signature.errors),
    }
    return render(request, REVIEW_TEMPLATE, context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def sample_review(request: HttpRequest, uuid: object) -> HttpResponse:
    item = sample_item_for_user(request.user, uuid)
    require(request.user, Action.VIEW_QUALITY_RECORDS, item.enrolment)
    if request.method == "GET":
        return _render_review(request, item)
    require(request.user, Action.QUALITY_ASSURE, item.enrolment)
    if item.plan.iqa_id != request.user.pk:
        raise PermissionDenied("Only the IQA whose sample this is can review it.")
    form = SampleReviewForm(request.POST)
    signature = SignatureForm(request.user, request.POST)
    valid = [form.is_valid(), signature.is_valid()]  # both, so every problem shows at once
    if not all(valid):
        return _render_review(request, item, form, signature, status=400)
    d = form.cleaned_data
    try:
        review = sample_review_sign(
            item=item,
            by=request.user,
            outcome=d["outcome"],
            comments=d["comments"],
            actions=d["actions"],
            action_due=d["action_due"],
            reauthenticated=True,  # the signature form has just checked the password
            seen=d["seen"] or None,
        )
    except ValidationError as error:
        # What was typed stays; the page (and the fingerprint it signs against) is read afresh.
        data = request.POST.copy()
        data["seen"] = current_fingerprint(item)
        form = SampleReviewForm(data)
        form.is_valid()
        add_service_errors(form, error)
        return _render_review(request, item, form, SignatureForm(request.user), status=400)
    messages.success(
        request,
        f"Your review is signed: {review.get_outcome_display().lower()}. The assessor sees it on their home page.",
    )
    return see_other(_item_url(item, "reviews"))
