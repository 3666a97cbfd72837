"""The source as numbered lines, with page furniture marked and table rows split into cells."""

import html
import re
from dataclasses import dataclass

from units.importer.normalise import squash

# "2 © OCR 2010", "© City & Guilds 2014 12", "Page 3 of 8", a bare page number.
_FURNITURE = [
    re.compile(r"^\d{1,3}\s*©.*\d{4}$"),
    re.compile(r"^©.*\d{4}(\s+\d{1,3})?$"),
    re.compile(r"^page \d+( of \d+)?$", re.IGNORECASE),
    re.compile(r"^\d{1,3}$"),
    re.compile(r"^oxford cambridge and rsa$", re.IGNORECASE),  # OCR's logo, as text
]
# A running header that names the unit: "Unit CU782 Plan, Organise and Control …".
RUNNING_HEADER = re.compile(r"^Unit ([A-Z]{1,4}\d{1,4}[A-Z]?)\s+(\S.*)$")
_TITLE_CASE_WORD = re.compile(r"^(?:[A-Z][\w’'-]*|and|or|of|the|to|for|in|a|an|&|,)$")


@dataclass(frozen=True)
class Line:
    no: int  # 1-based, in the normalised source
    text: str  # squashed
    indented: bool  # began with whitespace: a lost bullet glyph, or two columns on one line
    bullet: bool  # began with a bullet character

    @property
    def blank(self) -> bool:
        return not self.text


def is_furniture(text: str) -> bool:
    return any(p.match(text) for p in _FURNITURE)


def is_title_case(text: str) -> bool:
    words = text.replace(",", " ,").split()
    return bool(words) and all(_TITLE_CASE_WORD.match(w) for w in words) and words[0][0].isupper()


def to_lines(text: str) -> list[Line]:
    lines = []
    for no, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        bullet = stripped.startswith("• ")
        body = stripped[2:] if bullet else stripped
        lines.append(Line(no=no, text=squash(body), indented=raw[:1].isspace(), bullet=bullet))
    return lines


def is_table_row(raw: str) -> bool:
    return "\t" in raw or raw.lstrip().startswith(("<p>", "<ul", "<li>"))


@dataclass(frozen=True)
class Piece:
    """A paragraph or bullet inside a table cell."""

    text: str
    bullet: bool


_BLOCK = re.compile(r"<(/?)(p|li|ul|ol|br)\b[^>]*>", re.IGNORECASE)


def _add(pieces: list[Piece], chunk: str, in_item: bool) -> None:
    for j, segment in enumerate(re.split(r"•", chunk)):
        text = squash(html.unescape(re.sub(r"<[^>]+>", " ", segment)))
        if text and not re.fullmatch(r"[-–|:=_ ]+", text):  # not a markdown table's rule
            pieces.append(Piece(text=text, bullet=in_item or j > 0))


def cell_pieces(cell: str) -> list[Piece]:
    """A cell's paragraphs and bullets: `<p>`, `<li>` and "•" items, in order."""
    pieces: list[Piece] = []
    in_item, pos = False, 0
    for tag in _BLOCK.finditer(cell):
        _add(pieces, cell[pos : tag.start()], in_item)
        pos = tag.end()
        in_item = tag.group(2).lower() == "li" and not tag.group(1)
    _add(pieces, cell[pos:], in_item)
    return pieces


def row_cells(raw: str) -> list[list[Piece]]:
    return [cell_pieces(cell) for cell in raw.split("\t")]
