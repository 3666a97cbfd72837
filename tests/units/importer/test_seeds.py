"""Each seed parsed to the exact structure it gives.

The checked fixtures are the expected structure: a field a seed gives must come out exactly as the
fixture has it where that seed is the fixture's first source for it, and equal up to rendering
noise (case, a closing full stop, quote style) where an earlier seed gave the wording.
"""

import json
from pathlib import Path

import pytest

from units.importer.fixtures import fixtures_dir, parse_seed
from units.importer.merge import comparable

SEED_000 = "000_58db592834eee7a5.txt"  # OCR 429, PDF text with the columns interleaved
SEED_001 = "001_20fa24159994ef5d.txt"  # OCR M/506/2898, PDF text, double-spaced, guidance column
SEED_002 = "002_d2ac6db389554bf9.txt"  # a training provider's copy, with evidence requirements
SEED_003 = "003_2ed901b2afcafdf3.txt"  # OCR B13, HTML table cells in tab-separated rows
SEED_004 = "004_3b8c47be8547580f.txt"  # a revision web page: guidance for learners

PLAN = "plan-organise-and-control-customer-service-operations"
MANAGE = "manage-customer-service-operations"


def fixture(key: str) -> dict:
    return json.loads(Path(fixtures_dir() / "units" / f"{key}.json").read_text(encoding="utf-8"))


def without_knowledge(outcomes: list[dict]) -> list[dict]:
    return [{**o, "knowledge": []} for o in outcomes]


# (seed, unit, fields the seed gives exactly, fields it gives up to rendering noise)
CASES = [
    (
        SEED_000,
        PLAN,
        ["title", "level", "credit_value", "guided_learning_hours", "purpose", "outcomes"],
        [],
    ),
    (
        SEED_001,
        MANAGE,
        [
            "title",
            "level",
            "credit_value",
            "guided_learning_hours",
            "reference_number",
            "purpose",
            "assessment_notes",
            "assessment_guidance",
            "nos_statement",
            "nos_standards",
            "additional_information",
            "real_work_only",
            "simulation_allowed",
            "sufficient_period_required",
            "outcomes",
            "evidence_requirements",
            "learner_guidance",
        ],
        [],
    ),
    (
        SEED_002,
        PLAN,
        [
            "level",
            "credit_value",
            "purpose",
            "evidence_requirements",
            "real_work_only",
            "simulation_allowed",
            "sufficient_period_required",
        ],
        ["title"],
    ),
    (
        SEED_003,
        PLAN,
        [
            "title",
            "level",
            "credit_value",
            "guided_learning_hours",
            "purpose",
            "assessment_notes",
            "assessment_guidance",
            "nos_statement",
            "additional_information",
            "evidence_requirements",
        ],
        ["outcomes"],
    ),
    (SEED_004, PLAN, ["title", "learner_guidance"], []),
]


@pytest.mark.parametrize(("seed", "key", "exact", "noisy"), CASES, ids=[c[0][:3] for c in CASES])
def test_each_seed_gives_its_fields_exactly(seed, key, exact, noisy):
    parsed = parse_seed(seed).data
    expected = fixture(key)
    for name in exact:
        assert parsed[name] == expected[name], name
    for name in noisy:
        assert comparable(parsed[name]) == comparable(expected[name]), name


def test_seed_002_gives_outcomes_and_criteria_but_no_knowledge():
    parsed = parse_seed(SEED_002).data
    assert comparable(parsed["outcomes"]) == comparable(without_knowledge(fixture(PLAN)["outcomes"]))
    assert parsed["outcomes"][0]["text"] == "Plan customer service operations"  # the provider's capitals, kept


def test_each_seed_names_its_own_unit_numbers():
    assert parse_seed(SEED_000).data["codes"] == [{"issuer": "OCR", "code": "429", "source": SEED_000}]
    assert parse_seed(SEED_001).data["codes"] == [{"issuer": "OCR", "code": "1", "source": SEED_001}]
    # The provider's running page header, mid-table, gives its number and is not read as text.
    assert parse_seed(SEED_002).data["codes"] == [{"issuer": "", "code": "CU782", "source": SEED_002}]
    assert parse_seed(SEED_003).data["codes"] == [{"issuer": "OCR", "code": "B13", "source": SEED_003}]
    assert parse_seed(SEED_004).data["codes"] == []


def test_seed_000_column_breaks_are_resolved_and_reported():
    result = parse_seed(SEED_000)
    outcomes = {o["number"]: o for o in result.data["outcomes"]}
    # "operations" of outcome 3 arrives on one line with the rest of criterion 3.1, after the
    # knowledge column's heading; "operations" of 4.7 arrives after the page footer.
    assert outcomes[3]["text"] == "deal with problems relating to customer service operations"
    assert outcomes[3]["criteria"][0]["text"] == (
        "collect information on the nature of the problem and assess the likely impact on the customer"
    )
    assert outcomes[4]["criteria"][6]["text"].endswith("quality of their customer service operations")
    assert [c["number"] for c in outcomes[4]["criteria"]][-2:] == ["4.9", "4.10"]
    assert result.warnings == [
        "Line 192: “operations assess the likely impact on” holds two columns; read “operations” as the end "
        "of learning outcome 3 and the rest as criterion 3.1. Check both.",
        "Line 329: “operations” read as the rest of criterion 4.7, which the document breaks off there.",
    ]
    assert result.errors == []


def test_seed_000_knows_where_each_field_came_from():
    result = parse_seed(SEED_000)
    lines = result.source_text.split("\n")
    span = result.locations["outcomes.0.criteria.0.text"]
    assert "1.1 analyse customer" in lines[span.start - 1]
    assert "to meet those expectations" in lines[span.end - 1]
    assert lines[result.locations["credit_value"].start - 1].startswith("Credit value")
    assert result.locations["outcomes.2.text"].end == 192  # the two-column line


def test_seed_001_guidance_goes_to_the_criteria_it_is_about():
    outcome = parse_seed(SEED_001).data["outcomes"][0]
    with_guidance = [c["number"] for c in outcome["criteria"] if c["guidance"]]
    assert with_guidance == ["1.1", "1.2", "1.4", "1.6", "1.7"]


def test_seed_001_and_003_parse_without_warnings_or_errors():
    for seed in (SEED_001, SEED_003):
        result = parse_seed(seed)
        assert (result.warnings, result.errors) == ([], []), seed


def test_seed_002_says_what_it_lacks():
    result = parse_seed(SEED_002)
    assert result.warnings == ["No guided learning hours found: enter it."]
    assert result.data["guided_learning_hours"] is None
    assert result.data["title"] == "Plan, Organise and Control Customer Service Operations"


def test_seed_004_is_a_guidance_page_whose_other_text_is_listed_not_dropped():
    result = parse_seed(SEED_004)
    assert result.data["outcomes"] == []
    assert result.errors == ["No learning outcomes were found."]
    assert result.warnings[-1] == "This is a guidance page, not a specification: it gives no outcomes or criteria."
    unplaced = " ".join(result.warnings)
    for text in ("The OCR Level 4 NVQ Diploma", "Core ideas you must understand"):
        assert text in unplaced
    kinds = [g["kind"] for g in result.data["learner_guidance"]]
    assert kinds.count("assessment_tip") == 6
    assert kinds.count("common_mistake") == 6


def test_mis_encoded_apostrophes_and_spaced_hyphens_are_undone():
    requirements = parse_seed(SEED_002).data["evidence_requirements"]  # "organisation‟s"
    assert requirements[3]["items"][1]["text"] == "your organisation’s customer service strategy"
    requirements = parse_seed(SEED_003).data["evidence_requirements"]  # "front - line", "organisation's"
    assert requirements[5]["items"][0]["text"] == "front-line staff"
    assert requirements[3]["items"][1]["text"] == "your organisation’s customer service strategy"
