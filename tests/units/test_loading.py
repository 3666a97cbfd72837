import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import FIXTURES_DIR
from units.models import (
    AssessmentCriterion,
    EvidenceRequirement,
    EvidenceRequirementItem,
    KnowledgePoint,
    LearnerGuidance,
    LearningOutcome,
    Qualification,
    Unit,
)
from units.selectors import qualification_to_spec, unit_to_spec
from units.services import LoadStatus, specification_files, specifications_load
from units.specs import SpecError, dump_spec

PLAN = "plan-organise-and-control-customer-service-operations"
MANAGE = "manage-customer-service-operations"
QUALIFICATION = "ocr-level-4-nvq-diploma-in-business-and-administration"

SPEC_MODELS = [Unit, LearningOutcome, AssessmentCriterion, EvidenceRequirement, EvidenceRequirementItem, Qualification]


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in SPEC_MODELS}


def test_fixtures_load_both_units_with_their_shape(specifications):
    plan = Unit.objects.get(key=PLAN)
    manage = Unit.objects.get(key=MANAGE)

    assert (plan.title, plan.level, plan.credit_value, plan.guided_learning_hours) == (
        "Plan, organise and control customer service operations",
        4,
        10,
        67,
    )
    assert plan.outcomes.count() == 4
    assert AssessmentCriterion.objects.filter(outcome__unit=plan).count() == 27
    assert [r.items.count() for r in plan.evidence_requirements.all()] == [0, 0, 0, 3, 4, 3, 2]
    assert sorted(c.code for c in plan.codes.all()) == ["429", "B13", "CU782"]
    assert (plan.real_work_only, plan.simulation_allowed, plan.sufficient_period_required) == (True, False, True)
    assert plan.learner_guidance.filter(kind=LearnerGuidance.Kind.COMMON_MISTAKE).count() == 6

    assert (manage.reference_number, manage.credit_value, manage.guided_learning_hours) == ("M/506/2898", 7, 23)
    assert manage.outcomes.count() == 5
    assert AssessmentCriterion.objects.filter(outcome__unit=manage).count() == 28
    assert [n.code for n in manage.nos_standards.all()] == ["CFACSB13", "CFACSD20"]
    assert manage.simulation_allowed is None  # the document does not say
    assert manage.outcomes.get(number=1).kind == LearningOutcome.Kind.KNOWLEDGE
    assert (
        AssessmentCriterion.objects.get(outcome__unit=manage, number="1.4").guidance
        == "Techniques may include swot, pestle analysis, brainstorming or workshops"
    )

    qualification = Qualification.objects.get(key=QUALIFICATION)
    assert qualification.awarding_body == "OCR"
    assert {u.key for u in Unit.objects.filter(rule_groups__qualification=qualification)} == {PLAN, MANAGE}


def test_knowledge_notes_keep_their_bullets(specifications):
    point = KnowledgePoint.objects.get(section__outcome__unit__key=PLAN, text__startswith="Typical customers")
    assert point.bullets[0] == "internal and external"
    assert len(point.bullets) == 6


def test_criteria_are_ordered_naturally(specifications):
    outcome = LearningOutcome.objects.get(unit__key=PLAN, number=4)
    assert [c.number for c in outcome.criteria.all()][-3:] == ["4.8", "4.9", "4.10"]


def test_loading_twice_changes_nothing(specifications):
    before = counts()
    snapshot = [dump_spec(unit_to_spec(u)) for u in Unit.objects.all()]

    results = specifications_load(paths=specification_files(FIXTURES_DIR))

    assert {r.status for r in results} == {LoadStatus.UNCHANGED}
    assert counts() == before
    assert [dump_spec(unit_to_spec(u)) for u in Unit.objects.all()] == snapshot


def test_database_round_trip_reproduces_the_fixture_files_exactly(specifications):
    for path in sorted((FIXTURES_DIR / "units").glob("*.json")):
        unit = Unit.objects.get(key=path.stem)
        assert dump_spec(unit_to_spec(unit)) == path.read_text(encoding="utf-8"), path.name
    path = FIXTURES_DIR / "qualifications" / f"{QUALIFICATION}.json"
    qualification = Qualification.objects.get(key=QUALIFICATION)
    assert dump_spec(qualification_to_spec(qualification)) == path.read_text(encoding="utf-8")


def test_a_spec_corrected_in_the_database_is_kept_not_overwritten(specifications):
    criterion = AssessmentCriterion.objects.get(outcome__unit__key=PLAN, number="1.1")
    criterion.text = "corrected by an administrator"
    criterion.save()

    results = specifications_load(paths=specification_files(FIXTURES_DIR))

    assert {r.label: r.status for r in results}[f"unit {PLAN} v1"] is LoadStatus.KEPT
    criterion.refresh_from_db()
    assert criterion.text == "corrected by an administrator"


@pytest.fixture
def broken_copy(tmp_path: Path):
    """A copy of fixtures/ with one unit file rewritten by the test."""
    shutil.copytree(FIXTURES_DIR, tmp_path / "fixtures")
    path = tmp_path / "fixtures" / "units" / f"{PLAN}.json"

    def write(mutate) -> Path:
        data = json.loads(path.read_text(encoding="utf-8"))
        mutate(data)
        path.write_text(json.dumps(data), encoding="utf-8")
        return tmp_path / "fixtures"

    return write


def _skip_criterion(data):
    del data["outcomes"][0]["criteria"][1]  # 1.1, 1.3, 1.4: a gap


def _duplicate_criterion(data):
    data["outcomes"][0]["criteria"][1]["number"] = "1.1"


def _duplicate_outcome(data):
    data["outcomes"][1]["number"] = 1
    for i, criterion in enumerate(data["outcomes"][1]["criteria"], start=1):
        criterion["number"] = f"1.{i}"


def _wrong_kind(data):
    data["outcomes"][3]["kind"] = "competence"  # "understand how to plan ..."


def _unknown_field(data):
    data["outcomes"][0]["colour"] = "red"


def _empty_text(data):
    data["outcomes"][2]["criteria"][0]["text"] = ""


def _bad_letter(data):
    data["evidence_requirements"][3]["items"][1]["letter"] = "c"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_skip_criterion, "expected 1.2, found 1.3"),
        (_duplicate_criterion, "expected 1.2, found 1.1"),
        (_duplicate_outcome, "learning outcomes must be numbered 1, 2, 3"),
        (_wrong_kind, "outcome 4 is worded as a knowledge outcome"),
        (_unknown_field, "outcomes[0].colour: Extra inputs are not permitted"),
        (_empty_text, "outcomes[2].criteria[0].text"),
        (_bad_letter, "expected b, found c"),
    ],
)
def test_a_broken_fixture_fails_clearly_and_loads_nothing(db, broken_copy, mutate, message):
    folder = broken_copy(mutate)

    with pytest.raises(CommandError) as excinfo:
        call_command("load_specifications", str(folder))

    assert f"{PLAN}.json" in str(excinfo.value)
    assert message in str(excinfo.value)
    assert "nothing was loaded" in str(excinfo.value)
    assert counts() == dict.fromkeys(counts(), 0)


def test_invalid_json_names_the_line(db, tmp_path):
    path = tmp_path / "unit.json"
    path.write_text('{"key": "x",\n "outcomes": [}', encoding="utf-8")
    with pytest.raises(SpecError, match=r"unit.json: not valid JSON: .*\(line 2, column 15\)"):
        specifications_load(paths=[path])


def test_qualification_naming_a_missing_unit_rolls_everything_back(db, tmp_path):
    shutil.copy(FIXTURES_DIR / "units" / f"{PLAN}.json", tmp_path)
    shutil.copy(FIXTURES_DIR / "qualifications" / f"{QUALIFICATION}.json", tmp_path)

    with pytest.raises(SpecError, match=f"unit '{MANAGE}' version 1 is not loaded"):
        specifications_load(paths=sorted(tmp_path.glob("*.json")))

    assert Unit.objects.count() == 0
    assert Qualification.objects.count() == 0


def test_command_reports_each_file(db, capsys):
    call_command("load_specifications")
    out = capsys.readouterr().out
    assert f"unit {PLAN} v1: created" in out
    assert f"qualification {QUALIFICATION}: created" in out

    call_command("load_specifications")
    assert f"unit {PLAN} v1: unchanged" in capsys.readouterr().out


def test_command_rejects_a_missing_path(db):
    with pytest.raises(CommandError, match=r"no-such\.json: no such file or folder"):
        call_command("load_specifications", "no-such.json")
