"""fixtures/units is what the importer makes of the seeds, merged in the order fixtures/seeds.toml
lists them; the seeds of one unit agree with each other."""

import copy

from django.core.management import call_command

from units.importer.fixtures import parse_seed, read_manifest, regenerate
from units.importer.merge import merge
from units.specs import UnitSpec

SEED_000 = "000_58db592834eee7a5.txt"
SEED_002 = "002_d2ac6db389554bf9.txt"
SEED_003 = "003_2ed901b2afcafdf3.txt"
SEED_004 = "004_3b8c47be8547580f.txt"


def test_regenerating_the_fixtures_from_all_five_seeds_changes_nothing():
    results = regenerate()
    seeds = {s["document"] for entry in read_manifest() for s in entry["sources"]}
    assert len(seeds) == 5
    assert len(results) == 2
    for r in results:
        assert r.path.read_text(encoding="utf-8") == r.text, r.path.name


def test_the_check_command_agrees(capsys):
    call_command("regenerate_fixtures", "--check")
    assert capsys.readouterr().out.count("unchanged") == 2


def test_seeds_000_002_and_003_describe_the_same_unit_and_merge_without_conflict():
    parts = [(name, parse_seed(name)) for name in (SEED_000, SEED_002, SEED_003)]
    data, conflicts = merge(parts)
    assert conflicts == []
    assert [len(o["criteria"]) for o in data["outcomes"]] == [4, 8, 5, 10]
    assert len(data["evidence_requirements"]) == 7
    assert [c["code"] for c in data["codes"]] == ["429", "B13", "CU782"]
    # Any order of the three gives the same unit, up to which source's capitals are kept.
    reversed_data, conflicts = merge(list(reversed(parts)))
    assert conflicts == []
    assert [o["number"] for o in reversed_data["outcomes"]] == [1, 2, 3, 4]


def test_the_merged_unit_is_a_valid_specification():
    parts = [(name, parse_seed(name)) for name in (SEED_000, SEED_002, SEED_003, SEED_004)]
    data, _ = merge(parts)
    spec = UnitSpec.model_validate({**data, "key": "plan", "version": 1, "sources": [{"title": "seeds"}]})
    assert sum(len(o.criteria) for o in spec.outcomes) == 27
    assert spec.simulation_allowed is False
    assert spec.real_work_only
    assert spec.sufficient_period_required


def test_sources_that_disagree_are_reported_with_both_wordings_not_resolved():
    first = parse_seed(SEED_000)
    second = copy.deepcopy(parse_seed(SEED_003))
    second.data["outcomes"][1]["criteria"][2]["text"] = "ensure that planned resources are sometimes available"
    second.data["level"] = 5
    _, conflicts = merge([("000", first), ("003", second)])
    assert conflicts == [
        "level: 000 says 4, 003 says 5",
        "criterion 2.3 text: 000 says “ensure that planned resources are available when required”, "
        "003 says “ensure that planned resources are sometimes available”",
    ]


def test_a_source_missing_a_criterion_the_others_have_is_a_conflict():
    first = parse_seed(SEED_000)
    second = copy.deepcopy(parse_seed(SEED_003))
    del second.data["outcomes"][3]["criteria"][9]
    _, conflicts = merge([("000", first), ("003", second)])
    assert conflicts == ["criterion 4.10: 003 does not have it"]
