"""Property tests: a known specification, written out with the noise real documents carry (any
line width, page footers between any two lines, stray spaces, blank lines, mis-encoded
apostrophes, bullet glyphs of every kind), is read back exactly."""

import json
import random
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.units.importer.render import spec_blocks
from units.importer import parse_text
from units.importer.fixtures import fixtures_dir

KEYS = ["manage-customer-service-operations", "plan-organise-and-control-customer-service-operations"]
FIELDS = [
    "title", "level", "credit_value", "guided_learning_hours", "reference_number", "purpose",
    "assessment_notes", "additional_information", "real_work_only", "simulation_allowed",
    "sufficient_period_required", "outcomes", "evidence_requirements",
]  # fmt: skip
BULLET_GLYPHS = ["•", "\uf0b7", "▪", "●", "-", "–", ""]  # "" : the glyph lost, only its indent left
APOSTROPHES = ["’", "'", "‟", "â€™", "\u0092"]


def unit(key: str) -> dict:
    return json.loads(Path(fixtures_dir() / "units" / f"{key}.json").read_text(encoding="utf-8"))


def noisy_text(data: dict, rnd: random.Random, width: int) -> str:
    lines: list[str] = []
    for kind, text in spec_blocks(data):
        text = text.replace("’", rnd.choice(APOSTROPHES))
        if kind == "line":
            lines.append(text)
            continue
        wrapped = textwrap.wrap(text, width, break_on_hyphens=False)
        if kind == "bullet":
            glyph = rnd.choice(BULLET_GLYPHS)
            wrapped[0] = f" {glyph} {wrapped[0]}" if glyph else f" {wrapped[0]}"
        lines += wrapped
    out: list[str] = []
    page = 1
    for i, line in enumerate(lines):
        if i and rnd.random() < 0.08:
            page += 1
            out += ["", f"{page} © OCR 2010  ", ""]  # a page break between any two lines
        words = line.split(" ")
        if len(words) > 2 and rnd.random() < 0.2:  # a doubled space inside the line
            k = rnd.randrange(1, len(words))
            words[k] = " " + words[k]
        line = " ".join(words) + " " * rnd.choice([0, 0, 1, 2])
        previous = out[-1].rstrip() if out else ""
        if out and rnd.random() < 0.15 and not (previous.endswith((".", ":")) and line.lstrip()[:1].isupper()):
            out.append(rnd.choice(["", " "]))  # a blank line where it cannot end a paragraph
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("key", KEYS)
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), width=st.integers(22, 140))
def test_a_known_specification_survives_wrapping_and_page_noise(key, seed, width):
    expected = unit(key)
    result = parse_text(noisy_text(expected, random.Random(seed), width))
    for name in FIELDS:
        assert result.data[name] == expected[name], name
    assert [(c["issuer"], c["code"]) for c in result.data["codes"]] == [
        (c["issuer"], c["code"]) for c in expected["codes"] if c["issuer"]
    ]
    assert result.errors == []


@pytest.mark.parametrize("key", KEYS)
def test_without_noise_nothing_is_left_over(key):
    result = parse_text(noisy_text(unit(key), random.Random(0), 10_000).replace("© OCR", "© OCR"))
    assert result.errors == []
    assert result.warnings == []
