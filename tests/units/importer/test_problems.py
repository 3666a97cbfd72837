"""The importer never guesses silently: numbering gaps and duplicates are errors, text it cannot
place is a warning, and nothing it reads is dropped without saying so."""

from units.importer import parse_text, problems

HEAD = """Unit Title: Keep records
Level: 3
Credit value: 2
Guided learning hours: 10

Learning Outcomes Assessment Criteria
The Learner will:
1 keep records
The Learner can:
"""


def test_a_gap_in_the_criteria_is_an_error():
    result = parse_text(HEAD + "1.1 file the record\n1.3 archive the record\n")
    assert result.errors == ["Criterion 1.2 is missing."]
    assert [c["number"] for c in result.data["outcomes"][0]["criteria"]] == ["1.1", "1.3"]


def test_a_duplicate_criterion_is_an_error_and_both_are_kept():
    result = parse_text(HEAD + "1.1 file the record\n1.2 archive it\n1.2 archive it again\n")
    assert result.errors == ["Criterion 1.2 appears twice."]
    assert len(result.data["outcomes"][0]["criteria"]) == 3


def test_a_missing_outcome_is_an_error():
    result = parse_text(HEAD + "1.1 file the record\n3 store records\n3.1 store them\n")
    assert result.errors == ["Learning outcome 2 is missing."]


def test_double_figure_numbers_are_read_in_order():
    criteria = "".join(f"1.{n} do step {n}\n" for n in range(1, 12))
    result = parse_text(HEAD + criteria)
    assert [c["number"] for c in result.data["outcomes"][0]["criteria"]][-3:] == ["1.9", "1.10", "1.11"]
    assert result.errors == []


def test_evidence_requirement_numbering_is_checked():
    result = parse_text(HEAD + "1.1 file the record\n\nEvidence requirements\n1. Real work.\n3. Over time.\n")
    assert result.errors == ["Evidence requirement 2 is missing."]


def test_text_it_cannot_place_is_listed_with_its_line():
    result = parse_text("Prepared for centre use only\n" + HEAD + "1.1 file the record\n")
    assert result.warnings == ["Line 1: “Prepared for centre use only” is not part of any field; not placed."]


def test_missing_fields_are_warned_about():
    result = parse_text("Learning Outcomes Assessment Criteria\n1 keep records\n1.1 file the record\n")
    assert result.warnings == [
        "No unit title found: enter it.",
        "No level found: enter it.",
        "No credit value found: enter it.",
        "No guided learning hours found: enter it.",
    ]
    assert result.data["outcomes"][0]["criteria"][0]["text"] == "file the record"


def test_problems_are_recomputed_from_corrected_data():
    data = parse_text(HEAD + "1.1 file the record\n1.3 archive the record\n").data
    data["outcomes"][0]["criteria"][1]["number"] = "1.2"
    assert problems(data) == []


def test_an_outcome_without_criteria_or_text_cannot_stand():
    assert problems({"outcomes": [{"number": 1, "text": "", "criteria": []}], "evidence_requirements": []}) == [
        "Learning outcome 1 has no text.",
        "Learning outcome 1 has no assessment criteria.",
    ]


def test_empty_input_says_there_is_nothing():
    result = parse_text("")
    assert result.errors == ["No learning outcomes were found."]
