"""The specification fixtures say exactly what the source documents say.

Every learning outcome, assessment criterion, evidence requirement (with its lettered items),
knowledge note and guidance text in ``fixtures/`` is looked up in each source document (``seeds``)
that describes the unit, word for word.  Only differences that are rendering noise are ignored:
whitespace and line wrapping, letter case, HTML tags, OCR page footers ("2 © OCR 2010"), bullet
characters, quote/apostrophe variants (including mis-encodings), spaces round hyphens and a
trailing full stop.

Seeds rendered from a multi-column table (PDF text, HTML cells) interleave the columns, so a text
there may be interrupted once by words from another column; seeds marked ``interleaved=False``
must contain every text contiguously, and there a text must also end where the seed's text ends.

Pure pytest: no Django, no database.  The seeds are read from ``$SEEDS_DIR`` or
``<repo>/../shared/seeds``; if they are missing the tests fail (they never skip).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = REPO_ROOT / "fixtures"
SEEDS_DIR = Path(os.environ.get("SEEDS_DIR", REPO_ROOT.parent / "shared" / "seeds"))

# Longest run of other-column words allowed to interrupt a text in an interleaved seed.
MAX_INTERRUPTION = 120


@dataclass(frozen=True)
class Seed:
    """A source document and which parts of a unit it gives."""

    name: str
    interleaved: bool
    evidence: bool = False
    knowledge: bool = False
    guidance: bool = False


SEED_000 = "000_58db592834eee7a5.txt"  # OCR unit 429, PDF text, columns interleaved
SEED_001 = "001_20fa24159994ef5d.txt"  # OCR unit M/506/2898, PDF text, columns in order
SEED_002 = "002_d2ac6db389554bf9.txt"  # training provider's copy, Unit CU782
SEED_003 = "003_2ed901b2afcafdf3.txt"  # OCR unit B13, HTML table cells
SEED_004 = "004_3b8c47be8547580f.txt"  # revision web page: guidance, qualification

UNIT_SEEDS: dict[str, tuple[Seed, ...]] = {
    "plan-organise-and-control-customer-service-operations": (
        Seed(SEED_000, interleaved=True, knowledge=True),
        Seed(SEED_002, interleaved=False, evidence=True),
        Seed(SEED_003, interleaved=True, evidence=True, knowledge=True),
    ),
    "manage-customer-service-operations": (Seed(SEED_001, interleaved=False, guidance=True),),
}
# Units whose learner guidance comes from the revision page (seed 004).
LEARNER_GUIDANCE_SEED = {"plan-organise-and-control-customer-service-operations": SEED_004}
QUALIFICATION_SEEDS = {"ocr-level-4-nvq-diploma-in-business-and-administration": SEED_004}

UNIT_FIELDS = [
    "key", "version", "title", "level", "credit_value", "guided_learning_hours",
    "reference_number", "codes", "purpose", "assessment_notes", "assessment_guidance",
    "nos_statement", "nos_standards", "additional_information", "real_work_only",
    "simulation_allowed", "sufficient_period_required", "outcomes", "evidence_requirements",
    "learner_guidance", "sources",
]  # fmt: skip
QUALIFICATION_FIELDS = [
    "key", "title", "awarding_body", "level", "framework", "minimum_credits", "overview",
    "key_concepts", "groups", "sources",
]  # fmt: skip
GUIDANCE_KINDS = {
    "synopsis", "assessor_focus", "assessment_tip", "common_mistake", "key_term", "prerequisite",
}  # fmt: skip


# --------------------------------------------------------------------------- normalisation

FOOTER_RE = re.compile(r"^\s*\d+ © OCR 2010\s*$", re.MULTILINE)
TAG_RE = re.compile(r"<[^>]+>")
# Mis-encoded punctuation: UTF-8 read as Windows-1252 / Latin-1.
MOJIBAKE = {
    "\u00e2\u20ac\u2122": "'", "\u00e2\u20ac\u02dc": "'", "\u00e2\u20ac\u0153": "'",
    "\u00e2\u20ac\u009d": "'", "\u00e2\u20ac\u009c": "'", "\u00e2\u20ac\u201c": "-",
    "\u00e2\u20ac\u201d": "-", "\u0092": "'", "\u0091": "'", "\u0093": "'", "\u0094": "'",
}  # fmt: skip
QUOTES_RE = re.compile("[\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2032\u00b4`'\"]")
BULLETS_RE = re.compile("[\u2022\u25cf\u25aa\u25e6\u2023\u2219\u00b7\u25a0\u25a1\ue000-\uf8ff]")
EMOJI_RE = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u200d]")
HYPHEN_RE = re.compile(r"(?<=\w)[ \t]*-[ \t]*(?=\w)")
NUMBER_RE = re.compile(r"\d+(?:\.\d+)?\.?")
AC_NUMBER_RE = re.compile(r"(?<![\w.])(\d+\.\d+)\s+(?=[^\W\d_])")
ITEM_MARKER_RE = re.compile(r"[a-z]|-")


def normalise(text: str, *, markdown: bool = False) -> str:
    """Undo rendering noise; line breaks survive (tags, tabs and bullets become breaks)."""
    for bad, good in MOJIBAKE.items():
        text = text.replace(bad, good)
    text = FOOTER_RE.sub("\n", text)
    text = TAG_RE.sub("\n", text)
    text = EMOJI_RE.sub("", text)
    text = BULLETS_RE.sub("\n", text)
    text = QUOTES_RE.sub("'", text)
    text = text.replace("\t", "\n").replace("\u00a0", " ")
    text = HYPHEN_RE.sub("-", text)
    if markdown:
        text = text.replace("*", "")
    return text


def flat(text: str, *, markdown: bool = False) -> str:
    """Normalised text as one case-folded line (for whole-text comparisons)."""
    return " ".join(normalise(text, markdown=markdown).split()).casefold()


@dataclass(frozen=True)
class Token:
    word: str  # case-folded
    raw: str
    line_start: bool  # a line break (or a tag / cell / bullet) comes right before it


def tokenise(text: str) -> list[Token]:
    tokens: list[Token] = []
    last_end = 0
    for m in re.finditer(r"\S+", text):
        gap = text[last_end : m.start()]
        tokens.append(Token(m.group().casefold(), m.group(), not tokens or "\n" in gap))
        last_end = m.end()
    return tokens


@dataclass(frozen=True)
class SeedDoc:
    name: str
    raw: str
    text: str  # normalised
    tokens: tuple[Token, ...]


def fail_missing_seeds() -> None:
    if not SEEDS_DIR.is_dir():
        pytest.fail(
            f"Seed directory {SEEDS_DIR} does not exist: the fixtures cannot be checked against "
            "their source documents. Set SEEDS_DIR to the directory holding the seed .txt files.",
            pytrace=False,
        )


@cache
def _load_seed(name: str, markdown: bool) -> SeedDoc:
    raw = (SEEDS_DIR / name).read_text(encoding="utf-8")
    text = normalise(raw, markdown=markdown)
    return SeedDoc(name, raw, text, tuple(tokenise(text)))


def seed(name: str, *, markdown: bool = False) -> SeedDoc:
    fail_missing_seeds()
    if not (SEEDS_DIR / name).is_file():
        pytest.fail(f"Seed {name} is missing from {SEEDS_DIR}.", pytrace=False)
    return _load_seed(name, markdown)


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class El:
    """One element of a sequence looked for in a seed."""

    kind: str  # "num" (number token, "1" or "1."), "word", "marker" (optional "-" or item letter)
    value: Any
    lenient: bool = False  # a trailing full stop is ignored (end of a text)
    shown: str = ""

    def matches(self, token: Token) -> bool:
        if self.kind == "num":
            return token.word in (self.value, self.value + ".")
        if self.kind == "marker":
            return token.word in self.value
        if token.word == self.value:
            return True
        return self.lenient and token.word.rstrip(".") == self.value.rstrip(".")


def words(text: str) -> list[El]:
    toks = tokenise(normalise(text))
    return [El("word", t.word, lenient=(i == len(toks) - 1), shown=t.raw) for i, t in enumerate(toks)]


def number(n: Any) -> El:
    return El("num", str(n), shown=str(n))


def marker(letter: str) -> El:
    return El("marker", frozenset({"-", letter.casefold()}), shown=f"[{letter}]")


@dataclass
class Outcome:
    ok: bool
    message: str = ""
    interruption: tuple[int, int] | None = None


@dataclass
class _Search:
    doc: SeedDoc
    elems: list[El]
    interleaved: bool
    boundary: bool
    best: tuple[int, int, int, tuple[int, int] | None] = (-1, -1, -1, None)
    overrun: tuple[int, int] | None = None  # (start, end) of a full match not ending at a boundary
    start: int = 0
    min_head: int = field(init=False)

    def __post_init__(self) -> None:
        # At least two words of the text must come before an interruption.
        self.min_head = 3 if self.elems[0].kind == "num" else 2

    def at_boundary(self, pos: int) -> bool:
        """Does the seed's text end here: next comes a number, a new capitalised line or an item?"""
        toks = self.doc.tokens
        if pos >= len(toks) or NUMBER_RE.fullmatch(toks[pos].word):
            return True
        nxt = toks[pos]
        return nxt.line_start and (nxt.raw[0].isupper() or bool(ITEM_MARKER_RE.fullmatch(nxt.raw)))

    def note(self, idx: int, pos: int, gap: tuple[int, int] | None) -> None:
        if idx > self.best[0]:
            self.best = (idx, pos, self.start, gap)

    def match(self, pos: int, idx: int, gap: tuple[int, int] | None):
        toks, elems = self.doc.tokens, self.elems
        if idx == len(elems):
            if self.boundary and not self.at_boundary(pos):
                self.overrun = self.overrun or (self.start, pos)
                return None
            return pos, gap
        el = elems[idx]
        if el.kind == "marker":
            if pos < len(toks) and el.matches(toks[pos]):
                found = self.match(pos + 1, idx + 1, gap)
                if found:
                    return found
            return self.match(pos, idx + 1, gap)
        if pos < len(toks) and el.matches(toks[pos]):
            found = self.match(pos + 1, idx + 1, gap)
            if found:
                return found
        else:
            self.note(idx, pos, gap)
        # One interruption by other-column text, starting on a new line/cell, in interleaved seeds.
        if self.interleaved and gap is None and idx >= self.min_head and pos < len(toks) and toks[pos].line_start:
            for skip in range(1, MAX_INTERRUPTION + 1):
                if pos + skip >= len(toks):
                    break
                found = self.match(pos + skip, idx, (pos, pos + skip))
                if found:
                    return found
        return None


def _excerpt(tokens: tuple[Token, ...], start: int, end: int) -> str:
    return " ".join(t.raw for t in tokens[max(start, 0) : max(end, 0)])


def find(doc: SeedDoc, elems: list[El], *, interleaved: bool, label: str, text: str) -> Outcome:
    """Look for ``elems`` in ``doc``: contiguously, or (interleaved) with one interruption."""
    search = _Search(doc, elems, interleaved, boundary=not interleaved)
    toks = doc.tokens
    starts = [i for i, t in enumerate(toks) if elems[0].matches(t)]
    for start in starts:
        search.start = start
        found = search.match(start + 1, 1, None)
        if found:
            return Outcome(True, interruption=found[1])
    how = (
        "one interruption by other-column text allowed"
        if interleaved
        else "must be contiguous: this seed does not interleave columns"
    )
    head = f"seed {doc.name}: {label}: "
    if not starts:
        return Outcome(False, head + f"{elems[0].shown!r} does not occur in the seed at all. Fixture text: {text!r}")
    idx, pos, start, gap = search.best
    if idx < 0 and search.overrun:
        start, end = search.overrun
        return Outcome(
            False,
            head + "the seed text goes on after the fixture text ends: seed has "
            f"{_excerpt(toks, start, end)!r} followed by {_excerpt(toks, end, end + 6)!r} "
            f"(a word missing at the end of the fixture?). Fixture text: {text!r}",
        )
    matched = [e.shown for e in elems[1:idx] if e.kind != "marker"]
    expected = elems[idx].shown if idx < len(elems) else "(end of text)"
    seed_has = toks[pos].raw if pos < len(toks) else "(end of seed)"
    where = f" after an interruption {_excerpt(toks, gap[0], gap[1])[:80]!r}…" if gap else ""
    return Outcome(
        False,
        head + f"text differs ({how}). After {elems[0].shown} {' '.join(matched[-10:])!r}{where} "
        f"the fixture has {expected!r} but the seed has {seed_has!r}. "
        f"Seed there: {_excerpt(toks, start, pos + 8)!r}. Fixture text: {text!r}",
    )


def assert_found(doc: SeedDoc, elems: list[El], *, interleaved: bool, label: str, text: str) -> None:
    outcome = find(doc, elems, interleaved=interleaved, label=label, text=text)
    if not outcome.ok:
        pytest.fail(outcome.message, pytrace=False)


# --------------------------------------------------------------------------- fixtures


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def unit_path(key: str) -> Path:
    return FIXTURES_DIR / "units" / f"{key}.json"


def qualification_path(key: str) -> Path:
    return FIXTURES_DIR / "qualifications" / f"{key}.json"


UNITS: dict[str, dict[str, Any]] = {key: data for key in UNIT_SEEDS if (data := _read_json(unit_path(key))) is not None}
QUALIFICATIONS: dict[str, dict[str, Any]] = {
    key: data for key in QUALIFICATION_SEEDS if (data := _read_json(qualification_path(key)))
}


def _outcome_params() -> list[Any]:
    params = []
    for key, unit in UNITS.items():
        for s in UNIT_SEEDS[key]:
            for lo in unit.get("outcomes", []):
                params.append(
                    pytest.param(key, s, "LO", lo["number"], lo["text"], id=f"{key}-{s.name[:3]}-LO{lo['number']}")
                )
                for ac in lo.get("criteria", []):
                    params.append(
                        pytest.param(key, s, "AC", ac["number"], ac["text"], id=f"{key}-{s.name[:3]}-AC{ac['number']}")
                    )
    return params


def _evidence_params() -> list[Any]:
    return [
        pytest.param(key, s, er, id=f"{key}-{s.name[:3]}-ER{er['number']}")
        for key, unit in UNITS.items()
        for s in UNIT_SEEDS[key]
        if s.evidence
        for er in unit.get("evidence_requirements", [])
    ]


def _knowledge_params() -> list[Any]:
    return [
        pytest.param(key, s, lo["number"], n, section, id=f"{key}-{s.name[:3]}-LO{lo['number']}-K{n}")
        for key, unit in UNITS.items()
        for s in UNIT_SEEDS[key]
        if s.knowledge
        for lo in unit.get("outcomes", [])
        for n, section in enumerate(lo.get("knowledge", []), start=1)
    ]


def _guidance_params() -> list[Any]:
    return [
        pytest.param(key, s, ac["number"], ac["guidance"], id=f"{key}-{s.name[:3]}-G{ac['number']}")
        for key, unit in UNITS.items()
        for s in UNIT_SEEDS[key]
        if s.guidance
        for lo in unit.get("outcomes", [])
        for ac in lo.get("criteria", [])
        if ac.get("guidance")
    ]


def _unit_seed_params() -> list[Any]:
    return [pytest.param(key, s, id=f"{key}-{s.name[:3]}") for key in UNIT_SEEDS for s in UNIT_SEEDS[key]]


# --------------------------------------------------------------------------- tests: inputs


def test_seed_directory_present() -> None:
    fail_missing_seeds()
    needed = {s.name for seeds in UNIT_SEEDS.values() for s in seeds} | {SEED_004}
    missing = sorted(n for n in needed if not (SEEDS_DIR / n).is_file())
    assert not missing, f"seeds missing from {SEEDS_DIR}: {missing}"


@pytest.mark.parametrize("key", list(UNIT_SEEDS))
def test_unit_fixture_has_every_field_in_readme_order(key: str) -> None:
    path = unit_path(key)
    assert key in UNITS, f"{path} is missing or is not valid JSON"
    unit = UNITS[key]
    assert list(unit) == UNIT_FIELDS, f"{path}: fields {list(unit)} != README order {UNIT_FIELDS}"
    assert unit["key"] == key
    assert isinstance(unit["version"], int), f"{path}: version {unit['version']!r}"
    assert unit["version"] >= 1, f"{path}: version {unit['version']!r}"
    for code in unit["codes"]:
        assert list(code) == ["issuer", "code", "source"], f"{path}: code {code}"
    for std in unit["nos_standards"]:
        assert list(std) == ["code", "title", "suite"], f"{path}: NOS standard {std}"
    for lo in unit["outcomes"]:
        assert list(lo) == ["number", "text", "kind", "knowledge", "criteria"], f"{path}: LO {lo}"
        expected_kind = "knowledge" if lo["text"].casefold().startswith("understand") else "competence"
        assert lo["kind"] == expected_kind, f"{path}: LO {lo['number']} kind {lo['kind']!r}"
        for section in lo["knowledge"]:
            assert list(section) == ["heading", "points"], f"{path}: LO {lo['number']} knowledge"
            for point in section["points"]:
                assert list(point) == ["text", "bullets"], f"{path}: LO {lo['number']} point"
                assert all(isinstance(b, str) for b in point["bullets"])
        for ac in lo["criteria"]:
            assert list(ac) == ["number", "text", "guidance"], f"{path}: AC {ac}"
    for er in unit["evidence_requirements"]:
        assert list(er) == ["number", "text", "items"], f"{path}: ER {er}"
        for item in er["items"]:
            assert list(item) == ["letter", "text"], f"{path}: ER {er['number']} item {item}"
    for g in unit["learner_guidance"]:
        assert list(g) == ["kind", "text"], f"{path}: guidance {g}"
        assert g["kind"] in GUIDANCE_KINDS, f"{path}: guidance kind {g['kind']!r}"
    documents = {s["document"] for s in unit["sources"]}
    expected_docs = {s.name for s in UNIT_SEEDS[key]} | (
        {LEARNER_GUIDANCE_SEED[key]} if key in LEARNER_GUIDANCE_SEED else set()
    )
    assert documents == expected_docs, f"{path}: sources {sorted(documents)} != {sorted(expected_docs)}"
    raw = path.read_text(encoding="utf-8")
    assert raw == json.dumps(unit, indent=2, ensure_ascii=False) + "\n", (
        f"{path}: not 2-space indented UTF-8 JSON with a trailing newline"
    )


# --------------------------------------------------------------------------- tests: LOs and ACs


@pytest.mark.parametrize(("key", "s", "what", "num", "text"), _outcome_params())
def test_outcome_and_criterion_text_matches_seed(key: str, s: Seed, what: str, num: Any, text: str) -> None:
    doc = seed(s.name)
    assert_found(doc, [number(num), *words(text)], interleaved=s.interleaved, label=f"{what} {num}", text=text)


@pytest.mark.parametrize(("key", "s"), _unit_seed_params())
def test_seed_has_exactly_the_fixture_criteria(key: str, s: Seed) -> None:
    assert key in UNITS, f"{unit_path(key)} is missing or is not valid JSON"
    doc = seed(s.name)
    unit = UNITS[key]
    in_seed = set(AC_NUMBER_RE.findall(doc.text))
    in_fixture = {ac["number"] for lo in unit["outcomes"] for ac in lo["criteria"]}
    assert in_seed == in_fixture, (
        f"seed {s.name}: assessment criteria numbers differ from {key}: "
        f"only in seed {sorted(in_seed - in_fixture)}, only in fixture {sorted(in_fixture - in_seed)}"
    )
    lo_numbers = [lo["number"] for lo in unit["outcomes"]]
    assert [str(n) for n in lo_numbers] == [str(i) for i in range(1, len(lo_numbers) + 1)], (
        f"{key}: LO numbers {lo_numbers} are not 1..n"
    )
    seed_los = sorted({int(n.split(".")[0]) for n in in_seed})
    assert seed_los == [int(n) for n in lo_numbers], (
        f"seed {s.name}: outcomes {seed_los} (from its AC numbers) != fixture outcomes {lo_numbers}"
    )
    for lo in unit["outcomes"]:
        numbers = [ac["number"] for ac in lo["criteria"]]
        expected = [f"{lo['number']}.{i}" for i in range(1, len(numbers) + 1)]
        assert numbers == expected, f"{key}: LO {lo['number']} criteria {numbers} != {expected}"


# --------------------------------------------------------------------------- tests: evidence


@pytest.mark.parametrize(("key", "s", "er"), _evidence_params())
def test_evidence_requirement_matches_seed(key: str, s: Seed, er: dict[str, Any]) -> None:
    doc = seed(s.name)
    elems = [number(er["number"]), *words(er["text"])]
    for item in er["items"]:
        elems += [marker(item["letter"]), *words(item["text"])]
    text = er["text"] + "".join(f" ({i['letter']}) {i['text']}" for i in er["items"])
    assert_found(doc, elems, interleaved=s.interleaved, label=f"evidence requirement {er['number']}", text=text)
    # Each item on its own, so a failure names the item.
    for item in er["items"]:
        assert_found(
            doc,
            words(item["text"]),
            interleaved=s.interleaved,
            label=f"evidence requirement {er['number']} item {item['letter']}",
            text=item["text"],
        )


def _evidence_section(doc: SeedDoc) -> str:
    m = re.search(r"evidence requirements", doc.text, re.IGNORECASE)
    assert m, f"seed {doc.name}: no 'Evidence requirements' heading"
    end = re.search(r"guidance on assessment", doc.text[m.end() :], re.IGNORECASE)
    return doc.text[m.end() : m.end() + end.start()] if end else doc.text[m.end() :]


@pytest.mark.parametrize(("key", "s"), [p for p in _unit_seed_params() if p.values[1].evidence])
def test_seed_has_exactly_the_fixture_evidence_requirements(key: str, s: Seed) -> None:
    assert key in UNITS, f"{unit_path(key)} is missing or is not valid JSON"
    doc = seed(s.name)
    section = _evidence_section(doc)
    parts = re.split(r"(?m)^\s*(\d+)\.\s", section)
    in_seed = {int(parts[i]): parts[i + 1] for i in range(1, len(parts), 2)}
    ers = {int(er["number"]): er for er in UNITS[key]["evidence_requirements"]}
    assert sorted(in_seed) == sorted(ers), (
        f"seed {s.name}: evidence requirement numbers {sorted(in_seed)} != fixture {sorted(ers)}"
    )
    for n, body in in_seed.items():
        item_lines = re.findall(r"(?m)^\s*(?:[a-z]|-)\s+\S", body)
        assert len(item_lines) == len(ers[n]["items"]), (
            f"seed {s.name}: evidence requirement {n} has {len(item_lines)} items, fixture has {len(ers[n]['items'])}"
        )
        letters = [i["letter"] for i in ers[n]["items"]]
        assert letters == list("abcdefghij"[: len(letters)]), f"ER {n}: item letters {letters}"


def test_evidence_flags_follow_the_seeds() -> None:
    unit = UNITS.get("plan-organise-and-control-customer-service-operations")
    assert unit, "plan-organise-and-control-customer-service-operations fixture missing"
    for s in UNIT_SEEDS[unit["key"]]:
        if not s.evidence:
            continue
        text = flat(seed(s.name).raw)
        assert "real job" in text, s.name
        assert "work placement is not permissible" in text, s.name
        assert "simulation is not allowed for any performance evidence" in text, s.name
        assert "over a sufficient period of time" in text, s.name
    assert unit["real_work_only"] is True
    assert unit["simulation_allowed"] is False
    assert unit["sufficient_period_required"] is True
    other = UNITS.get("manage-customer-service-operations")
    assert other, "manage-customer-service-operations fixture missing"
    text = flat(seed(SEED_001).raw)
    assert "simulation" not in text, SEED_001
    assert "sufficient period" not in text, SEED_001
    assert (other["real_work_only"], other["simulation_allowed"], other["sufficient_period_required"]) == (
        False, None, False,
    )  # fmt: skip
    assert other["evidence_requirements"] == []


# --------------------------------------------------------------------------- tests: notes


@pytest.mark.parametrize(("key", "s", "lo_number", "n", "section"), _knowledge_params())
def test_knowledge_section_matches_seed(key: str, s: Seed, lo_number: int, n: int, section: dict[str, Any]) -> None:
    doc = seed(s.name)
    elems = words(section["heading"])
    text = section["heading"]
    for point in section["points"]:
        elems += words(point["text"])
        text += " " + point["text"]
        for bullet in point["bullets"]:
            elems += words(bullet)
            text += " • " + bullet
    assert_found(doc, elems, interleaved=s.interleaved, label=f"LO {lo_number} knowledge section {n}", text=text)


@pytest.mark.parametrize(("key", "s", "num", "guidance"), _guidance_params())
def test_criterion_guidance_matches_seed(key: str, s: Seed, num: str, guidance: str) -> None:
    doc = seed(s.name)
    assert_found(doc, words(guidance), interleaved=s.interleaved, label=f"AC {num} additional guidance", text=guidance)


def test_guidance_notes_in_seed_are_all_on_criteria() -> None:
    unit = UNITS.get("manage-customer-service-operations")
    assert unit, "manage-customer-service-operations fixture missing"
    notes = [ac["guidance"] for lo in unit["outcomes"] for ac in lo["criteria"] if ac["guidance"]]
    raw = seed(SEED_001).text
    column = raw[raw.index("1.7 Analyse") : raw.index("2 Be able to plan")]
    column = column[column.index("operations") + len("operations") :]
    in_seed = [" ".join(p.split()) for p in re.split(r"\n\s*\n\s*\n", column) if p.strip()]
    assert [flat(n) for n in in_seed] == [flat(n) for n in notes], (
        f"seed {SEED_001}: additional guidance column {in_seed} != fixture guidance {notes}"
    )


@pytest.mark.parametrize(("key", "s"), _unit_seed_params())
def test_unit_header_matches_seed(key: str, s: Seed) -> None:
    assert key in UNITS, f"{unit_path(key)} is missing or is not valid JSON"
    unit, doc = UNITS[key], seed(s.name)
    assert_found(doc, words(unit["title"]), interleaved=False, label="title", text=unit["title"])
    for name, pattern in (
        ("level", r"level:\s*(\d+)"),
        ("credit_value", r"credit value:\s*(\d+)"),
        ("guided_learning_hours", r"guided learning hours:\s*(\d+)"),
    ):
        m = re.search(pattern, doc.text, re.IGNORECASE)
        if m:
            assert int(m.group(1)) == unit[name], f"seed {s.name}: {name} {m.group(1)} != fixture {unit[name]}"
    urn = re.search(r"unit reference number:\s*(\S+)", doc.text, re.IGNORECASE)
    if urn:
        assert urn.group(1) == unit["reference_number"], (
            f"seed {s.name}: reference number {urn.group(1)!r} != fixture {unit['reference_number']!r}"
        )
    for code in unit["codes"]:
        if code["source"] == s.name:
            assert re.search(rf"(?<![\w/]){re.escape(code['code'])}(?![\w/])", doc.text), (
                f"seed {s.name}: unit code {code['code']!r} not found"
            )
            if code["issuer"]:
                assert re.search(
                    rf"{re.escape(code['issuer'])} unit number:?\s*{re.escape(code['code'])}\b", doc.text
                ), f"seed {s.name}: '{code['issuer']} unit number {code['code']}' not found"
    if unit["reference_number"]:
        texts = [seed(x.name).text for x in UNIT_SEEDS[key]]
        assert any(
            re.search(rf"unit reference number:\s*{re.escape(unit['reference_number'])}", t, re.IGNORECASE)
            for t in texts
        ), f"{key}: reference number {unit['reference_number']} not in any seed"


def _prose(unit: dict[str, Any]) -> list[tuple[str, str]]:
    out = [("purpose", p) for p in unit["purpose"].split("\n\n")]
    out += [("assessment_notes", t) for t in unit["assessment_notes"]]
    out += [("assessment_guidance", t) for t in unit["assessment_guidance"]]
    out += [("nos_statement", p) for p in unit["nos_statement"].split("\n\n") if p]
    out += [("additional_information", unit["additional_information"])] if unit["additional_information"] else []
    for std in unit["nos_standards"]:
        out += [("nos_standards.code", std["code"]), ("nos_standards.title", std["title"])]
    return out


@pytest.mark.parametrize("key", list(UNIT_SEEDS))
def test_unit_prose_matches_a_seed(key: str) -> None:
    assert key in UNITS, f"{unit_path(key)} is missing or is not valid JSON"
    unit = UNITS[key]
    problems = []
    for name, text in _prose(unit):
        outcomes = [
            find(seed(s.name, markdown=True), words(text), interleaved=s.interleaved, label=name, text=text)
            for s in UNIT_SEEDS[key]
        ]
        if not any(o.ok for o in outcomes):
            problems.append("; ".join(o.message for o in outcomes))
    for std in unit["nos_standards"]:
        if not any(flat(std["suite"]) in flat(seed(s.name).raw) for s in UNIT_SEEDS[key]):
            problems.append(f"NOS suite {std['suite']!r} not in any seed")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- tests: seed 004


def _between(text: str, start: str, end: str) -> str:
    i = text.index(start) + len(start)
    return text[i : text.index(end, i)]


def _bullets(raw: str, start: str, end: str) -> list[str]:
    return [flat(b) for b in _between(raw, start, end).split("\u2022")[1:]]


def _paragraphs(raw: str, start: str, end: str) -> list[str]:
    return [flat(p) for p in re.split(r"\n\s*\n", _between(raw, start, end)) if p.strip()]


GUIDANCE_SECTIONS = {
    "synopsis": ("Topic Synopsis", "Key Concepts & Core Principles"),
    "assessor_focus": ("Key criteria assessors look for in your portfolio", "Assessment Guidance\n"),
    "assessment_tip": ("Guidance for achieving higher grades", "Common Mistakes"),
    "common_mistake": ("Common errors to avoid in your coursework", "Frequently Asked Questions"),
    "prerequisite": ("Prior knowledge that will help with this topic", "Key Terminology"),
    "key_term": ("Essential terms to know", "Ready to learn?"),
}


@pytest.mark.parametrize(("key", "kind"), [(k, kind) for k in LEARNER_GUIDANCE_SEED for kind in GUIDANCE_SECTIONS])
def test_learner_guidance_matches_revision_page(key: str, kind: str) -> None:
    assert key in UNITS, f"{unit_path(key)} is missing or is not valid JSON"
    raw = seed(LEARNER_GUIDANCE_SEED[key]).raw
    start, end = GUIDANCE_SECTIONS[kind]
    in_seed = _paragraphs(raw, start, end) if kind == "synopsis" else _bullets(raw, start, end)
    in_fixture = [flat(g["text"]) for g in UNITS[key]["learner_guidance"] if g["kind"] == kind]
    assert in_fixture == in_seed, (
        f"seed {LEARNER_GUIDANCE_SEED[key]}: {kind} texts differ.\n"
        f"only in fixture: {[t for t in in_fixture if t not in in_seed]}\n"
        f"only in seed: {[t for t in in_seed if t not in in_fixture]}"
    )
    for g in UNITS[key]["learner_guidance"]:
        assert not EMOJI_RE.search(g["text"]), f"guidance keeps an emoji: {g['text']!r}"


@pytest.mark.parametrize("key", list(QUALIFICATION_SEEDS))
def test_qualification_matches_revision_page(key: str) -> None:
    path = qualification_path(key)
    assert key in QUALIFICATIONS, f"{path} is missing or is not valid JSON"
    q = QUALIFICATIONS[key]
    assert list(q) == QUALIFICATION_FIELDS, f"{path}: fields {list(q)} != README order"
    assert path.read_text(encoding="utf-8") == json.dumps(q, indent=2, ensure_ascii=False) + "\n"
    raw = seed(QUALIFICATION_SEEDS[key]).raw
    assert {s["document"] for s in q["sources"]} == {QUALIFICATION_SEEDS[key]}
    assert flat(f"{q['awarding_body']} {q['title']}") in flat(raw), f"title {q['title']!r} not in seed"
    overview = _paragraphs(raw, "Topic Overview", "Key Concepts\n")
    assert [flat(p) for p in q["overview"].split("\n\n")] == overview, "overview differs from seed 004"
    concepts = _bullets(raw, "Core ideas you must understand for this topic", "Learning Objectives")
    assert [flat(c) for c in q["key_concepts"]] == concepts, "key concepts differ from seed 004"
    for group in q["groups"]:
        assert list(group) == ["name", "kind", "minimum_credits", "units", "units_not_loaded"]
        assert group["kind"] in {"mandatory", "optional"}
        for name in group["units_not_loaded"]:
            assert flat(f"'{name}'") in flat(raw), f"unit {name!r} not named in seed 004"
            assert not any(flat(u["title"]) == flat(name) for u in UNITS.values())
        for ref in group["units"]:
            unit = _read_json(unit_path(ref["key"]))
            assert unit, f"group {group['name']}: no unit fixture {ref}"
            assert unit["version"] == ref["version"], f"group {group['name']}: version of {ref}"
