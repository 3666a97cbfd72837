"""IQA sampling pages: plans, coverage and candidates, the signed review, the assessor's feedback on home."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from assessments.models import SampleItem, SampleReview, SamplingPlan, Stage
from assessments.sampling_selectors import current_fingerprint
from assessments.services.sampling import sample_add
from portfolio.models import AuditEvent, Enrolment, Method
from portfolio.services.grants import access_grant
from tests.assessments.test_sampling import (
    decided,
    grow,
    new_plan,
    portfolio,
    review,
    sampled_interim,
    sampled_summative,
    sign_off_plan_unit,
)
from tests.factories import UserFactory
from tests.helpers import MANAGE, PLAN
from tests.portfolio.test_evidence_views import PORTFOLIO_PAGE_QUERIES
from units.models import Unit

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
PLANS = reverse("assessments:sampling_plans")
NEW = reverse("assessments:sampling_plan_create")
HOME = reverse("portfolio:home")


def plan_url(plan: SamplingPlan) -> str:
    return reverse("assessments:sampling_plan", args=[plan.uuid])


def add_url(plan: SamplingPlan) -> str:
    return reverse("assessments:sample_add", args=[plan.uuid])


def item_url(item: SampleItem) -> str:
    return reverse("assessments:sample_review", args=[item.uuid])


def portfolio_url(enrolment: Enrolment) -> str:
    return reverse("portfolio:portfolio", args=[enrolment.uuid])


def text(response) -> str:
    """The page's words with tags stripped and spaces collapsed, for assertions about what people read."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def plan_unit(enrolment) -> Unit:
    return Unit.objects.get(key=PLAN)


@pytest.fixture
def interim_item(enrolment, assessor, iqa) -> SampleItem:
    return sampled_interim(enrolment, assessor, iqa)


@pytest.fixture
def summative_item(enrolment, assessor, iqa) -> SampleItem:
    sign_off_plan_unit(enrolment, assessor)
    return sampled_summative(enrolment, iqa)


@pytest.fixture
def colleague_iqa(centre):
    """An IQA at the same centre who quality-assures none of these portfolios."""
    return UserFactory(role=User.Role.IQA, centre=centre)


# --- Plans: list and create ------------------------------------------------------------------------


def test_the_plan_list_shows_the_iqas_own_plans_only(client, enrolment, iqa, colleague_iqa):
    new_plan(iqa, title="Mine")
    new_plan(colleague_iqa, title="Someone else's")
    client.force_login(iqa)
    response = client.get(PLANS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mine" in html
    assert "Someone else" not in html
    assert f'href="{NEW}"' in html


@pytest.mark.parametrize("persona", ["learner", "assessor", "centre_admin", "eqa"])
def test_other_roles_may_not_plan_sampling(client, enrolment, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(PLANS).status_code == 403
    assert client.get(NEW).status_code == 403


def test_anonymous_visitors_log_in(client):
    assert client.get(PLANS)["Location"].startswith(reverse("login"))


def test_the_navigation_offers_sampling_to_iqas_only(client, enrolment, iqa, assessor):
    client.force_login(iqa)
    assert f'href="{PLANS}"' in client.get(HOME).content.decode()
    client.force_login(assessor)
    assert f'href="{PLANS}"' not in client.get(HOME).content.decode()


def test_an_iqa_creates_a_plan_on_the_page(client, enrolment, iqa, assessor, plan_unit):
    client.force_login(iqa)
    page = client.get(NEW).content.decode()
    assert plan_unit.title in page
    assert f"Rate for {assessor.get_full_name()} (%)" in page
    response = client.post(
        NEW,
        {
            "title": "Spring summative",
            "stage": Stage.SUMMATIVE,
            "default_rate": "25",
            "units": [str(plan_unit.uuid)],
            "methods": [Method.OBSERVATION],
            "assessors": [str(assessor.uuid)],
            f"rate_{assessor.uuid}": "100",
        },
    )
    plan = SamplingPlan.objects.get()
    assert response.status_code == 303
    assert response["Location"] == plan_url(plan) + "#candidates"
    assert (plan.title, plan.stage, plan.methods) == ("Spring summative", Stage.SUMMATIVE, [Method.OBSERVATION])
    assert [(t.assessor, t.rate) for t in plan.targets.all()] == [(assessor, 100)]


def test_plan_errors_are_shown_on_the_page(client, enrolment, iqa, assessor):
    client.force_login(iqa)
    response = client.post(
        NEW, {"title": "", "stage": Stage.INTERIM, "default_rate": "0", f"rate_{assessor.uuid}": "150"}
    )
    assert response.status_code == 200
    words = text(response)
    assert "The plan was not saved" in words
    assert "Give the plan a title." in words
    assert "A rate is at least 1%." in words
    assert "A rate is at most 100%." in words
    assert not SamplingPlan.objects.exists()


def test_a_rate_for_an_assessor_left_out_is_an_error(client, enrolment, iqa, assessor, centre):
    other = UserFactory(role=User.Role.ASSESSOR, centre=centre, first_name="Dev", last_name="Assessor")
    portfolio(centre, iqa, other, "Cy")
    client.force_login(iqa)
    response = client.post(
        NEW,
        {
            "title": "Plan",
            "stage": Stage.INTERIM,
            "default_rate": "20",
            "assessors": [str(assessor.uuid)],
            f"rate_{other.uuid}": "50",
        },
    )
    assert "Tick Dev Assessor under Assessors to include them, or clear this rate." in text(response)
    assert not SamplingPlan.objects.exists()


def test_a_rate_without_ticking_anyone_names_every_assessor(client, enrolment, iqa, assessor, centre):
    other = UserFactory(role=User.Role.ASSESSOR, centre=centre)
    portfolio(centre, iqa, other, "Cy")
    client.force_login(iqa)
    client.post(NEW, {"title": "Plan", "stage": Stage.INTERIM, "default_rate": "20", f"rate_{other.uuid}": "100"})
    plan = SamplingPlan.objects.get()
    assert {(t.assessor, t.rate) for t in plan.targets.all()} == {(assessor, 20), (other, 100)}


def test_a_plan_for_some_learners_is_made_and_shown_on_the_page(client, enrolment, iqa, assessor, centre):
    other = portfolio(centre, iqa, assessor, "Bo")
    client.force_login(iqa)
    page = client.get(NEW).content.decode()
    label = f"{enrolment.learner.get_full_name()} ({enrolment.qualification})"
    assert f'name="enrolments" value="{enrolment.uuid}"' in page  # public ids only, never integer keys
    assert label in html.unescape(page)
    assert f'value="{enrolment.pk}"' not in page
    data = {"title": "Lena only", "stage": Stage.INTERIM, "default_rate": "25", "enrolments": [str(enrolment.uuid)]}
    response = client.post(NEW, data)
    assert response.status_code == 303
    plan = SamplingPlan.objects.get()
    assert list(plan.enrolments.all()) == [enrolment]
    decided(enrolment, assessor)
    decided(other, assessor)
    words = text(client.get(plan_url(plan)))
    assert f"Learners {label} Units" in words
    assert "Bo Learner" not in words  # not a candidate, not in the coverage
    everyone = new_plan(iqa, title="Everyone")
    assert "Learners Every learner you quality-assure Units" in text(client.get(plan_url(everyone)))


def test_a_portfolio_outside_the_iqas_scope_is_refused_on_the_page(client, enrolment, iqa, colleague_iqa, assessor):
    theirs = portfolio(enrolment.centre, colleague_iqa, assessor, "Zed")
    client.force_login(iqa)
    data = {"title": "Plan", "stage": Stage.INTERIM, "default_rate": "25", "enrolments": [str(theirs.uuid)]}
    response = client.post(NEW, data)
    assert response.status_code == 200
    words = text(response)
    assert "The plan was not saved" in words
    assert "Learners: Choose learners whose portfolios you quality-assure." in words
    assert "Zed Learner" not in words  # never offered either
    assert not SamplingPlan.objects.exists()


# --- The plan page ---------------------------------------------------------------------------------


def test_the_plan_page_shows_coverage_candidates_and_what_is_lacking(client, enrolment, iqa, assessor, plan_unit):
    decided(enrolment, assessor)
    plan = new_plan(iqa, default_rate=100)
    client.force_login(iqa)
    response = client.get(plan_url(plan))
    assert response.status_code == 200
    words = text(response)
    name = assessor.get_full_name()
    assert f"Sample 1 more of {name}'s units to reach 100% (0 of 1 needed from 1 eligible)." in words
    assert "Nothing sampled yet." in words
    html = response.content.decode()
    assert f'action="{add_url(plan)}"' in html
    assert f'name="enrolment" value="{enrolment.uuid}"' in html
    assert f'name="unit" value="{plan_unit.uuid}"' in html
    hidden = f'Add to sample<span class="visually-hidden">: “{plan_unit.title}” for {enrolment.learner.get_full_name()}'
    assert hidden in html  # each button names its learner and unit to screen readers


def test_another_iqas_plan_is_not_found(client, enrolment, iqa, colleague_iqa, assessor, plan_unit):
    decided(enrolment, assessor)
    plan = new_plan(iqa)
    client.force_login(colleague_iqa)
    assert client.get(plan_url(plan)).status_code == 404
    post = {"enrolment": str(enrolment.uuid), "unit": str(plan_unit.uuid)}
    assert client.post(add_url(plan), post).status_code == 404
    assert not SampleItem.objects.exists()


@pytest.mark.parametrize("persona", ["assessor", "learner", "centre_admin", "eqa"])
def test_everyone_else_gets_404_for_a_plans_pages(client, enrolment, iqa, plan_unit, persona, request):
    plan = new_plan(iqa)
    client.force_login(request.getfixturevalue(persona))
    assert client.get(plan_url(plan)).status_code == 404
    assert (
        client.post(add_url(plan), {"enrolment": str(enrolment.uuid), "unit": str(plan_unit.uuid)}).status_code == 404
    )


def test_an_iqa_who_is_no_longer_one_may_not_use_their_old_plan(client, enrolment, iqa):
    plan = new_plan(iqa)
    User.objects.filter(pk=iqa.pk).update(role=User.Role.ASSESSOR)
    client.force_login(iqa)
    assert client.get(plan_url(plan)).status_code == 403
    assert client.post(add_url(plan), {}).status_code == 403


def test_adding_to_the_sample_from_the_plan_page(client, enrolment, iqa, assessor, plan_unit):
    decided(enrolment, assessor)
    plan = new_plan(iqa, default_rate=100)
    client.force_login(iqa)
    response = client.post(add_url(plan), {"enrolment": str(enrolment.uuid), "unit": str(plan_unit.uuid)})
    assert response.status_code == 303
    assert response["Location"] == plan_url(plan) + "#sampled"
    item = SampleItem.objects.get()
    assert (item.plan, item.enrolment, item.unit, item.assessor) == (plan, enrolment, plan_unit, assessor)
    page = client.get(plan_url(plan))
    words = text(page)
    assert f"Added “{plan_unit.title}” for {enrolment.learner.get_full_name()} to the sample." in words
    assert "Not reviewed yet" in words
    assert f'href="{item_url(item)}"' in page.content.decode()
    assert "Target met" in words


def test_a_refused_addition_is_explained_on_the_plan_page(client, enrolment, iqa, plan_unit):
    plan = new_plan(iqa)
    client.force_login(iqa)
    response = client.post(add_url(plan), {"enrolment": str(enrolment.uuid), "unit": str(plan_unit.uuid)}, follow=True)
    assert response.redirect_chain[-1] == (plan_url(plan) + "#candidates", 303)
    assert "Not added to the sample. There are no assessment decisions on" in text(response)
    assert not SampleItem.objects.exists()


def test_a_portfolio_the_iqa_does_not_quality_assure_cannot_be_added(client, enrolment, iqa, colleague_iqa, plan_unit):
    plan = new_plan(colleague_iqa)
    client.force_login(colleague_iqa)
    response = client.post(add_url(plan), {"enrolment": str(enrolment.uuid), "unit": str(plan_unit.uuid)}, follow=True)
    assert "That learner's unit is not on a portfolio you quality-assure." in text(response)
    response = client.post(add_url(plan), {}, follow=True)
    assert "Choose a learner's unit with its “Add to sample” button." in text(response)
    assert not SampleItem.objects.exists()


@pytest.fixture
def former_assessor(enrolment, assessor, centre):
    decided(enrolment, assessor)
    User.objects.filter(pk=assessor.pk).update(role=User.Role.IQA)
    Enrolment.objects.filter(pk=enrolment.pk).update(
        iqa=assessor, assessor=UserFactory(role=User.Role.ASSESSOR, centre=centre)
    )
    assessor.refresh_from_db()
    return assessor


def test_own_decisions_are_refused_with_a_clear_message(client, former_assessor, enrolment, plan_unit):
    plan = new_plan(former_assessor)
    client.force_login(former_assessor)
    page = text(client.get(plan_url(plan)))
    assert "You made assessment decisions on it, so another IQA must sample it." in page
    response = client.post(add_url(plan), {"enrolment": str(enrolment.uuid), "unit": str(plan_unit.uuid)}, follow=True)
    words = text(response)
    assert "Not added to the sample. You cannot sample “Plan, organise and control" in words
    assert "you made assessment decisions on it. An IQA never samples their own assessment decisions" in words
    assert not SampleItem.objects.exists()


def test_ready_to_claim_shows_on_the_plan_and_the_unit_page(client, summative_item, iqa, enrolment, plan_unit):
    review(summative_item, iqa)
    client.force_login(iqa)
    assert "Ready to claim" in text(client.get(plan_url(summative_item.plan)))
    tracking = reverse("portfolio:unit_tracking", args=[enrolment.uuid, plan_unit.uuid])
    client.force_login(enrolment.assessor)
    words = text(client.get(tracking))
    assert "Ready to claim — the IQA agreed with the signed-off unit" in words
    assert "summative sample agreed on" in words


# --- The review page -------------------------------------------------------------------------------


def sign(client, item, **overrides):
    data = {
        "outcome": SampleReview.Outcome.AGREE,
        "comments": "Valid, authentic and sufficient.",
        "actions": "",
        "action_due": "",
        "password": PASSWORD,
        "seen": current_fingerprint(item),
        **overrides,
    }
    return client.post(item_url(item), data)


def test_the_review_page_shows_the_evidence_accounts_and_decision_chain(
    client, enrolment, assessor, iqa, plan_unit, interim_item
):
    decided(enrolment, assessor, ("2.1",), outcome="not_yet_met", feedback="Show the rota you drew up.")
    client.force_login(iqa)
    response = client.get(item_url(interim_item))
    assert response.status_code == 200
    words = text(response)
    assert f"IQA sample: “{plan_unit.title}” for {enrolment.learner.get_full_name()}" in words
    assert "account: My account of 1.1." in words
    assert "Not yet met — " in words
    assert "“Show the rota you drew up.”" in words
    assert "notes.pdf" in words or ".pdf" in words
    assert "Not reviewed yet." in words
    html = response.content.decode()
    assert 'name="password"' in html
    assert 'name="outcome"' in html


def test_signing_a_review_on_the_page(client, iqa, interim_item):
    client.force_login(iqa)
    due = timezone.localdate() + datetime.timedelta(days=7)
    response = sign(
        client, interim_item, outcome=SampleReview.Outcome.DISAGREE, actions="Re-judge 1.2.", action_due=due.isoformat()
    )
    assert response.status_code == 303
    assert response["Location"] == item_url(interim_item) + "#reviews"
    found = SampleReview.objects.get()
    assert (found.outcome, found.actions, found.action_due, found.reauthenticated) == (
        "disagree",
        "Re-judge 1.2.",
        due,
        True,
    )
    words = text(client.get(item_url(interim_item)))
    assert "Your review is signed: disagree: actions for the assessor." in words
    assert "Disagree: actions for the assessor" in words
    assert "Re-judge 1.2." in words


def test_a_wrong_password_signs_nothing(client, iqa, interim_item):
    client.force_login(iqa)
    before = AuditEvent.objects.filter(action=AuditEvent.Action.SAMPLE_REVIEWED).count()
    response = sign(client, interim_item, password="not-my-password")
    assert response.status_code == 400
    words = text(response)
    assert "Your review was not signed" in words
    assert "That is not your password. Nothing was signed." in words
    assert "Valid, authentic and sufficient." in words  # what was typed stays
    assert not SampleReview.objects.exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SAMPLE_REVIEWED).count() == before


def test_disagreeing_without_actions_is_shown_beside_the_field(client, iqa, interim_item):
    client.force_login(iqa)
    response = sign(client, interim_item, outcome=SampleReview.Outcome.DISAGREE)
    assert response.status_code == 400
    assert "Say what the assessor must do: disagreeing needs actions for the assessor." in text(response)
    assert not SampleReview.objects.exists()


def test_a_stale_page_is_refused_and_shown_afresh(client, iqa, assessor, enrolment, interim_item):
    client.force_login(iqa)
    seen = current_fingerprint(interim_item)
    decided(enrolment, assessor, ("2.1",))
    response = sign(client, interim_item, seen=seen)
    assert response.status_code == 400
    assert "changed while you were reviewing it" in text(response)
    assert f'value="{current_fingerprint(interim_item)}"' in response.content.decode()
    assert not SampleReview.objects.exists()


def test_the_summative_review_page_shows_the_sign_off(client, iqa, summative_item, assessor):
    client.force_login(iqa)
    words = text(client.get(item_url(summative_item)))
    assert f"Signed off by {assessor.get_full_name()}" in words
    assert "relied on at sign-off" in words


def test_another_iqa_gets_404_for_the_item(client, colleague_iqa, interim_item):
    client.force_login(colleague_iqa)
    assert client.get(item_url(interim_item)).status_code == 404
    assert sign(client, interim_item).status_code == 404
    assert not SampleReview.objects.exists()


def test_the_learner_may_not_read_quality_records(client, learner, interim_item):
    client.force_login(learner)
    assert client.get(item_url(interim_item)).status_code == 403


def test_the_assessor_reads_the_review_but_cannot_sign(client, assessor, iqa, interim_item):
    review(interim_item, iqa, SampleReview.Outcome.DISAGREE, actions="Add dates to 1.2 feedback.")
    client.force_login(assessor)
    response = client.get(item_url(interim_item))
    assert response.status_code == 200
    assert "Add dates to 1.2 feedback." in text(response)
    assert 'name="password"' not in response.content.decode()
    assert sign(client, interim_item, password=PASSWORD).status_code == 403
    assert SampleReview.objects.count() == 1


def test_the_iqa_who_decided_sees_why_there_is_no_form(client, former_assessor, enrolment, plan_unit):
    item = SampleItem.objects.create(
        plan=new_plan(former_assessor),
        enrolment=enrolment,
        unit=plan_unit,
        assessor=former_assessor,
        added_by=former_assessor,
        added_at=timezone.now(),
    )
    client.force_login(former_assessor)
    response = client.get(item_url(item))
    assert "You cannot review this unit" in text(response)
    assert 'name="password"' not in response.content.decode()


# --- The assessor's home ---------------------------------------------------------------------------


def test_the_assessor_sees_iqa_feedback_and_actions_on_home(client, assessor, iqa, interim_item, plan_unit):
    due = timezone.localdate() + datetime.timedelta(days=10)
    review(interim_item, iqa, SampleReview.Outcome.DISAGREE, actions="Give dated feedback on 1.2.", action_due=due)
    client.force_login(assessor)
    response = client.get(HOME)
    words = text(response)
    assert "IQA feedback" in words
    assert "Disagree: actions for the assessor" in words
    assert "Decisions are valid and sufficient." in words
    assert "Give dated feedback on 1.2." in words
    assert f"due {due:%-d %b %Y}" in words
    assert f'href="{item_url(interim_item)}"' in response.content.decode()


def test_other_roles_have_no_iqa_feedback_section(client, learner, iqa, interim_item):
    review(interim_item, iqa)
    for person in (learner, iqa):
        client.force_login(person)
        assert 'id="iqa-feedback"' not in client.get(HOME).content.decode()


@pytest.mark.parametrize("learners", [0, 3])
def test_the_assessors_home_query_count_does_not_grow_with_reviews(
    client, assessor, iqa, centre, interim_item, django_assert_num_queries, learners
):
    review(interim_item, iqa)
    grow(centre, iqa, assessor, learners)
    client.force_login(assessor)
    # session, user, unread notices, enrolments, enrolled units, 4 for progress (reusing the units), IQA feedback
    with django_assert_num_queries(10):
        response = client.get(HOME)
    assert response.content.decode().count('class="list-group-item iqa-review"') == learners + 1


# --- Query counts of the pages ---------------------------------------------------------------------


@pytest.mark.parametrize("learners", [0, 3])
def test_the_plan_page_query_count_does_not_grow(
    client, iqa, assessor, centre, interim_item, django_assert_num_queries, learners
):
    grow(centre, iqa, assessor, learners)
    client.force_login(iqa)
    # session, user, plan, then coverage: plan learners, units, targets, portfolios, their units, items,
    # decisions, sign-offs
    with django_assert_num_queries(11):
        response = client.get(plan_url(interim_item.plan))
    assert response.content.decode().count("Add to sample") == learners  # each extra learner's MANAGE unit


@pytest.mark.parametrize("pieces", [1, 4])
def test_the_review_page_query_count_does_not_grow(
    client, iqa, assessor, enrolment, interim_item, django_assert_num_queries, pieces
):
    for _ in range(pieces - 1):
        decided(enrolment, assessor, ("1.1", "2.1"), unit_key=PLAN)
        decided(enrolment, assessor, ("1.1",), unit_key=MANAGE)
    client.force_login(iqa)
    # session, user, item, then the page: claims, decisions, files, declarations, sign-off, reviews
    with django_assert_num_queries(9):
        response = client.get(item_url(interim_item))
    assert response.content.decode().count('<article class="card mb-3" aria-labelledby="version-') == pieces
    assert Unit.objects.filter(key=PLAN).exists()


# --- Quality records on the portfolio page ---------------------------------------------------------

QUALITY_SECTION = 'id="quality-assurance"'


def test_an_eqa_with_access_finds_the_iqa_records_on_the_portfolio(
    client, enrolment, assessor, iqa, eqa, centre_admin, plan_unit, summative_item
):
    review(summative_item, iqa)
    decided(enrolment, assessor, ("1.1",), unit_key=MANAGE)
    manage = Unit.objects.get(key=MANAGE)
    interim = sample_add(plan=new_plan(iqa, title="Interim"), enrolment=enrolment, unit=manage, by=iqa)
    due = timezone.localdate() + datetime.timedelta(days=14)
    review(interim, iqa, SampleReview.Outcome.DISAGREE, actions="Give dated feedback on 1.1.", action_due=due)
    soon = timezone.localdate() + datetime.timedelta(days=30)
    access_grant(admin=centre_admin, eqa=eqa, whole_centre=False, learners=[enrolment.learner], expires_on=soon)
    client.force_login(eqa)
    response = client.get(portfolio_url(enrolment))
    assert response.status_code == 200
    page = response.content.decode()
    assert QUALITY_SECTION in page
    words = text(response)
    today = f"{timezone.localdate():%-d %b %Y}"
    iqa_name = iqa.get_full_name()
    disagreed = "Interim (work in progress) Disagree: actions for the assessor"
    assert f"{manage.title} {disagreed} {iqa_name} {today} Give dated feedback on 1.1." in words
    assert f"Due {due:%-d %b %Y}" in words
    assert (
        f"{plan_unit.title} Summative (signed-off unit) Agree with the assessor ★ Ready to claim {iqa_name} {today}"
        in words
    )
    for item in (interim, summative_item):
        assert f'href="{item_url(item)}"' in page
    assert client.get(item_url(summative_item)).status_code == 200  # and the link opens for them


def test_a_sampled_unit_not_reviewed_yet_says_so(client, enrolment, assessor, interim_item, plan_unit):
    client.force_login(assessor)
    words = text(client.get(portfolio_url(enrolment)))
    assert f"{plan_unit.title} Interim (work in progress) Not reviewed yet Read the sample" in words
    assert "Ready to claim" not in words


def test_a_portfolio_never_sampled_says_so_to_those_who_may_read_quality_records(client, enrolment, centre_admin):
    client.force_login(centre_admin)
    response = client.get(portfolio_url(enrolment))
    assert QUALITY_SECTION in response.content.decode()
    assert "No IQA sampling recorded yet." in text(response)


def test_the_learner_has_no_quality_assurance_section(client, learner, enrolment, iqa, summative_item):
    review(summative_item, iqa)
    client.force_login(learner)
    page = client.get(portfolio_url(enrolment)).content.decode()
    assert QUALITY_SECTION not in page
    assert "Quality assurance" not in page
    assert item_url(summative_item) not in page


def sample_both_units(enrolment: Enrolment, assessor: User, iqa: User, plans: int) -> None:
    """Both units decided, then sampled in `plans` interim plans, each reviewed (more rows, not more queries)."""
    decided(enrolment, assessor, ("1.1",))
    decided(enrolment, assessor, ("1.1",), unit_key=MANAGE)
    for n in range(plans):
        plan = new_plan(iqa, title=f"Plan {n}")
        for unit in Unit.objects.all():
            item = sample_add(plan=plan, enrolment=enrolment, unit=unit, by=iqa)
            review(item, iqa, SampleReview.Outcome.DISAGREE, actions="Add feedback.")


@pytest.mark.parametrize("plans", [1, 3])
def test_the_portfolio_page_reads_quality_records_in_one_query(
    client, enrolment, assessor, iqa, django_assert_num_queries, plans
):
    sample_both_units(enrolment, assessor, iqa, plans)
    client.force_login(assessor)
    # The learner's page, plus the sampled units with their latest reviews
    with django_assert_num_queries(PORTFOLIO_PAGE_QUERIES + 1):
        response = client.get(portfolio_url(enrolment))
    assert response.content.decode().count('<tr class="quality-record">') == 2 * plans


@pytest.mark.parametrize("plans", [0, 2])
def test_the_learner_pays_no_query_for_quality_records(
    client, enrolment, learner, assessor, iqa, django_assert_num_queries, plans
):
    sample_both_units(enrolment, assessor, iqa, plans)
    client.force_login(learner)
    with django_assert_num_queries(PORTFOLIO_PAGE_QUERIES):
        client.get(portfolio_url(enrolment))
