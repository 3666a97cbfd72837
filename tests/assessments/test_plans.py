"""Assessment plans and progress reviews: the assessor writes them, the assessor and the learner sign."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from assessments.models import AssessmentPlan, Decision, Notice, PlannedActivity, ProgressReview
from assessments.services.plans import ActivityInput, plan_create, plan_sign, review_create, review_sign
from portfolio.models import Assignment, Method
from portfolio.services.enrolments import enrolment_reassign
from portfolio.services.evidence import evidence_create, evidence_submit, mapping_set
from tests.factories import AssessmentCriterionFactory, UserFactory
from tests.helpers import MANAGE, PLAN, criterion, details
from tests.portfolio.test_evidence_views import PORTFOLIO_PAGE_QUERIES

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
TARGET = datetime.date(2026, 12, 1)


@pytest.fixture
def other_assessor(enrolment):
    return UserFactory(username="otis", role=User.Role.ASSESSOR, centre=enrolment.centre)


def activity(description: str = "Plan the December rota with your team leaders.", *numbers: str, **kw) -> ActivityInput:
    criteria = tuple(criterion(PLAN, n) for n in numbers or ("1.1",))
    return ActivityInput(description=description, target_date=kw.pop("target_date", TARGET), criteria=criteria, **kw)


@pytest.fixture
def plan(enrolment, assessor):
    return plan_create(
        enrolment=enrolment,
        assessor=assessor,
        title="Autumn plan",
        activities=[
            activity("Plan the December rota.", "1.1", "1.2", method=Method.WORK_PRODUCT),
            activity("Run a team briefing on service standards.", "2.1", method=Method.OBSERVATION),
        ],
    )


@pytest.fixture
def review(plan, assessor):
    return review_create(
        plan=plan,
        assessor=assessor,
        reviewed_on=timezone.localdate(),
        achieved="The rota is planned.",
        next_steps="Observe the briefing.",
    )


def person(name: str, request) -> User:
    return request.getfixturevalue(name)


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------


def test_plan_create_writes_activities_with_criteria_in_order_and_tells_the_learner(plan, learner):
    rows = list(plan.activities.order_by("position"))
    assert [(r.position, r.description, r.method) for r in rows] == [
        (1, "Plan the December rota.", Method.WORK_PRODUCT),
        (2, "Run a team briefing on service standards.", Method.OBSERVATION),
    ]
    assert {c.number for c in rows[0].criteria.all()} == {"1.1", "1.2"}
    assert rows[0].target_date == TARGET
    assert plan.assessor_signed_at is None
    assert plan.learner_signed_at is None
    notice = Notice.objects.get(recipient=learner)
    assert notice.kind == Notice.Kind.RECORD_TO_CONFIRM
    assert "Autumn plan" in notice.text
    assert "sign" in notice.text
    assert notice.url == reverse("assessments:plan", args=[plan.uuid])


def test_plan_activity_may_leave_the_method_open_and_criteria_across_units(enrolment, assessor):
    mixed = ActivityInput(
        description="Review complaints handling.",
        target_date=TARGET,
        criteria=(criterion(PLAN, "1.1"), criterion(MANAGE, "1.1"), criterion(PLAN, "1.1")),
    )
    plan = plan_create(enrolment=enrolment, assessor=assessor, title="Cross-unit", activities=[mixed])
    row = plan.activities.get()
    assert row.method == ""
    assert row.criteria.count() == 2  # a criterion listed twice is kept once


@pytest.mark.parametrize("who", ["learner", "iqa", "other_assessor", "centre_admin"])
def test_only_the_assigned_assessor_writes_a_plan(enrolment, who, request):
    with pytest.raises(PermissionDenied):
        plan_create(enrolment=enrolment, assessor=person(who, request), title="Mine", activities=[activity()])
    assert not AssessmentPlan.objects.exists()


def test_plan_create_explains_what_is_wrong_and_saves_nothing(enrolment, assessor):
    stranger = AssessmentCriterionFactory()  # a unit that is not on this portfolio
    bad = [
        ActivityInput(description="  ", target_date=TARGET),
        ActivityInput(description="Something", target_date=TARGET, method="telepathy"),
        ActivityInput(description="Elsewhere", target_date=TARGET, criteria=(stranger,)),
    ]
    with pytest.raises(ValidationError) as caught:
        plan_create(enrolment=enrolment, assessor=assessor, title=" ", activities=bad)
    errors = caught.value.message_dict
    assert errors["title"] == ["Give the plan a title."]
    assert errors["activities"] == [
        "Activity 1: describe what the learner will do.",
        "Activity 2: choose a method from the list.",
        "Activity 3: choose criteria from the units on this portfolio.",
    ]
    with pytest.raises(ValidationError, match="at least one activity"):
        plan_create(enrolment=enrolment, assessor=assessor, title="Empty", activities=[])
    assert not AssessmentPlan.objects.exists()
    assert not Notice.objects.exists()


def test_assessor_and_learner_each_sign_the_plan_once(plan, assessor, learner):
    plan_sign(plan=plan, by=assessor, reauthenticated=True)
    plan.refresh_from_db()
    assert plan.assessor_signed_at is not None
    assert plan.learner_signed_at is None
    signed_at = plan.assessor_signed_at

    with pytest.raises(ValidationError, match="already signed"):
        plan_sign(plan=plan, by=assessor, reauthenticated=True)
    plan.refresh_from_db()
    assert plan.assessor_signed_at == signed_at  # the first signature stands

    plan_sign(plan=plan, by=learner, reauthenticated=True)
    plan.refresh_from_db()
    assert plan.is_agreed
    with pytest.raises(ValidationError, match="already signed"):
        plan_sign(plan=plan, by=learner, reauthenticated=True)


def test_signing_needs_the_password_and_the_right_person(plan, learner, iqa, other_assessor):
    with pytest.raises(ValidationError):
        plan_sign(plan=plan, by=learner, reauthenticated=False)
    for someone in (iqa, other_assessor):
        with pytest.raises(PermissionDenied):
            plan_sign(plan=plan, by=someone, reauthenticated=True)
    plan.refresh_from_db()
    assert plan.assessor_signed_at is None
    assert plan.learner_signed_at is None


def test_signing_changes_nothing_but_the_signature(plan, assessor, learner):
    before = list(PlannedActivity.objects.filter(plan=plan).values("description", "method", "target_date"))
    plan_sign(plan=plan, by=assessor, reauthenticated=True)
    plan_sign(plan=plan, by=learner, reauthenticated=True)
    plan.refresh_from_db()
    assert plan.title == "Autumn plan"
    assert list(PlannedActivity.objects.filter(plan=plan).values("description", "method", "target_date")) == before


def test_review_create_records_the_review_and_tells_the_learner(review, plan, learner):
    assert review.plan == plan
    assert review.achieved == "The rota is planned."
    notice = Notice.objects.filter(recipient=learner).order_by("-id").first()
    assert "progress review" in notice.text
    assert notice.url == reverse("assessments:plan", args=[plan.uuid]) + f"#review-{review.uuid}"


def test_review_create_refuses_a_future_date_and_an_empty_account(plan, assessor):
    with pytest.raises(ValidationError) as caught:
        review_create(
            plan=plan,
            assessor=assessor,
            reviewed_on=timezone.localdate() + datetime.timedelta(days=1),
            achieved=" ",
            next_steps="",
        )
    assert set(caught.value.message_dict) == {"reviewed_on", "achieved"}
    assert not ProgressReview.objects.exists()


@pytest.mark.parametrize("who", ["learner", "iqa", "other_assessor"])
def test_only_the_assigned_assessor_records_a_review(plan, who, request):
    with pytest.raises(PermissionDenied):
        review_create(
            plan=plan, assessor=person(who, request), reviewed_on=timezone.localdate(), achieved="x", next_steps=""
        )


def test_review_signed_once_by_each(review, assessor, learner, iqa):
    review_sign(review=review, by=learner, reauthenticated=True)
    review_sign(review=review, by=assessor, reauthenticated=True)
    review.refresh_from_db()
    assert review.learner_signed_at
    assert review.assessor_signed_at
    with pytest.raises(ValidationError, match="already signed"):
        review_sign(review=review, by=assessor, reauthenticated=True)
    with pytest.raises(PermissionDenied):
        review_sign(review=review, by=iqa, reauthenticated=True)


# ---------------------------------------------------------------------------------------------
# Writing a plan: the page
# ---------------------------------------------------------------------------------------------


def management(total: int, initial: int = 0) -> dict[str, str]:
    return {
        "activities-TOTAL_FORMS": str(total),
        "activities-INITIAL_FORMS": str(initial),
        "activities-MIN_NUM_FORMS": "1",
        "activities-MAX_NUM_FORMS": "30",
    }


def plan_post(**rows: dict) -> dict:
    data = {"title": "Spring plan", **management(3)}
    for index, row in rows.items():
        for key, value in row.items():
            data[f"activities-{index.removeprefix('row')}-{key}"] = value
    return data


def test_assessor_writes_a_plan_with_grouped_criteria(client, enrolment, assessor):
    client.force_login(assessor)
    url = reverse("assessments:plan_create", args=[enrolment.uuid])
    html = client.get(url).content.decode()
    assert "<legend" in html
    assert "Activity 1" in html
    assert "Activity 3" in html
    assert "Criteria this activity aims at" in html
    assert "Plan, organise and control customer service operations" in html
    assert "Manage customer service operations" in html
    c11 = criterion(PLAN, "1.1")
    assert f"<strong>1.1</strong> {c11.text}" in html

    data = plan_post(
        row0={
            "description": "Plan the December rota.",
            "method": "work_product",
            "target_date": "2026-12-01",
            "criteria": [str(c11.uuid), str(criterion(MANAGE, "2.1").uuid)],
        },
        row1={"description": "Team briefing.", "method": "", "target_date": "2027-01-15"},
    )
    response = client.post(url, data)
    plan = AssessmentPlan.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("assessments:plan", args=[plan.uuid]) + "#signatures"
    first, second = plan.activities.order_by("position")
    assert {c.number for c in first.criteria.all()} == {"1.1", "2.1"}
    assert (second.description, second.method, second.target_date) == ("Team briefing.", "", datetime.date(2027, 1, 15))
    assert plan.created_by == assessor


def test_plan_errors_are_shown_beside_the_fields_and_everything_typed_is_kept(client, enrolment, assessor):
    client.force_login(assessor)
    c12 = criterion(PLAN, "1.2")
    data = {
        **plan_post(row0={"description": "Write the resource plan.", "target_date": "", "criteria": [str(c12.uuid)]}),
        "title": "",
    }
    response = client.post(reverse("assessments:plan_create", args=[enrolment.uuid]), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "The plan was not saved" in html
    assert "Give the plan a title." in html
    assert "Give a target date." in html
    assert 'aria-describedby="id_activities-0-target_date_error"' in html
    assert "Write the resource plan." in html
    assert f'value="{c12.uuid}" checked' in html
    assert not AssessmentPlan.objects.exists()


def test_a_plan_needs_an_activity(client, enrolment, assessor):
    client.force_login(assessor)
    response = client.post(reverse("assessments:plan_create", args=[enrolment.uuid]), plan_post())
    assert "Add at least one activity." in response.content.decode()
    assert not AssessmentPlan.objects.exists()


def test_add_another_activity_keeps_what_was_typed_and_saves_nothing(client, enrolment, assessor):
    client.force_login(assessor)
    data = {**plan_post(row0={"description": "First thing.", "target_date": "2026-12-01"}), "add_activity": "1"}
    html = client.post(reverse("assessments:plan_create", args=[enrolment.uuid]), data).content.decode()
    assert "The plan was not saved" not in html  # adding a row is not a failed save
    assert 'value="Spring plan"' in html
    assert "Activity 4" in html
    assert 'name="activities-TOTAL_FORMS" value="4"' in html
    assert "First thing." in html
    assert not AssessmentPlan.objects.exists()


def test_a_new_plan_can_start_as_a_copy_and_the_old_one_stays(client, plan, assessor, enrolment):
    client.force_login(assessor)
    url = reverse("assessments:plan_create", args=[enrolment.uuid])
    html = client.get(url, {"from": str(plan.uuid)}).content.decode()
    assert "Autumn plan (revised)" in html
    assert "Plan the December rota." in html
    assert "Leave this activity out of the new plan" in html
    assert client.get(url, {"from": "not-a-uuid"}).status_code == 200

    data = {
        "title": "Autumn plan (revised)",
        **management(3, initial=2),
        "activities-0-description": "Plan the December rota.",
        "activities-0-target_date": "2026-12-01",
        "activities-0-criteria": [str(criterion(PLAN, "1.1").uuid)],
        "activities-1-description": "Run a team briefing on service standards.",
        "activities-1-target_date": "2026-12-01",
        "activities-1-DELETE": "on",
    }
    assert client.post(url, data).status_code == 303
    new = AssessmentPlan.objects.exclude(pk=plan.pk).get()
    assert new.activities.count() == 1
    assert plan.activities.count() == 2


@pytest.mark.parametrize(
    ("who", "status"),
    # Another assessor at the centre cannot see the portfolio at all (accounts.policy), so 404.
    [("learner", 403), ("iqa", 403), ("centre_admin", 403), ("other_assessor", 404), ("outsider", 404)],
)
def test_only_the_assigned_assessor_may_open_the_plan_form(client, enrolment, who, status, request):
    client.force_login(person(who, request))
    url = reverse("assessments:plan_create", args=[enrolment.uuid])
    assert client.get(url).status_code == status
    assert client.post(url, plan_post(row0={"description": "x", "target_date": "2026-12-01"})).status_code == status
    assert not AssessmentPlan.objects.exists()


# ---------------------------------------------------------------------------------------------
# The plan page and signing
# ---------------------------------------------------------------------------------------------


def test_plan_page_shows_activities_criteria_states_and_what_is_achieved(client, plan, learner, assessor):
    evidence = evidence_create(enrolment=plan.enrolment, by=learner, details=details())
    version = mapping_set(
        version=evidence.current_version, by=learner, accounts={criterion(PLAN, "1.1"): "My rota."}, items=[]
    )
    evidence_submit(version=version, by=learner, declared=True)
    Decision.objects.create(
        claim=version.claims.get(), outcome=Decision.Outcome.MET, decided_by=assessor, decided_at=timezone.now()
    )
    client.force_login(learner)
    html = client.get(reverse("assessments:plan", args=[plan.uuid])).content.decode()
    assert "Plan the December rota." in html
    assert "Work product" in html
    assert "1 Dec 2026" in html
    assert "1 of 2 criteria met" in html
    assert "0 of 1 criteria met" in html
    assert "Met</span>" in html
    assert "Not yet evidenced</span>" in html
    assert "Not signed yet" in html
    assert "Sign as the learner" in html
    assert "Record a progress review" not in html  # the assessor's action only


@pytest.mark.parametrize(("who", "status"), [("iqa", 200), ("centre_admin", 200), ("outsider", 404), ("eqa", 404)])
def test_plan_page_is_for_those_who_may_see_the_portfolio(client, plan, who, status, request):
    client.force_login(person(who, request))
    response = client.get(reverse("assessments:plan", args=[plan.uuid]))
    assert response.status_code == status
    if status == 200:
        assert "Sign this plan" not in response.content.decode()  # readers do not sign


def sign(client, plan, password: str):
    return client.post(reverse("assessments:plan_sign", args=[plan.uuid]), {"plan-sign-password": password})


def test_wrong_password_signs_nothing_and_says_so_beside_the_field(client, plan, assessor):
    client.force_login(assessor)
    response = sign(client, plan, "not-my-password")
    html = response.content.decode()
    assert response.status_code == 200
    assert "That is not your password. Nothing was signed." in html
    assert 'aria-describedby="id_plan-sign-password_error"' in html
    plan.refresh_from_db()
    assert plan.assessor_signed_at is None


def test_both_sign_the_plan_once_each_with_their_password(client, plan, assessor, learner):
    client.force_login(assessor)
    response = sign(client, plan, PASSWORD)
    assert response.status_code == 303
    plan.refresh_from_db()
    first = plan.assessor_signed_at
    assert first is not None

    html = client.get(reverse("assessments:plan", args=[plan.uuid])).content.decode()
    assert "Sign this plan" not in html  # signed once: no second signature offered
    assert "Awaiting the learner\u2019s signature" in html
    sign(client, plan, PASSWORD)  # a second post (another tab) changes nothing
    plan.refresh_from_db()
    assert plan.assessor_signed_at == first

    client.force_login(learner)
    assert sign(client, plan, PASSWORD).status_code == 303
    plan.refresh_from_db()
    assert plan.is_agreed
    html = client.get(reverse("assessments:plan", args=[plan.uuid])).content.decode()
    assert "Agreed: signed by both" in html


def test_a_signed_plan_is_not_offered_for_editing(client, plan, assessor):
    client.force_login(assessor)
    sign(client, plan, PASSWORD)
    html = client.get(reverse("assessments:plan", args=[plan.uuid])).content.decode()
    assert "Edit" not in html
    assert "Start a new plan from this one" in html
    assert "A plan is never edited once written" in html


@pytest.mark.parametrize(("who", "status"), [("iqa", 403), ("centre_admin", 403), ("other_assessor", 404)])
def test_readers_cannot_sign_and_outsiders_do_not_find_the_plan(client, plan, who, status, request):
    user = person(who, request)
    client.force_login(user)
    assert sign(client, plan, PASSWORD).status_code == status
    plan.refresh_from_db()
    assert plan.assessor_signed_at is None
    assert plan.learner_signed_at is None


def test_signing_is_a_post(client, plan, assessor):
    client.force_login(assessor)
    assert client.get(reverse("assessments:plan_sign", args=[plan.uuid])).status_code == 405


# ---------------------------------------------------------------------------------------------
# Reviews: the pages
# ---------------------------------------------------------------------------------------------


def test_assessor_records_a_review_from_the_plan_page(client, plan, assessor):
    client.force_login(assessor)
    url = reverse("assessments:review_create", args=[plan.uuid])
    html = client.get(url).content.decode()
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in html  # today, by default
    assert "Plan the December rota." in html
    response = client.post(
        url, {"reviewed_on": f"{timezone.localdate():%Y-%m-%d}", "achieved": "Rota done.", "next_steps": "Briefing."}
    )
    review = ProgressReview.objects.get()
    assert response.status_code == 303
    assert response["Location"].endswith(f"#review-{review.uuid}")
    assert review.created_by == assessor


def test_review_errors_are_shown_and_kept(client, plan, assessor):
    client.force_login(assessor)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(
        reverse("assessments:review_create", args=[plan.uuid]),
        {"reviewed_on": f"{tomorrow:%Y-%m-%d}", "achieved": "", "next_steps": "Keep going."},
    )
    html = response.content.decode()
    assert "the date cannot be in the future" in html
    assert "Say what has been achieved against the plan." in html
    assert "Keep going." in html
    assert not ProgressReview.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("learner", 403), ("iqa", 403), ("other_assessor", 404), ("outsider", 404)]
)
def test_only_the_assigned_assessor_records_a_review_page(client, plan, who, status, request):
    client.force_login(person(who, request))
    url = reverse("assessments:review_create", args=[plan.uuid])
    assert client.get(url).status_code == status
    response = client.post(url, {"reviewed_on": f"{timezone.localdate():%Y-%m-%d}", "achieved": "x"})
    assert response.status_code == status
    assert not ProgressReview.objects.exists()


def test_review_is_signed_by_each_once_and_a_wrong_password_signs_nothing(client, review, assessor, learner, iqa):
    url = reverse("assessments:review_sign", args=[review.uuid])
    field = f"review-{review.uuid}-password"
    client.force_login(learner)
    html = client.get(reverse("assessments:plan", args=[review.plan.uuid])).content.decode()
    assert "Sign this review" in html
    response = client.post(url, {field: "wrong"})
    assert "That is not your password. Nothing was signed." in response.content.decode()
    review.refresh_from_db()
    assert review.learner_signed_at is None

    assert client.post(url, {field: PASSWORD}).status_code == 303
    client.force_login(assessor)
    assert client.post(url, {field: PASSWORD}).status_code == 303
    review.refresh_from_db()
    signed = (review.assessor_signed_at, review.learner_signed_at)
    assert all(signed)
    client.post(url, {field: PASSWORD})
    review.refresh_from_db()
    assert (review.assessor_signed_at, review.learner_signed_at) == signed

    client.force_login(iqa)
    assert client.post(url, {field: PASSWORD}).status_code == 403


# ---------------------------------------------------------------------------------------------
# The portfolio page and query counts
# ---------------------------------------------------------------------------------------------


def test_portfolio_page_lists_plans_and_offers_the_assessor_records_and_plans(client, plan, assessor, learner):
    url = reverse("portfolio:portfolio", args=[plan.enrolment.uuid])
    client.force_login(assessor)
    html = client.get(url).content.decode()
    assert "Plans and reviews" in html
    assert reverse("assessments:plan", args=[plan.uuid]) in html
    assert "Not signed yet" in html
    assert "Write an assessment plan" in html
    assert "Add an observation" in html
    assert "Add a witness testimony" in html
    client.force_login(learner)
    html = client.get(url).content.decode()
    assert "Autumn plan" in html
    assert "Write an assessment plan" not in html
    assert "Add an observation" not in html


# session, user, plan, activities, their criteria, reviews, progress (5)
PLAN_PAGE_QUERIES = 11


@pytest.mark.parametrize("count", [2, 6])
def test_plan_page_query_count_is_fixed(client, enrolment, assessor, learner, django_assert_num_queries, count):
    activities = [activity(f"Activity {i}", f"1.{i % 4 + 1}", "2.1") for i in range(count)]
    plan = plan_create(enrolment=enrolment, assessor=assessor, title="Long plan", activities=activities)
    for day in range(count // 2):
        review_create(
            plan=plan,
            assessor=assessor,
            reviewed_on=timezone.localdate() - datetime.timedelta(days=day),
            achieved="Progress.",
            next_steps="",
        )
    client.force_login(learner)
    with django_assert_num_queries(PLAN_PAGE_QUERIES):
        response = client.get(reverse("assessments:plan", args=[plan.uuid]))
    assert response.content.decode().count("Sign this review") == count // 2


@pytest.mark.parametrize("count", [1, 4])
def test_portfolio_page_query_count_does_not_grow_with_plans(
    client, enrolment, assessor, learner, django_assert_num_queries, count
):
    for i in range(count):
        plan_create(enrolment=enrolment, assessor=assessor, title=f"Plan {i}", activities=[activity()])
    client.force_login(learner)
    with django_assert_num_queries(PORTFOLIO_PAGE_QUERIES):
        html = client.get(reverse("portfolio:portfolio", args=[enrolment.uuid])).content.decode()
    assert html.count("Not signed yet") == count


def test_a_signature_keeps_who_signed_even_after_the_assessor_changes(enrolment, assessor, learner, centre_admin):
    plan = plan_create(
        enrolment=enrolment,
        assessor=assessor,
        title="Signed plan",
        activities=[ActivityInput("Observe a briefing", datetime.date(2026, 12, 1))],
    )
    plan_sign(plan=plan, by=assessor, reauthenticated=True)
    plan_sign(plan=plan, by=learner, reauthenticated=True)
    successor = UserFactory(role=User.Role.ASSESSOR, centre=enrolment.centre)
    enrolment_reassign(
        enrolment=enrolment, role=Assignment.Role.ASSESSOR, person=successor, by=centre_admin, reason="Caseload"
    )
    plan.refresh_from_db()
    assert (plan.assessor_signed_by, plan.learner_signed_by) == (assessor, learner)
