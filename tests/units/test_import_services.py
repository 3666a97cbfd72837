"""Drafts of imported units: saving corrections, publishing as a new version, moving learners on."""

import copy
import datetime
import json
from functools import partial

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from portfolio.models import AuditEvent, EnrolledUnit
from portfolio.services.enrolments import enrolment_create
from portfolio.services.evidence import evidence_create, mapping_set
from tests.conftest import FIXTURES_DIR
from tests.factories import UserFactory
from tests.helpers import MANAGE, PLAN, details, enrol
from tests.workers import needs_postgres
from units.importer.result import ImportResult, Span
from units.models import GroupUnit, Qualification, Unit, UnitDraft
from units.selectors import unit_list, unit_to_spec
from units.services_import import (
    UNIT_VERSION_CHANGED,
    DraftConflict,
    draft_create,
    draft_problems,
    draft_publish,
    draft_update,
    enrolled_unit_move,
)

pytestmark = pytest.mark.django_db


def fixture_data(key: str = MANAGE) -> dict:
    """A checked fixture as the importer's `data`: the unit without key, version and sources."""
    data = json.loads((FIXTURES_DIR / "units" / f"{key}.json").read_text(encoding="utf-8"))
    for name in ("key", "version", "sources"):
        del data[name]
    return data


def reworded(data: dict, number: str = "1.1", text: str = "Explain how resources are allocated") -> dict:
    data = copy.deepcopy(data)
    outcome, index = number.split(".")
    data["outcomes"][int(outcome) - 1]["criteria"][int(index) - 1]["text"] = text
    return data


def imported(data: dict, *, errors: list[str] | None = None, locations: dict | None = None) -> ImportResult:
    return ImportResult(
        data=data,
        locations=locations or {},
        warnings=["Line 3: not placed: “Page 2 of 7”"],
        errors=errors or [],
        source_text="Unit Title: Manage customer service operations\nLevel: 4\nPage 2 of 7\n",
    )


@pytest.fixture
def admin(specifications, centre_admin) -> User:
    return centre_admin


@pytest.fixture
def manage_v1(specifications) -> Unit:
    return Unit.objects.get(key=MANAGE, version=1)


def new_draft(admin: User, data: dict | None = None, **kwargs) -> UnitDraft:
    return draft_create(result=imported(data or reworded(fixture_data())), source_name="manage.txt", by=admin, **kwargs)


# -- drafts ---------------------------------------------------------------------------------------


def test_a_draft_is_the_next_version_of_the_unit_its_title_names(admin, manage_v1):
    draft = new_draft(admin)

    assert draft.key == MANAGE
    assert draft.version == 2
    assert draft.created_by == admin
    assert draft.source_name == "manage.txt"
    assert draft.warnings == ["Line 3: not placed: “Page 2 of 7”"]
    assert "key" not in draft.data
    assert "sources" not in draft.data
    # Nothing reaches the catalogue until it is published.
    assert Unit.objects.filter(key=MANAGE).count() == 1
    assert [u.version for u in unit_list().filter(key=MANAGE)] == [1]


def test_a_draft_of_an_unknown_title_is_version_one_of_a_new_unit(admin):
    data = fixture_data()
    data["title"] = "Lead a contact centre team"
    draft = new_draft(admin, data)
    assert (draft.key, draft.version) == ("lead-a-contact-centre-team", 1)


def test_a_bad_key_is_refused_and_nothing_is_stored(admin):
    with pytest.raises(ValidationError) as caught:
        new_draft(admin, key="Not A Slug!")
    assert "key" in caught.value.message_dict
    assert not UnitDraft.objects.exists()


def test_a_draft_keeps_the_parsers_spans_as_line_pairs(admin):
    locations = {"title": Span(1, 1), "outcomes.0.criteria.0.text": Span(12, 14)}
    draft = draft_create(result=imported(fixture_data(), locations=locations), source_name="manage.txt", by=admin)
    assert draft.locations == {"title": [1, 1], "outcomes.0.criteria.0.text": [12, 14]}


def test_corrections_are_saved_and_the_revision_counts_them(admin):
    draft = new_draft(admin)
    data = reworded(draft.data, "2.1", "Agree the service offer")

    saved = draft_update(draft=draft, data=data, by=admin, revision=1)

    saved.refresh_from_db()
    assert saved.data["outcomes"][1]["criteria"][0]["text"] == "Agree the service offer"
    assert saved.revision == 2
    assert saved.updated_by == admin


def test_bad_fields_are_refused_each_with_its_message_and_nothing_is_stored(admin):
    draft = new_draft(admin)
    before = copy.deepcopy(draft.data)
    data = copy.deepcopy(draft.data)
    data["level"] = 12
    data["outcomes"][0]["criteria"][1]["text"] = ""
    data["outcomes"][0]["criteria"][2]["number"] = "1.x"
    data["outcomes"][1]["criteria"][1]["number"] = "2.1"  # now two 2.1s
    data["outcomes"][2]["kind"] = "practical"

    with pytest.raises(ValidationError) as caught:
        draft_update(draft=draft, data=data, by=admin)

    errors = caught.value.message_dict
    assert errors["level"] == ["Enter a number of at most 8."]
    assert errors["outcomes.0.criteria.1.text"] == ["Enter the text, or remove the entry."]
    assert errors["outcomes.0.criteria.2.number"] == ["Write the number as outcome.criterion, for example 2.3."]
    assert errors["outcomes.1.criteria.1.number"] == ["Criterion 2.1 appears twice."]
    assert "outcomes.2.kind" in errors
    draft.refresh_from_db()
    assert draft.data == before
    assert draft.revision == 1


def test_a_save_from_a_stale_page_is_refused_not_merged(admin):
    draft = new_draft(admin)
    draft_update(draft=draft, data=draft.data, by=admin, revision=1)
    with pytest.raises(DraftConflict, match="Someone saved this draft after you opened it"):
        draft_update(draft=draft, data=reworded(draft.data, "1.2", "Other words"), by=admin, revision=1)


def test_changing_the_key_makes_it_a_new_unit(admin):
    draft = draft_update(draft=new_draft(admin), data=reworded(fixture_data()), by=admin, key="manage-operations")
    assert (draft.key, draft.version) == ("manage-operations", 1)


def test_source_lines_follow_rows_that_move_and_leave_with_rows_removed(admin):
    locations = {
        "title": Span(1, 1),
        "outcomes.0.criteria.0.text": Span(10, 10),
        "outcomes.0.criteria.1.text": Span(11, 12),
        "outcomes.0.criteria.2.guidance": Span(13, 13),
    }
    draft = draft_create(result=imported(fixture_data(), locations=locations), source_name="m.txt", by=admin)
    data = copy.deepcopy(draft.data)
    del data["outcomes"][0]["criteria"][0]  # a criterion read by mistake
    for n, criterion in enumerate(data["outcomes"][0]["criteria"], start=1):
        criterion["number"] = f"1.{n}"
    moved = {"outcomes.0.criteria.0": None, "outcomes.0.criteria.1": "outcomes.0.criteria.0"}
    moved |= {f"outcomes.0.criteria.{k}": f"outcomes.0.criteria.{k - 1}" for k in range(2, 7)}

    draft = draft_update(draft=draft, data=data, by=admin, moved=moved)

    assert draft.locations == {
        "title": [1, 1],
        "outcomes.0.criteria.0.text": [11, 12],
        "outcomes.0.criteria.1.guidance": [13, 13],
    }


# -- publishing -----------------------------------------------------------------------------------


def test_publishing_makes_the_next_version_and_new_enrolments_take_it(admin, manage_v1, learner, assessor):
    on_v1 = enrol(learner, assessor=assessor)
    draft = new_draft(admin)

    unit = draft_publish(draft=draft, by=admin)

    assert (unit.key, unit.version) == (MANAGE, 2)
    assert unit.sources == [{"title": "manage.txt", "document": "manage.txt"}]
    assert unit.outcomes.get(number=1).criteria.get(number="1.1").text == "Explain how resources are allocated"
    draft.refresh_from_db()
    assert (draft.published_unit, draft.published_by, draft.version) == (unit, admin, 2)
    assert draft.published_at is not None
    # The qualification now offers version 2; the learner already enrolled stays on version 1.
    assert list(GroupUnit.objects.filter(unit__key=MANAGE).values_list("unit__version", flat=True)) == [2]
    assert EnrolledUnit.objects.get(enrolment=on_v1, unit__key=MANAGE).unit == manage_v1
    newcomer = UserFactory(role=User.Role.LEARNER, centre=learner.centre)
    enrolment = enrolment_create(
        learner=newcomer,
        qualification=Qualification.objects.get(),
        units=[unit],
        assessor=None,
        iqa=None,
        start_date=datetime.date(2027, 1, 4),
        planned_end_date=datetime.date(2027, 12, 17),
        by=admin,
    )
    assert list(enrolment.units.values_list("key", "version")) == [(MANAGE, 2)]


def test_content_identical_to_the_latest_version_is_not_published(admin, manage_v1):
    draft = new_draft(admin, fixture_data())
    with pytest.raises(ValidationError) as caught:
        draft_publish(draft=draft, by=admin)
    assert caught.value.messages == ["Identical to version 1: nothing to publish."]
    assert Unit.objects.filter(key=MANAGE).count() == 1
    draft.refresh_from_db()
    assert draft.published_unit is None


def test_versions_are_numbered_in_the_order_they_are_published(admin, manage_v1):
    first = new_draft(admin, reworded(fixture_data(), text="First rewording"))
    second = new_draft(admin, reworded(fixture_data(), text="Second rewording"))
    assert first.version == second.version == 2  # both drafted against version 1

    assert draft_publish(draft=second, by=admin).version == 2
    assert draft_publish(draft=first, by=admin).version == 3
    first.refresh_from_db()
    assert first.version == 3


def test_an_incomplete_unit_is_refused_with_what_is_missing_and_nothing_is_written(admin, manage_v1):
    data = reworded(fixture_data())
    data["level"] = None
    data["outcomes"][3]["criteria"] = []
    data["outcomes"][4]["number"] = 7
    draft = new_draft(admin, data)
    units_before = Unit.objects.count()

    with pytest.raises(ValidationError) as caught:
        draft_publish(draft=draft, by=admin)

    errors = caught.value.message_dict
    assert errors["level"] == ["Not given: enter it from the document."]
    assert errors["outcomes.3.criteria"] == ["Each learning outcome needs at least one assessment criterion."]
    assert errors["outcomes.4.number"] == ["Expected 5 here: outcomes are numbered 1, 2, 3 … without gaps."]
    assert Unit.objects.count() == units_before
    assert "Level: Not given: enter it from the document." in [str(p) for p in draft_problems(draft)]


def test_the_importers_errors_stop_publishing_until_corrections_are_saved(admin, manage_v1):
    draft = new_draft(admin)
    draft.errors = ["Line 40: criterion 2.4 is missing"]
    draft.save()
    with pytest.raises(ValidationError, match="The importer reported errors that no one has reviewed yet"):
        draft_publish(draft=draft, by=admin)

    draft = draft_update(draft=draft, data=draft.data, by=admin)

    assert draft.errors == []  # the saved unit is complete
    assert draft_publish(draft=draft, by=admin).version == 2


def test_a_published_draft_is_a_record(admin, manage_v1):
    draft = new_draft(admin)
    draft_publish(draft=draft, by=admin)
    with pytest.raises(DraftConflict, match="cannot be changed"):
        draft_update(draft=draft, data=reworded(draft.data, text="Later"), by=admin)
    with pytest.raises(DraftConflict):
        draft_publish(draft=draft, by=admin)
    assert Unit.objects.filter(key=MANAGE).count() == 2


@pytest.mark.django_db(transaction=True)
@needs_postgres
def test_two_admins_publishing_at_once_take_consecutive_versions(specifications, centre_admin):
    from tests.races.harness import race

    one = new_draft(centre_admin, reworded(fixture_data(), text="One wording"))
    other = new_draft(centre_admin, reworded(fixture_data(), text="Another wording"))

    results = race(
        partial(draft_publish, draft=one, by=centre_admin), partial(draft_publish, draft=other, by=centre_admin)
    )

    assert all(isinstance(r, Unit) for r in results), results
    assert sorted(r.version for r in results) == [2, 3]


@pytest.mark.django_db(transaction=True)
@needs_postgres
def test_the_same_content_published_twice_at_once_is_published_once(specifications, centre_admin):
    from tests.races.harness import race

    data = reworded(fixture_data(), text="The same wording")
    one, other = new_draft(centre_admin, data), new_draft(centre_admin, data)

    results = race(
        partial(draft_publish, draft=one, by=centre_admin), partial(draft_publish, draft=other, by=centre_admin)
    )

    published = [r for r in results if isinstance(r, Unit)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert [u.version for u in published] == [2]
    assert [e.messages for e in refused] == [["Identical to version 2: nothing to publish."]]


# -- moving a learner to the new version ----------------------------------------------------------


@pytest.fixture
def published(admin, manage_v1) -> Unit:
    return draft_publish(draft=new_draft(admin), by=admin)


def test_a_learner_with_nothing_recorded_is_moved_and_the_move_audited(admin, learner, assessor, manage_v1):
    enrolment = enrol(learner, assessor=assessor)
    v2 = draft_publish(draft=new_draft(admin), by=admin)
    enrolled = EnrolledUnit.objects.get(enrolment=enrolment, unit=manage_v1)

    moved = enrolled_unit_move(enrolled_unit=enrolled, to_unit=v2, by=admin)

    assert moved.unit == v2
    assert list(enrolment.units.order_by("key").values_list("key", "version")) == [(MANAGE, 2), (PLAN, 1)]
    event = AuditEvent.objects.get(action=UNIT_VERSION_CHANGED)
    assert event.enrolment == enrolment
    assert event.actor == admin
    assert "from version 1 to version 2 of Manage customer service operations" in event.summary
    assert event.detail["to"] == {"uuid": str(v2.uuid), "version": 2}


def test_a_learner_with_evidence_mapped_to_the_old_criteria_stays(admin, learner, assessor, manage_v1):
    enrolment = enrol(learner, assessor=assessor)
    criterion = manage_v1.outcomes.get(number=1).criteria.get(number="1.1")
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    mapping_set(version=evidence.current_version, by=learner, accounts={criterion: "My resource plan"}, items=[])
    v2 = draft_publish(draft=new_draft(admin), by=admin)
    enrolled = EnrolledUnit.objects.get(enrolment=enrolment, unit=manage_v1)
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationError) as caught:
        enrolled_unit_move(enrolled_unit=enrolled, to_unit=v2, by=admin)

    assert caught.value.messages == [
        f"{learner} stays on version 1 of Manage customer service operations: recorded against it are "
        "1 evidence mapping to its criteria. Work recorded against one version's criteria cannot be "
        "carried to another."
    ]
    enrolled.refresh_from_db()
    assert enrolled.unit == manage_v1
    assert AuditEvent.objects.count() == events


def test_a_learner_is_only_moved_forward_within_one_unit(admin, learner, assessor, manage_v1):
    enrolment = enrol(learner, assessor=assessor)
    v2 = draft_publish(draft=new_draft(admin), by=admin)
    enrolled = EnrolledUnit.objects.get(enrolment=enrolment, unit=manage_v1)
    enrolled_unit_move(enrolled_unit=enrolled, to_unit=v2, by=admin)

    with pytest.raises(ValidationError, match="only be moved to a newer version"):
        enrolled_unit_move(enrolled_unit=enrolled, to_unit=manage_v1, by=admin)
    other = EnrolledUnit.objects.get(enrolment=enrolment, unit__key=PLAN)
    with pytest.raises(ValidationError, match="is another unit"):
        enrolled_unit_move(enrolled_unit=other, to_unit=v2, by=admin)


def test_the_published_unit_reads_back_as_the_draft_said(admin, manage_v1):
    draft = new_draft(admin)
    unit = draft_publish(draft=draft, by=admin)
    spec = unit_to_spec(unit)
    assert spec.model_dump(mode="json", exclude={"key", "version", "sources"}) == draft.data
