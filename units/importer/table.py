"""The outcomes table: learning outcomes, their criteria, and the third column (knowledge notes or
per-criterion guidance), from text where the columns may have been flattened into one stream.

A PDF's text comes out column by column within each row, and a page break restarts the columns,
so a criterion can resume after the next column's heading. Lines are read as events and given to
the column they continue; where that is inferred rather than written, a warning says so.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

from units.importer.lines import Line, cell_pieces, is_furniture, is_table_row
from units.importer.result import Span

LO_START = re.compile(r"^(\d{1,2})\.?\s+(?=[A-Za-z])(.*)$")
AC_START = re.compile(r"^(\d{1,2})\.(\d{1,2})\.?\s+(?=\S)(.*)$")
INLINE_AC = re.compile(r"\s(\d{1,2})\.(\d{1,2})\s+(?=[A-Za-z])")
COLUMN_LABEL = re.compile(r"^the learner (will|can):?$", re.IGNORECASE)
NOTES_HEADING = re.compile(r"^candidates (should|must|need|will)\b.*:$", re.IGNORECASE)
HEADER_WORDS = re.compile(
    r"^(learning outcomes?|assessment criteria|knowledge,? understanding( and skills)?|and skills|"
    r"additional guidance|guidance|evidence|range)\b",
    re.IGNORECASE,
)
# Above the first outcome, a line naming a column is the table's header, however it wrapped.
HEADER_PART = re.compile(r"\b(learning|outcomes?|criteria|knowledge|understanding|guidance|skills)\b", re.IGNORECASE)
_ACRONYM = re.compile(r"^(?:[A-Z]{2,}s?\b|I\b)")


def continues(text: str) -> bool:
    """Text that reads as the middle of a sentence: it carries on whatever came before."""
    return bool(text) and (not text[0].isupper() or bool(_ACRONYM.match(text))) and not text[0].isdigit()


@dataclass
class Item:
    text: str
    first: int
    last: int

    def add(self, text: str, no: int) -> None:
        # A word wrapped after its hyphen or slash ("up-to-" / "date") is one word again.
        glued = re.search(r"[A-Za-z][-/]$", self.text) and text[:1].islower()
        self.text = f"{self.text}{text}" if glued else f"{self.text} {text}".strip()
        self.first, self.last = min(self.first, no), max(self.last, no)

    @property
    def span(self) -> Span:
        return Span(self.first, self.last)


@dataclass
class Criterion:
    number: str
    item: Item
    guidance: Item | None = None


@dataclass
class Outcome:
    number: int
    item: Item
    criteria: list[Criterion] = field(default_factory=list)
    notes: list[tuple[str, Item]] = field(default_factory=list)  # ("heading"|"para"|"bullet", item)


@dataclass(frozen=True)
class Event:
    kind: str  # lo, ac, heading, bullet, text, blank
    text: str
    no: int
    number: str = ""
    indented: bool = False
    column: int | None = None  # a table cell's column, where the source says it
    joins: bool = False  # the first piece of a cell that carries on from the row before


def _join_wrapped_headings(lines: list[Line], raws: list[str]) -> list[Line]:
    """ "Candidates should have an / understanding of:" is one heading wrapped by the column (a
    page footer may fall between the halves)."""
    out: list[Line] = []
    absorbed: set[int] = set()
    for i, line in enumerate(lines):
        if line.no in absorbed:
            continue
        in_table = is_table_row(raws[line.no - 1])  # a table's cells are read from the raw row
        if not in_table and line.text.startswith("Candidates ") and not line.text.endswith(":"):
            following = [
                ln
                for ln in lines[i + 1 : i + 8]
                if not ln.blank and not is_furniture(ln.text) and not is_table_row(raws[ln.no - 1])
            ][:3]
            text, taken = line.text, []
            for nxt in following:
                if not continues(nxt.text):
                    break
                text, taken = f"{text} {nxt.text}", [*taken, nxt.no]
                if text.endswith(":"):
                    absorbed.update(taken)
                    line = Line(line.no, text, line.indented, line.bullet)
                    break
        out.append(line)
    return out


class OutcomesTable:
    def __init__(self, lines: list[Line], raws: list[str], words: list[str]) -> None:
        self.raws = raws
        self.words = words  # the document's words, for telling columns apart on a merged line
        self.outcomes: list[Outcome] = []
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.notes_kind = ""  # "knowledge" or "guidance", from the header or the notes' headings
        self.header_seen = False
        self.outcomes_started = False
        self.events = self._events(lines)

    # -- reading lines into events ---------------------------------------------------------

    def _events(self, lines: list[Line]) -> list[Event]:
        events: list[Event] = []
        for line in _join_wrapped_headings(lines, self.raws):
            raw = self.raws[line.no - 1]
            if line.blank:
                events.append(Event("blank", "", line.no))
            elif is_furniture(line.text):
                events.append(Event("break", line.text, line.no))  # a page ended here
            elif is_table_row(raw):
                self.outcomes_started = self.outcomes_started or any(e.kind in ("lo", "ac") for e in events)
                cells = [cell_pieces(c) for c in raw.split("\t")]
                if self._header_row(cells):
                    continue
                for column, pieces in enumerate(cells[:3]):
                    for i, piece in enumerate(pieces):
                        kind = "bullet" if piece.bullet else self._kind(piece.text, column)
                        # A cell's first line may carry on the note above it: the row or page broke it.
                        joins = i == 0 and kind == "text" and continues(piece.text)
                        events.append(self._event(kind, piece.text, line.no, column=column, joins=joins))
            elif HEADER_PART.search(line.text) and not any(e.kind in ("lo", "ac") for e in events):
                self._note_header(line.text)
            else:
                events.extend(self._line_events(line))
        return events

    def _header_row(self, cells: list[list]) -> bool:
        texts = [p.text for cell in cells for p in cell]
        if texts and all(HEADER_WORDS.match(t) or (not self.outcomes_started and HEADER_PART.search(t)) for t in texts):
            for t in texts:
                self._note_header(t)
            return True
        return False

    def _note_header(self, text: str) -> None:
        self.header_seen = True
        lowered = text.lower()
        if "knowledge" in lowered or "skills" in lowered:
            self.notes_kind = "knowledge"
        elif "guidance" in lowered and not self.notes_kind:
            self.notes_kind = "guidance"

    def _kind(self, text: str, column: int | None) -> str:
        if COLUMN_LABEL.match(text):
            return "label"
        if column in (None, 0) and LO_START.match(text) and not AC_START.match(text):
            return "lo"
        if column in (None, 1) and AC_START.match(text):
            return "ac"
        if column in (None, 2) and NOTES_HEADING.match(text):
            return "heading"
        return "text"

    def _event(self, kind: str, text: str, no: int, **kw: object) -> Event:
        if kind == "lo":
            m = LO_START.match(text)
            return Event("lo", m.group(2), no, number=m.group(1), **kw)
        if kind == "ac":
            m = AC_START.match(text)
            return Event("ac", m.group(3), no, number=f"{m.group(1)}.{m.group(2)}", **kw)
        return Event(kind, text, no, **kw)

    def _line_events(self, line: Line) -> list[Event]:
        text = line.text
        if line.bullet:
            return [Event("bullet", text, line.no)]
        kind = self._kind(text, None)
        if kind == "lo":
            # A training provider's layout puts the first criterion on the outcome's line.
            inline = INLINE_AC.search(text)
            if inline:
                return [
                    self._event("lo", text[: inline.start()], line.no),
                    self._event("ac", text[inline.start() + 1 :], line.no),
                ]
        return [self._event(kind, text, line.no, indented=line.indented)]

    # -- events into outcomes ----------------------------------------------------------------

    def parse(self) -> None:
        # The outcome whose criteria and notes are being read, and (in a table) the outcome
        # whose own column is: a PDF row centres the outcome's text beside its later criteria.
        self.current: Outcome | None = None
        self.outcome_column: Outcome | None = None
        self.pending_notes: list[tuple[str, Item]] = []
        stream = ""
        for i, e in enumerate(self.events):
            if e.kind in ("blank", "label", "break"):
                continue
            if e.kind == "lo" and self._new_outcome(e):
                stream = "lo"
            elif e.kind == "ac" and self._new_criterion(e):
                stream = "ac"
            elif self.current is None and e.column == 2:
                # A row's notes can start on a line above its first criterion.
                self.pending_notes.append(("heading" if e.kind == "heading" else "para", Item(e.text, e.no, e.no)))
            elif self.current is None:
                self.warnings.append(f"Line {e.no}: “{e.text}” comes before the first learning outcome; not placed.")
            elif e.column is not None:
                stream = self._cell_text(e)
            elif e.kind == "heading":
                self._note("heading", e)
                stream = "notes"
            else:
                stream = self._flow_text(i, e, stream)
        if self.outcomes and self.pending_notes:
            first = self.outcomes[0]
            notes = self.pending_notes + first.notes
            if notes[0][0] == "para" and len(notes) > 1 and continues(notes[1][1].text):
                notes[0][1].add(notes[1][1].text, notes[1][1].last)  # the heading's wrapped half
                del notes[1]
            first.notes = notes
        elif self.pending_notes:
            self.warnings += [
                f"Line {i.first}: “{i.text}” comes before the first learning outcome; not placed."
                for _, i in self.pending_notes
            ]
        for before, after in pairwise(self.outcomes):
            # A row's notes heading can start on the lines above its first criterion, so all or
            # half of it lands at the end of the previous row's notes.
            if not before.notes or before.notes[-1][0] == "bullet":
                continue
            head = before.notes[-1][1]
            tail = after.notes[0][1] if after.notes else None
            if NOTES_HEADING.match(head.text):
                after.notes.insert(0, before.notes.pop())
            elif tail is not None and NOTES_HEADING.match(f"{head.text} {tail.text}"):
                tail.text, tail.first = f"{head.text} {tail.text}", head.first
                before.notes.pop()
        for outcome in self.outcomes:  # a heading wrapped inside a table cell arrives as two lines
            outcome.notes = [
                ("heading" if kind == "para" and NOTES_HEADING.match(item.text) else kind, item)
                for kind, item in outcome.notes
            ]

    def _outcome(self, number: int) -> Outcome | None:
        return next((o for o in self.outcomes if o.number == number), None)

    def _new_outcome(self, e: Event) -> bool:
        number = int(e.number)
        placeholder = self._outcome(number)
        if placeholder is not None and not placeholder.item.text:  # its criteria came first
            placeholder.item = Item(e.text, e.no, e.no)
            self.outcome_column = placeholder
            return True
        expected = self.outcomes[-1].number + 1 if self.outcomes else 1
        if expected - 1 <= number <= expected + 1 and (number, e.text) != (expected - 1, ""):
            # A repeated or skipped number is kept as found and reported by check.problems.
            outcome = Outcome(number, Item(e.text, e.no, e.no))
            self.outcomes.append(outcome)
            self.current = self.outcome_column = outcome
            return True
        return False  # a number inside running text, not an outcome

    def _new_criterion(self, e: Event) -> bool:
        lo, n = (int(x) for x in e.number.split("."))
        if n == 0:
            return False
        outcome = self._outcome(lo)
        next_number = self.outcomes[-1].number + 1 if self.outcomes else 1
        if outcome is None and e.column == 1 and lo == next_number:
            outcome = Outcome(lo, Item("", e.no, e.no))  # the outcome's own text comes later in its row
            self.outcomes.append(outcome)
        elif (outcome is None and lo == next_number) or (outcome is not None and e.column is None):
            # In running text a criterion belongs where it is written; a number that does not
            # fit there is reported by check.problems.
            outcome = self.current
        if outcome is None:
            return False  # a number inside running text, not a criterion
        outcome.criteria.append(Criterion(e.number, Item(e.text, e.no, e.no)))
        self.current = outcome
        return True

    def _note(self, kind: str, e: Event) -> None:
        assert self.current is not None
        self.current.notes.append((kind, Item(e.text, e.no, e.no)))

    def _cell_text(self, e: Event) -> str:
        assert self.current is not None
        if e.column == 0:
            (self.outcome_column or self.current).item.add(e.text, e.no)
            return "lo"
        if e.column == 1:
            if self.current.criteria:
                self.current.criteria[-1].item.add(e.text, e.no)
            else:
                self.warnings.append(f"Line {e.no}: “{e.text}” is in the criteria column before any criterion.")
            return "ac"
        if e.joins and self.current.notes:
            self.current.notes[-1][1].add(e.text, e.no)
        else:
            self._note("heading" if e.kind == "heading" else "bullet" if e.kind == "bullet" else "para", e)
        return "notes"

    def _flow_text(self, i: int, e: Event, stream: str) -> str:
        outcome = self.current
        assert outcome is not None
        if e.kind == "bullet":
            self._note("bullet", e)
            return "notes"
        lower = continues(e.text)
        if stream == "notes" and lower and self._resumes_criterion(i):
            self._resume_criterion(e)
            return "ac"
        if e.indented and e.text[0].isalpha():
            self._note("bullet", e)  # a bullet whose glyph the PDF text lost
            return "notes"
        if stream == "lo" and lower:
            outcome.item.add(e.text, e.no)
            return "lo"
        if stream == "ac" and lower:
            outcome.criteria[-1].item.add(e.text, e.no)
            return "ac"
        if stream == "notes" and lower and outcome.notes and outcome.notes[-1][0] != "heading":
            outcome.notes[-1][1].add(e.text, e.no)
            return "notes"
        self._note("para", e)
        return "notes"

    def _resumes_criterion(self, i: int) -> bool:
        """Text cut off from the notes before it (by a page break, or because the notes so far
        are only their heading) whose paragraph runs straight into the next criterion of this
        outcome belongs to the criterion before: the PDF emitted the next column's heading, or
        the page footer, in the middle of the criteria column."""
        outcome = self.current
        assert outcome is not None
        if not outcome.criteria:
            return False
        back = i - 1
        while back >= 0 and self.events[back].kind == "blank":
            back -= 1
        cut_off = back >= 0 and (self.events[back].kind in ("break", "heading"))
        if not cut_off:
            return False
        j = i + 1
        while j < len(self.events) and self.events[j].kind == "text" and continues(self.events[j].text):
            j += 1
        while j < len(self.events) and self.events[j].kind in ("blank", "break"):
            j += 1
        if j >= len(self.events) or self.events[j].kind != "ac" or self.events[j].column is not None:
            return False
        return self.events[j].number.split(".")[0] == str(outcome.number)

    def _resume_criterion(self, e: Event) -> None:
        outcome = self.current
        assert outcome is not None
        criterion = outcome.criteria[-1]
        words = e.text.split()
        take = self._outcome_words(outcome.item.text, criterion.item.text, words) if e.indented else 0
        if take:
            moved = " ".join(words[:take])
            outcome.item.add(moved, e.no)
            self.warnings.append(
                f"Line {e.no}: “{e.text}” holds two columns; read “{moved}” as the end of learning outcome "
                f"{outcome.number} and the rest as criterion {criterion.number}. Check both."
            )
            words = words[take:]
        else:
            self.warnings.append(
                f"Line {e.no}: “{e.text}” read as the rest of criterion {criterion.number}, which the "
                "document breaks off there."
            )
        criterion.item.add(" ".join(words), e.no)

    def _outcome_words(self, outcome_text: str, criterion_text: str, words: list[str]) -> int:
        """How many leading words of a two-column line end the outcome, judged by which word pairs
        the rest of the document uses."""
        pairs = Counter(pairwise(self.words))
        line_pairs = Counter(pairwise(w.lower() for w in words))

        def seen(a: str, b: str) -> int:
            key = (a.lower(), b.lower())
            return pairs[key] - line_pairs[key]

        lo_last = outcome_text.split()[-1] if outcome_text else ""
        ac_last = criterion_text.split()[-1] if criterion_text else ""
        best, best_score = 0, seen(ac_last, words[0])
        for k in range(1, min(3, len(words) - 1) + 1):
            score = seen(lo_last, words[0]) + seen(ac_last, words[k]) - seen(words[k - 1], words[k])
            if score > best_score + 1:
                best, best_score = k, score
        return best
