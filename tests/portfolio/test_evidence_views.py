import pytest
from django.urls import reverse

from portfolio.models import Evidence, EvidenceVersion
from portfolio.services.evidence import evidence_create, evidence_submit, mapping_set
from tests.helpers import MANAGE, PLAN, attach_file, criterion, details
from units.models import EvidenceRequirementItem

FORM = {
    "title": "Rota planning spreadsheet",
    "method": "work_product",
    "description": "The staffing plan I built for December.",
    "activity_date": "2026-10-12",
    "activity_end_date": "",
    "location": "Head office",
}


@pytest.fixture
def draft(enrolment, learner):
    return evidence_create(enrolment=enrolment, by=learner, details=details())


def test_learner_creates_evidence_and_lands_on_its_edit_page(client, enrolment, learner):
    client.force_login(learner)
    url = reverse("portfolio:evidence_create", args=[enrolment.uuid])
    assert client.get(url).status_code == 200
    response = client.post(url, FORM)
    evidence = Evidence.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portfolio:evidence_edit", args=[evidence.uuid])
    assert evidence.current_version.title == "Rota planning spreadsheet"


def test_bad_details_are_shown_beside_the_fields_and_kept(client, enrolment, learner):
    client.force_login(learner)
    response = client.post(
        reverse("portfolio:evidence_create", args=[enrolment.uuid]),
        {**FORM, "title": "", "activity_end_date": "2026-10-01"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in html
    assert "The staffing plan I built for December." in html
    assert not Evidence.objects.exists()


def test_end_date_before_start_is_explained(client, enrolment, learner):
    client.force_login(learner)
    response = client.post(
        reverse("portfolio:evidence_create", args=[enrolment.uuid]), {**FORM, "activity_end_date": "2026-10-01"}
    )
    assert "The end date is before the start date." in response.content.decode()


def test_mapping_page_saves_claims_across_units(client, draft, learner):
    client.force_login(learner)
    url = reverse("portfolio:evidence_mapping", args=[draft.uuid])
    page = client.get(url).content.decode()
    assert "Manage customer service operations" in page
    assert "Plan, organise and control" in page
    one_one, manage = criterion(PLAN, "1.1"), criterion(MANAGE, "2.5")
    item = EvidenceRequirementItem.objects.get(requirement__unit__key=PLAN, requirement__number=5, letter="a")
    response = client.post(
        url,
        {
            f"claim-{one_one.uuid}": "1",
            f"account-{one_one.uuid}": "The rota analyses expected footfall.",
            f"claim-{manage.uuid}": "1",
            f"account-{manage.uuid}": "I sent it to the team with targets.",
            f"item-{item.uuid}": "1",
            f"account-{criterion(PLAN, '1.2').uuid}": "typed but not ticked: ignored",
        },
    )
    assert response.status_code == 302
    version = draft.current_version
    assert sorted(c.criterion.number for c in version.claims.select_related("criterion")) == ["1.1", "2.5"]
    assert version.coverage.get().item == item


def test_mapping_errors_keep_what_was_typed(client, draft, learner):
    client.force_login(learner)
    one_one, one_two = criterion(PLAN, "1.1"), criterion(PLAN, "1.2")
    response = client.post(
        reverse("portfolio:evidence_mapping", args=[draft.uuid]),
        {
            f"claim-{one_one.uuid}": "1",
            f"account-{one_one.uuid}": "Kept account text",
            f"claim-{one_two.uuid}": "1",
            f"account-{one_two.uuid}": "",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Say briefly how this evidence shows 1.2." in html
    assert "Kept account text" in html
    assert not draft.current_version.claims.exists()


def test_simulation_criteria_are_marked_on_the_mapping_page(client, enrolment, learner):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details(method="simulation"))
    client.force_login(learner)
    html = client.get(reverse("portfolio:evidence_mapping", args=[evidence.uuid])).content.decode()
    assert "1.1: simulation is not allowed as performance evidence" in html
    assert "4.1: simulation is not allowed" not in html  # knowledge outcome


def test_submit_page_needs_the_declaration(client, draft, learner):
    version = draft.current_version
    attach_file(version)
    mapping_set(version=version, by=learner, accounts={criterion(PLAN, "1.1"): "x"}, items=[])
    client.force_login(learner)
    url = reverse("portfolio:evidence_submit", args=[draft.uuid])

    refused = client.post(url, {})
    assert refused.status_code == 400
    assert "Tick the declaration" in refused.content.decode()

    accepted = client.post(url, {"declared": "on"})
    assert accepted.status_code == 302
    version.refresh_from_db()
    assert version.status == EvidenceVersion.Status.SUBMITTED


def test_submitted_evidence_cannot_be_edited_only_versioned(client, draft, learner):
    version = draft.current_version
    attach_file(version)
    mapping_set(version=version, by=learner, accounts={criterion(PLAN, "1.1"): "x"}, items=[])
    evidence_submit(version=version, by=learner, declared=True)
    client.force_login(learner)

    response = client.post(reverse("portfolio:evidence_edit", args=[draft.uuid]), {**FORM, "title": "sneaky"})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.title == "Team briefing notes"

    client.post(reverse("portfolio:evidence_new_version", args=[draft.uuid]))
    draft.refresh_from_db()
    assert draft.current_version.number == 2
    assert client.get(reverse("portfolio:evidence_edit", args=[draft.uuid])).status_code == 200


def test_detail_shows_versions_claims_and_the_declaration(client, draft, learner, assessor):
    version = draft.current_version
    attach_file(version)
    mapping_set(version=version, by=learner, accounts={criterion(PLAN, "1.1"): "Shows expectations"}, items=[])
    evidence_submit(version=version, by=learner, declared=True)
    client.force_login(assessor)
    html = client.get(reverse("portfolio:evidence", args=[draft.uuid])).content.decode()
    assert "Shows expectations" in html
    assert "Awaiting decision" in html
    assert version.declaration.files_sha256 in html
    assert "Start a new version" not in html  # the assessor cannot edit


@pytest.mark.parametrize("name", ["evidence_edit", "evidence_mapping", "evidence_submit"])
def test_the_assessor_may_read_but_not_edit(client, draft, assessor, name):
    client.force_login(assessor)
    assert client.get(reverse(name.join(["portfolio:", ""]), args=[draft.uuid])).status_code == 403


@pytest.mark.parametrize("name", ["evidence", "evidence_edit", "evidence_mapping", "evidence_submit"])
def test_other_centres_learner_gets_404(client, draft, outsider, name):
    client.force_login(outsider)
    assert client.get(reverse(f"portfolio:{name}", args=[draft.uuid])).status_code == 404


def test_portfolio_page_and_tracking_grid(client, draft, learner, centre_admin):
    version = draft.current_version
    mapping_set(version=version, by=learner, accounts={criterion(PLAN, "1.1"): "x"}, items=[])
    client.force_login(centre_admin)
    enrolment = draft.enrolment
    page = client.get(reverse("portfolio:portfolio", args=[enrolment.uuid])).content.decode()
    assert "Team briefing notes" in page
    assert "0 of 27 criteria met" in page
    plan = criterion(PLAN, "1.1").outcome.unit
    grid = client.get(reverse("portfolio:unit_tracking", args=[enrolment.uuid, plan.uuid])).content.decode()
    assert "Claimed in a draft" in grid
    assert "Gaps" in grid


@pytest.mark.parametrize("pieces", [1, 6])
def test_portfolio_page_query_count_is_fixed(client, enrolment, learner, django_assert_num_queries, pieces):
    for i in range(pieces):
        evidence = evidence_create(enrolment=enrolment, by=learner, details=details(title=f"Evidence {i}"))
        attach_file(evidence.current_version, name=f"{i}.pdf", content=f"%PDF {i}".encode())
        mapping_set(
            version=evidence.current_version, by=learner, accounts={criterion(PLAN, f"2.{i + 1}"): "x"}, items=[]
        )
    client.force_login(learner)
    with django_assert_num_queries(PORTFOLIO_PAGE_QUERIES):
        client.get(reverse("portfolio:portfolio", args=[enrolment.uuid]))


@pytest.mark.parametrize("pieces", [1, 6])
def test_home_query_count_is_fixed_with_progress(client, enrolment, learner, django_assert_num_queries, pieces):
    for i in range(pieces):
        evidence = evidence_create(enrolment=enrolment, by=learner, details=details(title=f"Evidence {i}"))
        mapping_set(
            version=evidence.current_version, by=learner, accounts={criterion(PLAN, f"3.{i % 5 + 1}"): "x"}, items=[]
        )
    client.force_login(learner)
    with django_assert_num_queries(HOME_QUERIES):
        client.get(reverse("portfolio:home"))


# session, user, enrolment, enrolled units, 4 progress (criteria, requirement items, coverage, claims: the
# enrolled units are the ones already loaded), evidence list, assignments, assessment plans, your recent exports
# (+ reassign choices for admins; + 1 for the IQA sampled units and their latest reviews, for those who may
# read quality records: assessor, IQA, centre admin, EQA. Never the learner, whom these pins log in as.)
PORTFOLIO_PAGE_QUERIES = 12
# session, user, unread notices, enrolments, enrolled units, 4 progress (reusing the enrolled units)
HOME_QUERIES = 9


def test_edit_form_shows_the_saved_dates_in_the_date_picker(client, draft, learner):
    client.force_login(learner)
    html = client.get(reverse("portfolio:evidence_edit", args=[draft.uuid])).content.decode()
    assert 'type="date" name="activity_date" value="2026-10-05"' in html
    response = client.post(reverse("portfolio:evidence_edit", args=[draft.uuid]), {**FORM, "title": "Renamed"})
    assert response.status_code == 302
    draft.current_version.refresh_from_db()
    assert draft.current_version.title == "Renamed"


def test_the_learner_confirms_an_assessors_record_but_cannot_edit_it(client, enrolment, learner, assessor):
    from assessments.models import AssessorRecord
    from assessments.services.records import RecordDetails, WitnessDetails, assessor_record_create

    record = assessor_record_create(
        enrolment=enrolment,
        assessor=assessor,
        kind=AssessorRecord.Kind.WITNESS_TESTIMONY,
        details=RecordDetails("Manager's testimony", "What the manager saw", details().activity_date),
        witness=WitnessDetails(name="Sam Patel", statement="Priya ran the rota well.", role="Store manager"),
        accounts={criterion(PLAN, "1.2"): "The manager saw the plan in use"},
    )
    client.force_login(learner)
    for name in ["evidence_edit", "evidence_mapping", "evidence_submit"]:
        assert client.get(reverse(f"portfolio:{name}", args=[record.uuid])).status_code == 403, name
    assert client.post(reverse("portfolio:evidence_new_version", args=[record.uuid])).status_code == 403
    assert client.post(reverse("portfolio:file_upload", args=[record.uuid]), {}).status_code == 403
    html = client.get(reverse("portfolio:evidence", args=[record.uuid])).content.decode()
    assert "Sam Patel" in html
    assert "Priya ran the rota well." in html
    assert "Confirm this record" in html
    assert "Continue editing" not in html
    assert "Assessor\u2019s account" in html


def test_a_null_character_in_an_account_is_refused_in_words(client, learner, enrolment):
    """Found by tests/test_input_fuzz.py: accounts come from the raw POST, and PostgreSQL cannot store NUL."""
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    first = criterion(PLAN, "1.1")
    client.force_login(learner)
    response = client.post(
        reverse("portfolio:evidence_mapping", args=[evidence.uuid]),
        {f"claim-{first.uuid}": "on", f"account-{first.uuid}": "I ran it\x00"},
    )
    assert response.status_code == 400
    assert "holds a null character" in response.content.decode()
    assert not evidence.current_version.claims.exists()
