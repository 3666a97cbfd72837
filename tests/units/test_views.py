import uuid

import pytest
from django.urls import reverse

from tests.factories import (
    AssessmentCriterionFactory,
    LearningOutcomeFactory,
    UnitFactory,
    qualification_with_units,
)
from units.models import Qualification, Unit

PLAN = "plan-organise-and-control-customer-service-operations"
MANAGE = "manage-customer-service-operations"


@pytest.fixture
def plan(specifications):
    return Unit.objects.get(key=PLAN)


@pytest.mark.parametrize("name", ["units:catalogue", "units:unit", "units:qualification"])
def test_catalogue_pages_ask_anonymous_visitors_to_log_in(client, specifications, name):
    args = [] if name == "units:catalogue" else [uuid.uuid4()]
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["learner", "assessor", "iqa", "eqa", "centre_admin", "staff"])
def test_every_role_reads_the_catalogue(client, plan, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("units:catalogue")).status_code == 200
    assert client.get(reverse("units:unit", args=[plan.uuid])).status_code == 200


def test_a_user_without_a_role_is_refused(client, plan, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x-long-password")
    client.force_login(nobody)
    assert client.get(reverse("units:unit", args=[plan.uuid])).status_code == 403


def test_unknown_unit_is_404(client, learner, specifications):
    client.force_login(learner)
    assert client.get(reverse("units:unit", args=[uuid.uuid4()])).status_code == 404
    assert client.get(reverse("units:qualification", args=[uuid.uuid4()])).status_code == 404


def test_units_are_not_addressable_by_integer_id(client, learner, plan):
    client.force_login(learner)
    assert client.get(f"/units/{plan.pk}/").status_code == 404


def test_unit_page_shows_the_whole_specification(client, learner, plan):
    client.force_login(learner)
    html = client.get(reverse("units:unit", args=[plan.uuid])).content.decode()

    for text in [
        "Plan, organise and control customer service operations",
        "analyse customer expectations and define the service offer designed to meet those expectations",
        "explain how to identify and evaluate possible solutions",  # 4.10
        "Candidates should have an understanding of:",
        "cultural differences",
        "Candidates must be able to explain:",
        "supervisors or team leaders",  # evidence requirement 6b
        "Simulation for performance evidence:</strong> not allowed",
        "429",
        "B13",
        "CU782",
        "Common mistakes",
        "From a revision guide, not part of the awarding body",
        "Knowledge outcome",
        "Competence outcome",
    ]:
        assert text in html, text
    # Natural order: 4.9 before 4.10, and 4.10 after 4.1.
    assert html.index(">4.9<") < html.index(">4.10<")
    assert html.index(">1.1<") < html.index(">4.10<")


def test_manage_unit_page_shows_guidance_and_nos(client, learner, specifications):
    client.force_login(learner)
    unit = Unit.objects.get(key=MANAGE)
    html = client.get(reverse("units:unit", args=[unit.uuid])).content.decode()
    assert "M/506/2898" in html
    assert "CFACSD20" in html
    assert "Manage customer service performance" in html
    assert "Range should cover both performance and outcome based methods" in html
    assert "Simulation for performance evidence:</strong> not stated" in html


def test_qualification_page_lists_groups_and_units_not_loaded(client, learner, specifications):
    client.force_login(learner)
    qualification = Qualification.objects.get()
    html = client.get(reverse("units:qualification", args=[qualification.uuid])).content.decode()
    assert "Level 4 NVQ Diploma in Business and Administration (QCF)" in html
    assert "Manage Personal and Professional Development" in html
    assert "(specification not loaded)" in html
    assert "Plan, organise and control customer service operations" in html
    assert "Not stated in the loaded specification" in html


def _make_units(count: int) -> list[Unit]:
    units = []
    for _ in range(count):
        unit = UnitFactory()
        outcome = LearningOutcomeFactory(unit=unit, number=1)
        AssessmentCriterionFactory.create_batch(3, outcome=outcome)
        units.append(unit)
    return units


@pytest.mark.parametrize("count", [1, 12])
def test_catalogue_query_count_does_not_grow_with_rows(client, learner, django_assert_num_queries, count):
    qualification_with_units(*_make_units(count))
    qualification_with_units(*_make_units(count))
    client.force_login(learner)
    # session, user, qualifications, groups, memberships+units, units, codes
    with django_assert_num_queries(7):
        response = client.get(reverse("units:catalogue"))
    assert response.status_code == 200


@pytest.mark.parametrize("criteria", [1, 15])
def test_unit_page_query_count_does_not_grow_with_criteria(client, learner, django_assert_num_queries, criteria):
    unit = UnitFactory()
    for number in (1, 2, 3):
        outcome = LearningOutcomeFactory(unit=unit, number=number)
        AssessmentCriterionFactory.create_batch(criteria, outcome=outcome)
    client.force_login(learner)
    # session, user, unit, codes, nos, outcomes, criteria, knowledge sections, requirements,
    # guidance, memberships (points and items are not queried when there are no parents)
    with django_assert_num_queries(11):
        response = client.get(reverse("units:unit", args=[unit.uuid]))
    assert response.status_code == 200


ADMIN_MODELS = [
    "unit",
    "learningoutcome",
    "assessmentcriterion",
    "knowledgesection",
    "evidencerequirement",
    "rulegroup",
    "qualification",
]


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_lists_and_opens_every_specification_model(admin_client, specifications, model):
    changelist = admin_client.get(reverse(f"admin:units_{model}_changelist"))
    assert changelist.status_code == 200
    obj = changelist.context["cl"].result_list[0]
    assert admin_client.get(reverse(f"admin:units_{model}_change", args=[obj.pk])).status_code == 200


def test_admin_corrects_a_criterion(admin_client, plan):
    from units.models import AssessmentCriterion

    criterion = AssessmentCriterion.objects.get(outcome__unit=plan, number="2.3")
    url = reverse("admin:units_assessmentcriterion_change", args=[criterion.pk])
    response = admin_client.post(
        url,
        {
            "outcome": criterion.outcome_id,
            "ordinal": 3,
            "number": "2.3",
            "text": "ensure that planned resources are available when required (corrected)",
            "guidance": "",
        },
    )
    assert response.status_code == 302
    criterion.refresh_from_db()
    assert criterion.text.endswith("(corrected)")
