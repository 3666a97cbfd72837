"""The assessor's caseload: who, how far, what is waiting, since when; sorting, filters, query count."""

import datetime
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from assessments.models import Decision, SignOff
from assessments.selectors import CaseloadSort, caseload, caseload_enrolments
from portfolio.models import Enrolment, Evidence, EvidenceVersion
from tests.assessments.test_signoff import evidence_for, judge, make_ready
from tests.factories import EnrolmentFactory, UserFactory
from tests.helpers import MANAGE, PLAN
from units.models import Qualification, Unit

# Every test here uses the database, some only through request.getfixturevalue(): saying so keeps
# pytest-django from ordering them after the browser tests, whose event loop hides the test connection.
pytestmark = pytest.mark.django_db

CASELOAD = reverse("assessments:caseload")


def ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def enrol(assessor: User, first: str, last: str, *unit_keys: str) -> Enrolment:
    learner = UserFactory(role=User.Role.LEARNER, centre=assessor.centre, first_name=first, last_name=last)
    units = list(Unit.objects.filter(key__in=unit_keys or (PLAN, MANAGE)))
    return EnrolmentFactory(learner=learner, assessor=assessor, qualification=Qualification.objects.get(), units=units)


def backdate(evidence: Evidence, *, created: int, submitted: int | None = None) -> None:
    Evidence.objects.filter(pk=evidence.pk).update(created_at=ago(created))
    if submitted is not None:
        EvidenceVersion.objects.filter(evidence=evidence).update(submitted_at=ago(submitted))


@pytest.fixture
def world(enrolment, learner, assessor, centre, other_centre):
    """Three learners of `assessor`, one of another assessor's, with evidence at known ages.

    Learner order: Abbott, Mills, Zeller. Waiting: Zeller 5 days, Abbott 2 days, Mills nothing.
    Last activity: Abbott 2 days ago, Zeller 4 days ago, Mills none.
    """
    learner.first_name, learner.last_name = "Lena", "Zeller"
    learner.save()
    zeller = enrolment
    waiting_long = evidence_for(zeller, ["1.1", "1.2"], title="Rota plan")
    judge(waiting_long, assessor, only=["1.1"])
    backdate(waiting_long, created=10, submitted=5)
    Decision.objects.filter(claim__version__evidence=waiting_long).update(decided_at=ago(4))
    decided = evidence_for(zeller, ["3.1"], title="Budget review")
    judge(decided, assessor)
    backdate(decided, created=10, submitted=9)
    Decision.objects.filter(claim__version__evidence=decided).update(decided_at=ago(8))
    draft = evidence_for(zeller, ["4.1"], submit=False, title="Unfinished draft")
    backdate(draft, created=10)

    abbott = enrol(assessor, "Adam", "Abbott")
    both_units = evidence_for(abbott, ["2.1", (MANAGE, "1.1")], title="Team meeting minutes")
    backdate(both_units, created=3, submitted=2)

    mills = enrol(assessor, "Carla", "Mills", PLAN)

    stranger = enrol(UserFactory(role=User.Role.ASSESSOR, centre=centre), "Sid", "Stranger-9c1e")
    evidence_for(stranger, ["1.1"], title="Someone else's evidence")
    return {
        "zeller": zeller,
        "abbott": abbott,
        "mills": mills,
        "stranger": stranger,
        "waiting_long": waiting_long,
        "both_units": both_units,
    }


def names(rows) -> list[str]:
    return [r.enrolment.learner.last_name for r in rows]


def row_names(html: str) -> list[str]:
    learners = html[html.index('id="learners"') :]
    return re.findall(
        r'<tr class="caseload-row">\s*<th scope="row">\s*<a href="[^"]+">[A-Za-z]+ ([A-Za-z-]+)</a>', learners
    )


# --- Who may see it ----------------------------------------------------------------------------------


def test_anonymous_visitors_log_in_first(client):
    response = client.get(CASELOAD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["learner", "iqa", "eqa", "centre_admin", "outsider"])
def test_only_assessors_have_a_caseload(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(CASELOAD).status_code == 403


def test_an_assessor_without_learners_is_told_so(client, centre):
    client.force_login(UserFactory(role=User.Role.ASSESSOR, centre=centre))
    html = client.get(CASELOAD).content.decode()
    assert "You have no learners assigned yet." in html
    assert "Nothing is waiting for a decision." in html


# --- What it shows -----------------------------------------------------------------------------------


def test_evidence_awaiting_a_decision_oldest_first(world, assessor):
    result = caseload(caseload_enrolments(assessor))

    assert [a.evidence for a in result.awaiting] == [world["waiting_long"], world["both_units"]]
    assert [a.age_days for a in result.awaiting] == [5, 2]
    assert [a.claims_waiting for a in result.awaiting] == [1, 2]


def test_the_caseload_page(client, world, assessor):
    client.force_login(assessor)
    html = client.get(CASELOAD).content.decode()

    awaiting = html[html.index('id="awaiting"') : html.index("</table>", html.index('id="awaiting"'))]
    assert "<caption>2 pieces of evidence with criteria not yet judged, oldest submission first</caption>" in awaiting
    assert awaiting.index("Rota plan") < awaiting.index("Team meeting minutes")
    assert f'href="{reverse("assessments:assess", args=[world["waiting_long"].uuid])}"' in awaiting
    assert '<td class="waiting-age">5 days</td>' in awaiting
    assert '<td class="waiting-age">2 days</td>' in awaiting
    for absent in ("Budget review", "Unfinished draft", "Someone else"):
        assert absent not in html
    assert "Stranger-9c1e" not in html

    assert row_names(html) == ["Abbott", "Mills", "Zeller"]
    # Zeller: 1.1 and 3.1 met, 1.2 awaiting, 4.1 in a draft.
    assert (
        "2 of 27 criteria met, 1 awaiting decision, 1 claimed in a draft; 0 of 12 evidence-requirement items covered"
        in html
    )
    assert "0 of 28 criteria met, 1 awaiting decision" in html  # Abbott's other unit
    assert "5 days (1 waiting)" in html
    assert "Nothing waiting" in html
    assert "No activity yet" in html
    assert f'<time datetime="{timezone.localtime(ago(2)):%Y-%m-%d}' in html
    assert html.count("Not signed off yet") == 5  # units of Zeller (2), Abbott (2), Mills (1)


def test_sign_off_status_and_a_link_when_every_criterion_is_met(client, world, assessor, enrolment):
    plan = Unit.objects.get(key=PLAN)
    SignOff.objects.create(enrolment=world["abbott"], unit=plan, assessor=assessor, signed_at=timezone.now())
    client.force_login(assessor)
    html = client.get(CASELOAD).content.decode()
    assert "Signed off — awaiting the learner&#x27;s countersignature" in html
    assert "Check and sign off" not in html

    make_ready(enrolment, assessor)
    html = client.get(CASELOAD).content.decode()
    assert f'href="{reverse("assessments:sign_off", args=[enrolment.uuid, plan.uuid])}">Check and sign off' in html


# --- Sorting and filtering ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (CaseloadSort.LEARNER, ["Abbott", "Mills", "Zeller"]),
        (CaseloadSort.WAITING, ["Zeller", "Abbott", "Mills"]),
        (CaseloadSort.ACTIVITY, ["Abbott", "Zeller", "Mills"]),
    ],
)
def test_sorting(world, assessor, sort, expected):
    assert names(caseload(caseload_enrolments(assessor), sort=sort).rows) == expected


def test_last_activity_is_the_latest_of_created_submitted_and_decided(world, assessor):
    rows = {r.enrolment.learner.last_name: r for r in caseload(caseload_enrolments(assessor)).rows}
    assert abs(rows["Zeller"].last_activity - ago(4)) < datetime.timedelta(minutes=1)  # the decision on 1.1
    assert abs(rows["Abbott"].last_activity - ago(2)) < datetime.timedelta(minutes=1)  # the submission
    assert rows["Mills"].last_activity is None


@pytest.mark.parametrize(
    ("sort", "expected"), [("waiting", ["Zeller", "Abbott", "Mills"]), ("activity", ["Abbott", "Zeller", "Mills"])]
)
def test_sorting_by_get_parameter(client, world, assessor, sort, expected):
    client.force_login(assessor)
    html = client.get(CASELOAD, {"sort": sort}).content.decode()
    assert row_names(html) == expected
    assert f'<option value="{sort}" selected>' in html


def test_filter_by_learner(client, world, assessor):
    abbott = world["abbott"].learner
    client.force_login(assessor)
    html = client.get(CASELOAD, {"learner": str(abbott.uuid)}).content.decode()
    assert row_names(html) == ["Abbott"]
    assert "Team meeting minutes" in html
    assert "Rota plan" not in html
    assert f'<option value="{abbott.uuid}" selected>Adam Abbott</option>' in html
    assert "Clear the filters and show everyone" in html


def test_filter_by_unit(world, assessor):
    manage = Unit.objects.get(key=MANAGE)
    result = caseload(caseload_enrolments(assessor), unit=manage.uuid)

    assert names(result.rows) == ["Abbott", "Zeller"]  # Mills is not on that unit
    assert {u.progress.unit for r in result.rows for u in r.units} == {manage}
    # Only the claim on a criterion of that unit counts as waiting.
    assert [(a.evidence, a.claims_waiting) for a in result.awaiting] == [(world["both_units"], 1)]


def test_filter_by_unit_and_learner_together(client, world, assessor):
    manage = Unit.objects.get(key=MANAGE)
    client.force_login(assessor)
    params = {"unit": str(manage.uuid), "learner": str(world["mills"].learner.uuid)}
    html = client.get(CASELOAD, params).content.decode()
    assert "None of your learners matches these filters." in html
    assert "Nothing is waiting for a decision among the learners and units shown." in html


def test_bad_parameters_are_ignored_with_a_message(client, world, assessor):
    client.force_login(assessor)
    params = {"learner": "not-a-uuid", "unit": str(uuid.uuid4()), "sort": "sideways"}
    response = client.get(CASELOAD, params)

    assert response.status_code == 200
    html = response.content.decode()
    assert "That learner is not in your caseload, so every learner is shown." in html
    assert "None of your learners is on that unit, so every unit is shown." in html
    assert "That is not a way to sort the caseload, so learners are sorted by name." in html
    assert row_names(html) == ["Abbott", "Mills", "Zeller"]
    assert "aria-invalid" not in html


def test_someone_elses_learner_is_a_bad_parameter(client, world, assessor):
    client.force_login(assessor)
    html = client.get(CASELOAD, {"learner": str(world["stranger"].learner.uuid)}).content.decode()
    assert "That learner is not in your caseload" in html
    assert "Stranger-9c1e" not in html


def test_the_filter_form_works_without_javascript(client, world, assessor):
    client.force_login(assessor)
    html = client.get(CASELOAD).content.decode()
    form = html[html.index('<form method="get"') : html.index("</form>", html.index('<form method="get"'))]
    for name, label in (("learner", "Learner"), ("unit", "Unit"), ("sort", "Sort by")):
        assert f'<label class="form-label" for="id_{name}">{label}</label>' in form
        assert f'name="{name}"' in form
    assert '<button type="submit"' in form


# --- Query count ---------------------------------------------------------------------------------------


def learner_with_work(assessor: User, n: int) -> None:
    enrolment = enrol(assessor, "Learner", f"Number{n}")
    evidence = evidence_for(enrolment, ["1.1", "1.2"], covers=["4a"], title=f"Evidence {n}")
    judge(evidence, assessor, only=["1.1"])
    evidence_for(enrolment, ["2.1"], submit=False, title=f"Draft {n}")
    SignOff.objects.create(
        enrolment=enrolment, unit=Unit.objects.get(key=MANAGE), assessor=assessor, signed_at=timezone.now()
    )


# session, user, enrolments (with learner, qualification and last activity), their units, 4 for progress
# (which reuses the units already loaded), sign-offs (with countersignatures), evidence awaiting a decision
CASELOAD_QUERIES = 10


@pytest.mark.parametrize("learners", [2, 10])
@pytest.mark.parametrize("params", [{}, {"sort": "waiting", "unit": "bad"}])
def test_caseload_query_count_does_not_grow(
    client, specifications, assessor, django_assert_num_queries, learners, params
):
    for n in range(learners):
        learner_with_work(assessor, n)
    client.force_login(assessor)
    with django_assert_num_queries(CASELOAD_QUERIES):
        response = client.get(CASELOAD, params)
    assert response.content.decode().count('<tr class="caseload-row">') == learners


def test_a_long_caseload_is_shown_a_page_at_a_time(client, specifications, assessor, django_assert_num_queries):
    """Sorted as a whole, shown 25 learners and 25 waiting pieces at a time, in the same queries."""
    for n in range(27):
        learner_with_work(assessor, n)
    client.force_login(assessor)
    with django_assert_num_queries(CASELOAD_QUERIES):
        first = client.get(CASELOAD).content.decode()
    assert first.count('<tr class="caseload-row">') == 25
    assert "Your learners, sorted by learner name, a to z (1 to 25 of 27)" in first
    assert "27 pieces of evidence with criteria not yet judged, oldest submission first (showing 1 to 25)" in first
    assert '<a class="page-link" href="?page=2">Next<span class="visually-hidden"> page of learners</span></a>' in first
    assert 'href="?queue=2">Next<span class="visually-hidden"> page of evidence awaiting a decision' in first

    with django_assert_num_queries(CASELOAD_QUERIES):
        second = client.get(CASELOAD, {"page": 2, "sort": "learner"}).content.decode()
    assert second.count('<tr class="caseload-row">') == 2
    # Names sort as text (Number0, Number1, Number10 ... Number9): the last two are on page 2.
    assert "Learner Number8</a>" in second
    assert "Learner Number9</a>" in second
    assert "Learner Number0</a>" not in second
    assert "Page 2 of 2" in second
    assert 'href="?page=1&amp;sort=learner">Previous' in second
