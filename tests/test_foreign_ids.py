"""Every form that takes an id, given someone else's: another centre's learner, portfolio, assessor
or criterion. The person is allowed to use the form; the id is not theirs to use. Nothing is created
or changed, the answer is a clear refusal, and the id's owner leaks nowhere into the page.
"""

import datetime

import pytest
from django.urls import reverse

from accounts.models import AccessGrant, User
from assessments.models import AssessmentPlan, SampleItem, SamplingPlan
from assessments.plan_forms import ACTIVITIES_PREFIX
from portfolio.models import Assignment, Claim, Enrolment
from tests.factories import AssessmentCriterionFactory, UserFactory
from tests.helpers import enrol
from tests.test_permissions import url_for
from tests.test_permissions import world as world  # the fixture, shared

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere(world, other_centre):
    """Another centre's learner on a portfolio, with its own assessor."""
    assessor = UserFactory(role=User.Role.ASSESSOR, centre=other_centre)
    return enrol(world["people"]["outsider"], assessor=assessor)


def refused(response, *words: str) -> str:
    assert response.status_code in (200, 400, 404), response.status_code
    text = response.content.decode()
    for word in words:
        assert word in text
    return text


def test_a_grant_for_another_centres_learner_is_refused(client, world, elsewhere):
    client.force_login(world["people"]["centre_admin"])
    before = AccessGrant.objects.count()
    response = client.post(
        reverse("portfolio:grant_create"),
        {
            "eqa": world["people"]["eqa"].uuid,
            "scope": "learners",
            "learners": [elsewhere.learner.uuid],
            "expires_on": datetime.date.today() + datetime.timedelta(days=30),
        },
    )
    text = refused(response, "Choose learners at your centre.")
    assert elsewhere.learner.get_full_name() not in text
    assert AccessGrant.objects.count() == before


def test_reassigning_to_another_centres_assessor_is_refused(client, world, elsewhere):
    client.force_login(world["people"]["centre_admin"])
    before = list(Assignment.objects.values_list("pk", "person_id"))
    response = client.post(
        url_for("portfolio:reassign", world),
        {
            "reassign-role": Assignment.Role.ASSESSOR,
            "reassign-person": elsewhere.assessor.uuid,
            "reassign-reason": "Moving on",
        },
        follow=True,
    )
    refused(response, "Choose an assessor or IQA at your centre.")
    assert list(Assignment.objects.values_list("pk", "person_id")) == before
    assert Enrolment.objects.get(pk=world["enrolment"].pk).assessor == world["people"]["assessor"]


def test_enrolling_another_centres_learner_is_refused(client, world, elsewhere):
    client.force_login(world["people"]["centre_admin"])
    before = Enrolment.objects.count()
    response = client.post(
        reverse("portfolio:enrol"),
        {"learner": elsewhere.learner.uuid, "qualification": world["enrolment"].qualification.uuid},
    )
    refused(response, "Choose a learner at your centre.")
    assert Enrolment.objects.count() == before


def test_sampling_another_centres_portfolio_is_refused(client, world, elsewhere):
    iqa = world["people"]["iqa"]
    client.force_login(iqa)
    plan = world["sampling_plan"]
    before = SampleItem.objects.count()
    response = client.post(
        reverse("assessments:sample_add", args=[plan.uuid]),
        {"enrolment": elsewhere.uuid, "unit": elsewhere.units.first().uuid},
        follow=True,
    )
    assert response.status_code in (200, 404)
    assert SampleItem.objects.count() == before
    assert elsewhere.learner.get_full_name() not in response.content.decode()


def test_a_sampling_plan_over_another_centres_portfolio_is_refused(client, world, elsewhere):
    client.force_login(world["people"]["iqa"])
    before = SamplingPlan.objects.count()
    response = client.post(
        reverse("assessments:sampling_plan_create"),
        {"title": "Sneaky", "stage": "interim", "default_rate": 25, "enrolments": [str(elsewhere.uuid)]},
    )
    refused(response, "Choose learners whose portfolios you quality-assure.")
    assert SamplingPlan.objects.count() == before


def test_mapping_to_a_criterion_of_a_unit_not_on_the_portfolio_adds_nothing(client, world):
    learner = world["people"]["owner"]
    foreign = AssessmentCriterionFactory()  # on a unit of its own, not on this portfolio
    evidence = world["evidence"]
    client.force_login(learner)
    client.post(
        reverse("portfolio:evidence_mapping", args=[evidence.uuid]),
        {f"claim-{foreign.uuid}": "on", f"account-{foreign.uuid}": "It shows this"},
    )
    assert not Claim.objects.filter(criterion=foreign).exists()


def test_exporting_another_centres_portfolio_is_not_found(client, world, elsewhere):
    client.force_login(world["people"]["eqa"])  # granted the owner only, at the other centre
    response = client.post(reverse("portfolio:export_create", args=[elsewhere.uuid]))
    assert response.status_code == 404
    assert not elsewhere.export_jobs.exists()


def test_an_assessment_plan_aimed_at_another_units_criterion_is_refused(client, world):
    foreign = AssessmentCriterionFactory()
    client.force_login(world["people"]["assessor"])
    before = AssessmentPlan.objects.count()
    prefix = ACTIVITIES_PREFIX
    response = client.post(
        url_for("assessments:plan_create", world),
        {
            "title": "Spring plan",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-description": "Observe a briefing",
            f"{prefix}-0-target_date": "2027-01-15",
            f"{prefix}-0-criteria": [str(foreign.uuid)],
        },
    )
    refused(response, "Choose criteria from this portfolio&#x27;s units.")
    assert AssessmentPlan.objects.count() == before
