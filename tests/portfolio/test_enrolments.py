"""Enrolling learners and (re)assigning assessors and IQAs: the services' rules, then the pages."""

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from portfolio.demo import DEMO_QUALIFICATION_KEY, demo_data_ensure
from portfolio.forms import ReassignForm
from portfolio.models import Assignment, Enrolment
from portfolio.services.enrolments import BACKFILL_REASON, enrolment_create, enrolment_reassign
from portfolio.views.enrolments import assignments_context, assignments_for, reassign_form_for
from tests.factories import EnrolmentFactory, QualificationFactory, UnitFactory, UserFactory, qualification_with_units
from units.models import GroupUnit, Qualification, RuleGroup, Unit

START = datetime.date(2026, 9, 1)
END = datetime.date(2027, 8, 31)
ASSESSOR = Assignment.Role.ASSESSOR
IQA = Assignment.Role.IQA


@dataclass(frozen=True)
class Rules:
    """A qualification with rules of combination: a 5-credit mandatory unit, and optional units of
    10, 5 and 10 credits of which at least 15 credits are needed, 25 credits in all."""

    qualification: Qualification
    core: Unit
    option_a: Unit
    option_b: Unit
    option_c: Unit


@pytest.fixture
def rules(db) -> Rules:
    qualification = QualificationFactory(title="Diploma in Testing", minimum_credits=25)
    core = UnitFactory(title="Core unit", credit_value=5)
    a, b, c = (UnitFactory(title=f"Option {x}", credit_value=n) for x, n in (("A", 10), ("B", 5), ("C", 10)))
    mandatory = RuleGroup.objects.create(
        qualification=qualification, position=0, name="Mandatory units", kind=RuleGroup.Kind.MANDATORY
    )
    optional = RuleGroup.objects.create(
        qualification=qualification,
        position=1,
        name="Optional units",
        kind=RuleGroup.Kind.OPTIONAL,
        minimum_credits=15,
    )
    GroupUnit.objects.create(group=mandatory, unit=core, position=0)
    GroupUnit.objects.bulk_create(GroupUnit(group=optional, unit=u, position=i) for i, u in enumerate((a, b, c)))
    return Rules(qualification, core, a, b, c)


@pytest.fixture
def enrol(rules, learner, assessor, iqa, centre_admin):
    """Call the service with a valid enrolment, overriding what a test is about."""

    def call(**overrides: Any) -> Enrolment:
        arguments = {
            "learner": learner,
            "qualification": rules.qualification,
            "units": [rules.option_a, rules.option_c],
            "assessor": assessor,
            "iqa": iqa,
            "start_date": START,
            "planned_end_date": END,
            "by": centre_admin,
        }
        return enrolment_create(**(arguments | overrides))

    return call


def errors_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# --- enrolment_create -------------------------------------------------------------------------


def test_enrolment_includes_the_chosen_units_and_every_mandatory_unit(enrol, rules, learner, centre):
    enrolment = enrol(units=[rules.option_a, rules.option_c])

    assert set(enrolment.units.all()) == {rules.core, rules.option_a, rules.option_c}
    assert enrolment.centre == centre
    assert enrolment.status == Enrolment.Status.ACTIVE


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (
            ["option_a"],
            [
                "Optional units: 10 credits chosen, at least 15 needed.",
                "Diploma in Testing as a whole: 15 credits chosen, at least 25 needed.",
            ],
        ),
        (["option_a", "option_b"], ["Diploma in Testing as a whole: 20 credits chosen, at least 25 needed."]),
        (
            [],
            [
                "Optional units: 0 credits chosen, at least 15 needed.",
                "Diploma in Testing as a whole: 5 credits chosen, at least 25 needed.",
            ],
        ),
    ],
)
def test_credit_rules_say_exactly_what_is_short(enrol, rules, chosen, expected):
    with pytest.raises(ValidationError) as excinfo:
        enrol(units=[getattr(rules, name) for name in chosen])
    assert errors_of(excinfo) == {"units": expected}
    assert not Enrolment.objects.exists()


def test_credits_are_counted_once_the_rules_are_met(enrol, rules):
    enrolment = enrol(units=[rules.option_a, rules.option_c])
    assert sum(u.credit_value for u in enrolment.units.all()) == 25


def test_units_outside_the_qualification_are_refused(enrol, rules):
    stray = UnitFactory(title="Unrelated unit")
    with pytest.raises(ValidationError) as excinfo:
        enrol(units=[rules.option_a, rules.option_c, stray])
    assert errors_of(excinfo) == {"units": ["Not part of Diploma in Testing: Unrelated unit."]}


def test_at_least_one_unit_is_needed(enrol):
    qualification = qualification_with_units(UnitFactory())  # one optional group, no minimums
    with pytest.raises(ValidationError) as excinfo:
        enrol(qualification=qualification, units=[])
    assert errors_of(excinfo) == {"units": ["Choose at least one unit."]}


def test_the_real_ocr_qualification_enrols_on_its_optional_units(enrol, specifications):
    qualification = Qualification.objects.get(key=DEMO_QUALIFICATION_KEY)
    units = list(Unit.objects.filter(rule_groups__qualification=qualification))
    assert len(units) == 2
    enrolment = enrol(qualification=qualification, units=units)
    assert set(enrolment.units.all()) == set(units)


def test_an_assessor_from_another_centre_is_refused(enrol, other_centre):
    stranger = UserFactory(role=User.Role.ASSESSOR, centre=other_centre, first_name="Sam", last_name="Stone")
    with pytest.raises(ValidationError) as excinfo:
        enrol(assessor=stranger)
    assert errors_of(excinfo) == {"assessor": ["Sam Stone works at another centre."]}


def test_people_must_have_the_role_they_are_given(enrol, iqa, assessor):
    with pytest.raises(ValidationError) as excinfo:
        enrol(assessor=iqa, iqa=assessor)
    assert set(errors_of(excinfo)) == {"assessor", "iqa"}
    assert "does not have the assessor role" in errors_of(excinfo)["assessor"][0]


def test_only_a_learner_at_a_centre_can_be_enrolled(enrol, assessor):
    with pytest.raises(ValidationError) as excinfo:
        enrol(learner=assessor)
    assert "is not a learner at a centre" in errors_of(excinfo)["learner"][0]


def test_a_second_active_enrolment_on_the_same_qualification_is_refused(enrol, learner):
    first = enrol()
    with pytest.raises(ValidationError) as excinfo:
        enrol()
    assert errors_of(excinfo) == {
        "qualification": [
            f"{learner} already has an active enrolment on Diploma in Testing (started 1 September 2026)."
        ]
    }

    first.status = Enrolment.Status.WITHDRAWN
    first.save()
    assert enrol().status == Enrolment.Status.ACTIVE


@pytest.mark.parametrize("end", [START, START - datetime.timedelta(days=1)])
def test_the_planned_end_must_be_after_the_start(enrol, end):
    with pytest.raises(ValidationError) as excinfo:
        enrol(planned_end_date=end)
    assert errors_of(excinfo) == {"planned_end_date": ["The planned end date must be after the start date."]}


def test_every_problem_is_reported_at_once_and_nothing_is_written(enrol, rules, other_centre):
    with pytest.raises(ValidationError) as excinfo:
        enrol(
            units=[],
            iqa=UserFactory(role=User.Role.IQA, centre=other_centre),
            planned_end_date=START,
        )
    assert set(errors_of(excinfo)) == {"units", "iqa", "planned_end_date"}
    assert not Enrolment.objects.exists()
    assert not Assignment.objects.exists()


def test_enrolment_records_the_first_assessor_and_iqa(enrol, assessor, iqa, centre_admin):
    enrolment = enrol()
    rows = {a.role: a for a in Assignment.objects.filter(enrolment=enrolment)}
    assert set(rows) == {ASSESSOR, IQA}
    assert rows[ASSESSOR].person == assessor
    assert rows[IQA].person == iqa
    for row in rows.values():
        assert row.assigned_by == centre_admin
        assert row.started_at is not None
        assert row.ended_at is None


def test_no_assignment_rows_for_people_not_yet_assigned(enrol):
    enrolment = enrol(iqa=None)
    assert list(enrolment.assignments.values_list("role", flat=True)) == [ASSESSOR]
    assert enrolment.iqa is None


def test_the_demo_enrolment_has_its_assignment_history(specifications):
    demo_data_ensure()
    enrolment = Enrolment.objects.get(learner__username="learner")
    assert {(a.role, a.person.username) for a in enrolment.assignments.all()} == {
        (ASSESSOR, "assessor"),
        (IQA, "iqa"),
    }


# --- enrolment_reassign -----------------------------------------------------------------------


@pytest.fixture
def enrolment(enrol) -> Enrolment:
    return enrol()


@pytest.fixture
def new_assessor(centre) -> User:
    return UserFactory(role=User.Role.ASSESSOR, centre=centre, first_name="Nadia", last_name="Novak")


def test_reassigning_ends_the_old_assignment_and_appends_the_new(enrolment, assessor, new_assessor, centre_admin):
    updated = enrolment_reassign(
        enrolment=enrolment, role=ASSESSOR, person=new_assessor, by=centre_admin, reason="Asha has left the centre"
    )

    assert updated.assessor == new_assessor
    enrolment.refresh_from_db()
    assert enrolment.assessor == new_assessor
    old, new = Assignment.objects.filter(enrolment=enrolment, role=ASSESSOR).order_by("started_at", "id")
    assert (old.person, new.person) == (assessor, new_assessor)
    assert old.ended_at == new.started_at
    assert old.reason == ""  # history is ended, not rewritten
    assert new.ended_at is None
    assert new.assigned_by == centre_admin
    assert new.reason == "Asha has left the centre"
    # The IQA's history is untouched.
    assert Assignment.objects.get(enrolment=enrolment, role=IQA).ended_at is None


def test_reassigning_twice_keeps_the_whole_history(enrolment, assessor, new_assessor, centre_admin):
    enrolment_reassign(enrolment=enrolment, role=ASSESSOR, person=new_assessor, by=centre_admin, reason="Leave")
    enrolment_reassign(enrolment=enrolment, role=ASSESSOR, person=assessor, by=centre_admin, reason="Back")
    rows = list(Assignment.objects.filter(enrolment=enrolment, role=ASSESSOR).order_by("started_at", "id"))
    assert [r.person for r in rows] == [assessor, new_assessor, assessor]
    assert [r.ended_at is None for r in rows] == [False, False, True]


def test_reassigning_to_the_same_person_is_refused(enrolment, assessor, centre_admin):
    with pytest.raises(ValidationError) as excinfo:
        enrolment_reassign(enrolment=enrolment, role=ASSESSOR, person=assessor, by=centre_admin, reason="No change")
    assert errors_of(excinfo) == {"person": [f"{assessor} is already the assessor for this portfolio."]}
    assert Assignment.objects.filter(enrolment=enrolment, role=ASSESSOR).count() == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(enrolment, new_assessor, centre_admin, reason):
    with pytest.raises(ValidationError) as excinfo:
        enrolment_reassign(enrolment=enrolment, role=ASSESSOR, person=new_assessor, by=centre_admin, reason=reason)
    assert list(errors_of(excinfo)) == ["reason"]
    enrolment.refresh_from_db()
    assert enrolment.assessor != new_assessor


def test_reassigning_to_the_wrong_role_or_another_centre_is_refused(
    enrolment, new_assessor, other_centre, centre_admin
):
    with pytest.raises(ValidationError, match="does not have the internal quality assurer role"):
        enrolment_reassign(enrolment=enrolment, role=IQA, person=new_assessor, by=centre_admin, reason="Cover")
    stranger = UserFactory(role=User.Role.ASSESSOR, centre=other_centre)
    with pytest.raises(ValidationError, match="works at another centre"):
        enrolment_reassign(enrolment=enrolment, role=ASSESSOR, person=stranger, by=centre_admin, reason="Cover")
    assert Assignment.objects.filter(enrolment=enrolment).count() == 2


def test_unassigning_ends_the_assignment_and_records_why(enrolment, iqa, centre_admin):
    enrolment_reassign(enrolment=enrolment, role=IQA, person=None, by=centre_admin, reason="Ian has retired")

    enrolment.refresh_from_db()
    assert enrolment.iqa is None
    row = Assignment.objects.get(enrolment=enrolment, role=IQA)
    assert row.person == iqa
    assert row.ended_at is not None
    assert (row.ended_by, row.end_reason) == (centre_admin, "Ian has retired")

    with pytest.raises(ValidationError, match="No IQA is assigned"):
        enrolment_reassign(enrolment=enrolment, role=IQA, person=None, by=centre_admin, reason="Again")


def test_a_portfolio_enrolled_before_history_was_kept_gets_its_first_row(learner, assessor, new_assessor, centre_admin):
    legacy = EnrolmentFactory(learner=learner, assessor=assessor)  # no Assignment rows
    enrolment_reassign(enrolment=legacy, role=ASSESSOR, person=new_assessor, by=centre_admin, reason="Caseload")
    old, new = Assignment.objects.filter(enrolment=legacy).order_by("started_at", "id")
    assert (old.person, old.assigned_by, old.reason) == (assessor, None, BACKFILL_REASON)
    assert old.ended_at == new.started_at
    assert new.person == new_assessor


@pytest.mark.skipif(not connection.features.has_select_for_update, reason="SQLite serialises writes instead")
def test_reassigning_locks_the_enrolment_row(enrolment, new_assessor, centre_admin):
    with CaptureQueriesContext(connection) as queries:
        enrolment_reassign(enrolment=enrolment, role=ASSESSOR, person=new_assessor, by=centre_admin, reason="Cover")
    locks = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert locks
    assert '"portfolio_enrolment"' in locks[0]


# --- the enrol page ---------------------------------------------------------------------------


ENROL_URL = reverse("portfolio:enrol")


@pytest.fixture
def admin_client(client, centre_admin) -> Client:
    client.force_login(centre_admin)
    return client


@pytest.fixture
def form_data(rules, learner, assessor, iqa) -> dict[str, Any]:
    return {
        "learner": str(learner.uuid),
        "qualification": str(rules.qualification.uuid),
        "units": [str(rules.option_a.uuid), str(rules.option_c.uuid)],
        "assessor": str(assessor.uuid),
        "iqa": str(iqa.uuid),
        "start_date": "2026-09-01",
        "planned_end_date": "2027-08-31",
    }


def test_the_enrol_page_lists_this_centres_people_and_the_units_by_group(
    admin_client, rules, learner, assessor, iqa, outsider
):
    html = admin_client.get(ENROL_URL).content.decode()

    for person in (learner, assessor, iqa):
        assert f'value="{person.uuid}"' in html
    assert str(outsider.uuid) not in html
    assert "<legend" in html
    assert "Mandatory units" in html
    assert "Optional units" in html
    assert "at least 15 credits" in html
    assert "(mandatory)" in html
    assert 'type="date"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    # Public ids only: no integer primary keys as values.
    assert f'value="{learner.pk}"' not in html


def test_the_mandatory_unit_is_shown_checked_and_cannot_be_unticked(admin_client, rules):
    html = admin_client.get(ENROL_URL).content.decode()
    tag = html[html.index(f'value="{rules.core.uuid}"') :].split(">", 1)[0]
    assert "checked" in tag
    assert "disabled" in tag


def test_the_units_shown_follow_the_chosen_qualification(admin_client, rules):
    other = qualification_with_units(UnitFactory(title="Only in the other one"))
    html = admin_client.get(ENROL_URL, {"qualification": str(other.uuid)}).content.decode()
    assert "Only in the other one" in html
    assert "Option A" not in html


def test_a_centre_admin_enrols_a_learner(admin_client, form_data, learner, assessor, rules, centre_admin):
    response = admin_client.post(ENROL_URL, form_data)

    enrolment = Enrolment.objects.get(learner=learner)
    assert response.status_code == 303
    assert response["Location"] == reverse("portfolio:portfolio", args=[enrolment.uuid])
    assert set(enrolment.units.all()) == {rules.core, rules.option_a, rules.option_c}
    assert enrolment.assessor == assessor
    assert set(enrolment.assignments.values_list("assigned_by", flat=True)) == {centre_admin.pk}
    [message] = get_messages(response.wsgi_request)
    assert str(message) == f"{learner} is enrolled on Diploma in Testing."


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"planned_end_date": "2026-08-01"}, "planned_end_date", "The planned end date must be after the start date."),
        ({"units": [], "planned_end_date": "2027-08-31"}, "units", "Optional units: 0 credits chosen"),
        ({"start_date": "not a date"}, "start_date", "Enter a valid date."),
        ({"learner": ""}, "learner", "This field is required."),
    ],
)
def test_each_error_is_shown_beside_its_field_and_what_was_typed_is_kept(
    admin_client, form_data, change, field, message, learner, assessor
):
    response = admin_client.post(ENROL_URL, form_data | change)

    assert response.status_code == 200
    assert not Enrolment.objects.exists()
    html = response.content.decode()
    assert message in html
    assert f'id="id_{field}_error"' in html  # the message the field's aria-describedby points to
    assert 'aria-invalid="true"' in html or field == "units"
    # What the admin typed is still there.
    assert f'<option value="{assessor.uuid}" selected>' in html
    if field != "learner":
        assert f'<option value="{learner.uuid}" selected>' in html
    if field != "start_date":
        assert 'value="2026-09-01"' in html


def test_the_chosen_optional_units_stay_ticked_after_an_error(admin_client, form_data, rules):
    html = admin_client.post(ENROL_URL, form_data | {"planned_end_date": "2020-01-01"}).content.decode()
    tag = html[html.index(f'value="{rules.option_a.uuid}"') :].split(">", 1)[0]
    assert "checked" in tag
    tag = html[html.index(f'value="{rules.option_b.uuid}"') :].split(">", 1)[0]
    assert "checked" not in tag


def test_a_duplicate_enrolment_is_explained_on_the_page(admin_client, form_data, enrol):
    enrol()
    html = admin_client.post(ENROL_URL, form_data).content.decode()
    assert "already has an active enrolment on Diploma in Testing" in html
    assert Enrolment.objects.count() == 1


@pytest.mark.parametrize("field", ["learner", "assessor", "iqa"])
def test_another_centres_person_is_a_form_error(admin_client, form_data, other_centre, field):
    role = {"learner": User.Role.LEARNER, "assessor": User.Role.ASSESSOR, "iqa": User.Role.IQA}[field]
    stranger = UserFactory(role=role, centre=other_centre)
    response = admin_client.post(ENROL_URL, form_data | {field: str(stranger.uuid)})
    assert response.status_code == 200
    assert "at your centre" in response.context["form"].errors[field][0]
    assert not Enrolment.objects.exists()


def test_an_integer_id_is_not_accepted_for_a_person(admin_client, form_data, learner):
    response = admin_client.post(ENROL_URL, form_data | {"learner": str(learner.pk)})
    assert response.status_code == 200
    assert "learner" in response.context["form"].errors
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize("persona", ["learner", "assessor", "iqa", "eqa", "outsider"])
def test_only_centre_admins_may_enrol(client, persona, request, form_data):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(ENROL_URL).status_code == 403
    assert client.post(ENROL_URL, form_data).status_code == 403
    assert not Enrolment.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(ENROL_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_without_a_centre_cannot_enrol(client, staff):
    client.force_login(staff)
    assert client.get(ENROL_URL).status_code == 403


def test_enrolling_needs_the_csrf_token(centre_admin, form_data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(centre_admin)
    assert client.post(ENROL_URL, form_data).status_code == 403
    assert not Enrolment.objects.exists()


def test_the_enrol_page_query_count_does_not_grow_with_learners(admin_client, rules, centre, django_assert_num_queries):
    UserFactory.create_batch(2, role=User.Role.LEARNER, centre=centre)
    # session, user, the user's centre, learners, assessors, IQAs, qualifications (select), the
    # qualification shown, its rule groups, their units
    with django_assert_num_queries(10):
        small = admin_client.get(ENROL_URL)
    UserFactory.create_batch(8, role=User.Role.LEARNER, centre=centre)
    with django_assert_num_queries(10):
        large = admin_client.get(ENROL_URL)
    assert small.content.decode().count("<option") + 8 == large.content.decode().count("<option")


# --- reassignment and the assignments panel ---------------------------------------------------


def reassign_url(enrolment: Enrolment) -> str:
    return reverse("portfolio:reassign", args=[enrolment.uuid])


def portfolio_url(enrolment: Enrolment) -> str:
    return reverse("portfolio:portfolio", args=[enrolment.uuid])


@pytest.fixture
def reassign_data(new_assessor) -> dict[str, str]:
    return {
        "reassign-role": ASSESSOR,
        "reassign-person": str(new_assessor.uuid),
        "reassign-reason": "Asha has left the centre",
    }


def render_panel(user: User, enrolment: Enrolment) -> str:
    return render_to_string("portfolio/enrolments/_assignments.html", assignments_context(user, enrolment))


def test_a_centre_admin_reassigns_and_the_history_shows_both(
    admin_client, centre_admin, enrolment, reassign_data, assessor, new_assessor
):
    response = admin_client.post(reassign_url(enrolment), reassign_data)

    assert response.status_code == 303
    assert response["Location"] == portfolio_url(enrolment)
    [message] = get_messages(response.wsgi_request)
    assert str(message) == "Nadia Novak is now the assessor."
    enrolment.refresh_from_db()
    assert enrolment.assessor == new_assessor

    html = render_panel(centre_admin, enrolment)
    assert str(assessor) in html
    assert str(new_assessor) in html
    assert "Asha has left the centre" in html
    assert html.count("<td>current</td>") == 2  # the new assessor and the unchanged IQA
    assert f'action="{reassign_url(enrolment)}"' in html


def test_a_refused_reassignment_goes_back_with_the_reason(admin_client, enrolment, assessor, reassign_data):
    response = admin_client.post(reassign_url(enrolment), reassign_data | {"reassign-person": str(assessor.uuid)})
    assert response.status_code == 303
    assert response["Location"] == portfolio_url(enrolment)
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "error"
    assert "already the assessor" in str(message)


def test_an_invalid_reassign_form_goes_back_with_the_problems(admin_client, enrolment, reassign_data):
    response = admin_client.post(reassign_url(enrolment), reassign_data | {"reassign-reason": ""})
    assert response.status_code == 303
    [message] = get_messages(response.wsgi_request)
    assert "Give a reason for the change." in str(message)
    assert Assignment.objects.filter(enrolment=enrolment).count() == 2


def test_a_centre_admin_unassigns_the_iqa_with_a_reason(admin_client, enrolment, iqa):
    data = {"reassign-role": IQA, "reassign-unassign": "on", "reassign-reason": "Ian has retired"}
    response = admin_client.post(reassign_url(enrolment), data)
    assert response.status_code == 303
    assert str(next(iter(get_messages(response.wsgi_request)))) == "The IQA is unassigned."
    enrolment.refresh_from_db()
    assert enrolment.iqa is None
    assert Assignment.objects.get(enrolment=enrolment, role=IQA).ended_at is not None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"reassign-person": ""}, "person", "Choose the new person, or tick"),
        ({"reassign-unassign": "on"}, "unassign", "not both"),
        ({"reassign-role": "eqa"}, "role", "Select a valid choice"),
    ],
)
def test_the_reassign_form_needs_one_clear_choice(centre, reassign_data, change, field, message):
    form = ReassignForm(reassign_data | change, centre_id=centre.pk)
    assert not form.is_valid()
    assert message in form.errors[field][0]


def test_another_centres_assessor_cannot_be_chosen(admin_client, enrolment, reassign_data, other_centre):
    stranger = UserFactory(role=User.Role.ASSESSOR, centre=other_centre)
    response = admin_client.post(reassign_url(enrolment), reassign_data | {"reassign-person": str(stranger.uuid)})
    assert response.status_code == 303
    assert "at your centre" in str(next(iter(get_messages(response.wsgi_request))))
    enrolment.refresh_from_db()
    assert enrolment.assessor != stranger


def test_an_admin_of_another_centre_gets_404(client, enrolment, reassign_data, other_centre):
    client.force_login(UserFactory(role=User.Role.CENTRE_ADMIN, centre=other_centre))
    assert client.post(reassign_url(enrolment), reassign_data).status_code == 404
    assert Assignment.objects.filter(enrolment=enrolment).count() == 2


@pytest.mark.parametrize("persona", ["learner", "assessor", "iqa"])
def test_people_who_see_the_portfolio_but_do_not_manage_it_get_403(client, enrolment, reassign_data, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.post(reassign_url(enrolment), reassign_data).status_code == 403
    assert Assignment.objects.filter(enrolment=enrolment).count() == 2
    assert reassign_form_for(user, enrolment) is None
    assert "Change the assessor or IQA" not in render_panel(user, enrolment)


def test_reassign_is_post_only_and_needs_a_login(client, admin_client, enrolment):
    assert admin_client.get(reassign_url(enrolment)).status_code == 405
    anonymous = Client()
    response = anonymous.post(reassign_url(enrolment), {})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_assignment_history_is_oldest_first_with_people_loaded(
    enrolment, new_assessor, centre_admin, django_assert_num_queries
):
    enrolment_reassign(enrolment=enrolment, role=ASSESSOR, person=new_assessor, by=centre_admin, reason="Leave")
    with django_assert_num_queries(1):
        rows = assignments_for(enrolment)
        names = [(str(a.person), str(a.assigned_by)) for a in rows]
    assert [a.started_at for a in rows] == sorted(a.started_at for a in rows)
    assert len(names) == 3


def test_the_reassign_form_offers_only_this_centres_assessors_and_iqas(
    enrolment, centre_admin, assessor, iqa, learner, other_centre
):
    stranger = UserFactory(role=User.Role.ASSESSOR, centre=other_centre)
    form = reassign_form_for(centre_admin, enrolment)
    assert isinstance(form, ReassignForm)
    assert set(form.fields["person"].queryset) == {assessor, iqa}
    html = render_panel(centre_admin, enrolment)
    assert str(stranger.uuid) not in html
    assert str(learner.uuid) not in html
    assert 'id="id_reassign-reason"' in html
