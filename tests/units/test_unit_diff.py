"""What changed between two versions of a unit: outcome by outcome, criterion by criterion."""

import copy

import pytest

from tests.helpers import MANAGE, PLAN
from tests.units.test_import_services import fixture_data, new_draft
from units.diff_selectors import Status, previous_version, spec_change_summary, unit_diff
from units.models import Unit
from units.selectors import unit_to_spec
from units.services_import import draft_publish
from units.specs import UnitSpec

pytestmark = pytest.mark.django_db


def publish(admin, data: dict) -> Unit:
    return draft_publish(draft=new_draft(admin, data), by=admin)


def changed_manage() -> dict:
    data = copy.deepcopy(fixture_data(MANAGE))
    lo1 = data["outcomes"][0]["criteria"]
    lo1[0]["text"] = "Explain how resources are allocated"  # 1.1 text
    lo1[1]["guidance"] = "Cover performance, outcome and cost based methods"  # 1.2 guidance
    data["outcomes"][1]["criteria"].append({"number": "2.6", "text": "Agree service standards", "guidance": ""})
    del data["outcomes"][4]["criteria"][-1]  # 5.5
    data["credit_value"] = 8
    data["outcomes"][2]["text"] = "Be able to prepare staff to deliver customer service"
    return data


@pytest.fixture
def versions(specifications, centre_admin) -> tuple[Unit, Unit]:
    v1 = Unit.objects.get(key=MANAGE, version=1)
    return v1, publish(centre_admin, changed_manage())


def statuses(diff, outcome: int) -> dict[str, Status]:
    return {c.number: c.status for c in diff.outcomes[outcome - 1].criteria}


def test_criteria_are_matched_by_number(versions):
    diff = unit_diff(*versions)

    first = statuses(diff, 1)
    assert first["1.1"] == Status.CHANGED
    assert first["1.2"] == Status.CHANGED
    assert first["1.3"] == Status.UNCHANGED
    assert statuses(diff, 2)["2.6"] == Status.ADDED
    assert statuses(diff, 5)["5.5"] == Status.REMOVED
    assert diff.criteria_counts == {"added": 1, "removed": 1, "changed": 2, "unchanged": 25}


def test_a_change_shows_the_old_and_new_wording_and_what_part_changed(versions):
    diff = unit_diff(*versions)
    one_one, one_two = diff.outcomes[0].criteria[:2]
    assert (one_one.old_text, one_one.new_text) == (
        "Explain the basis for allocating resources",
        "Explain how resources are allocated",
    )
    assert one_one.text_changed
    assert not one_one.guidance_changed
    assert one_two.guidance_changed
    assert not one_two.text_changed
    removed = diff.outcomes[4].criteria[-1]
    assert removed.new_text is None
    assert removed.old_text


def test_outcome_wording_and_unit_details_are_compared(versions):
    diff = unit_diff(*versions)
    assert diff.outcomes[2].status == Status.CHANGED
    assert diff.outcomes[2].text_changed
    assert diff.outcomes[0].status == Status.UNCHANGED
    assert diff.outcomes[0].touched  # its criteria changed
    assert [(f.label, f.old, f.new) for f in diff.changed_fields] == [("Credit value", "7", "8")]
    assert diff.has_changes


def test_evidence_requirements_and_their_items_are_compared(specifications, centre_admin):
    data = fixture_data(PLAN)
    data["evidence_requirements"][5]["items"][1]["text"] = "team leaders"
    items = data["evidence_requirements"][3]["items"]
    added = chr(ord("a") + len(items))
    items.append({"letter": added, "text": "legal resources"})
    data["evidence_requirements"].pop()  # the last requirement
    old = Unit.objects.get(key=PLAN, version=1)
    new = publish(centre_admin, data)

    diff = unit_diff(old, new)

    by_number = {r.number: r for r in diff.requirements}
    assert {i.letter: i.status for i in by_number[6].items}["b"] == Status.CHANGED
    assert {i.letter: i.status for i in by_number[4].items}[added] == Status.ADDED
    assert by_number[7].status == Status.REMOVED
    assert by_number[1].status == Status.UNCHANGED
    assert not by_number[1].touched


def test_a_version_compared_with_itself_has_no_changes(specifications):
    unit = Unit.objects.get(key=MANAGE)
    diff = unit_diff(unit, unit)
    assert not diff.has_changes
    assert diff.criteria_counts["unchanged"] == 28


def test_the_previous_version_is_the_one_just_before(versions, centre_admin):
    v1, v2 = versions
    data = changed_manage()
    data["level"] = 5
    v3 = publish(centre_admin, data)
    assert previous_version(v3) == v2
    assert previous_version(v2) == v1
    assert previous_version(v1) is None


@pytest.mark.parametrize("key", [MANAGE, PLAN])
def test_the_comparison_takes_a_fixed_number_of_queries(specifications, centre_admin, django_assert_num_queries, key):
    old = Unit.objects.get(key=key)
    data = fixture_data(key)
    data["title"] += " (revised)"
    new = publish(centre_admin, data)
    # units, codes, NOS standards, outcomes, criteria, evidence requirements, their items
    # (Manage has no requirements, so its items are never asked for)
    with django_assert_num_queries(7 if key == PLAN else 6):
        diff = unit_diff(old, new)
        assert len(diff.outcomes) > 3


def test_the_confirmation_summary_names_what_a_new_version_drops(specifications):
    old = unit_to_spec(Unit.objects.get(key=PLAN))
    data = fixture_data(PLAN)
    data["evidence_requirements"] = []
    data["learner_guidance"] = []
    data["outcomes"][0]["criteria"][0]["text"] = "analyse what customers expect"
    new = UnitSpec.model_validate({**data, "key": PLAN, "version": 2, "sources": []})

    assert spec_change_summary(old, new) == [
        "changed: guidance for learners",
        "1 assessment criterion changed",
        "7 evidence requirements removed",
    ]
