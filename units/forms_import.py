"""Forms for importing a unit: the upload-or-paste form, and the review form a draft is corrected in.

The review form is built from the draft it corrects: one group of fields per code, outcome,
criterion, evidence requirement and item, named after the field's path in the draft's data
("outcomes.1.criteria.2.text" is the field `outcomes-1-criteria-2-text`), plus one empty row in
each list for adding what the importer missed. `corrected()` turns the answers back into the
draft's data shape; `units.services_import.draft_update` checks and stores it.
"""

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import BoundField

from portfolio.filetypes import clean_name, format_size
from units.models import LearningOutcome, UnitDraft
from units.services_import import KEY_MAX_LENGTH, describe_path, normalise
from units.specs import KNOWLEDGE_OUTCOME

IMPORT_MAX_FILE_SIZE: int = getattr(settings, "UNIT_IMPORT_MAX_FILE_SIZE", 10 * 1024 * 1024)
ACCEPTED = ".txt,.text,.htm,.html,.pdf,.docx"


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Specification file",
        required=False,
        help_text=f"The awarding body's unit document: text, HTML, PDF or Word (.docx), at most "
        f"{format_size(IMPORT_MAX_FILE_SIZE)}.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED}),
    )
    text = forms.CharField(
        label="Or paste the text of the specification",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="Copy everything from the unit title to the end of the assessment criteria, or the whole document.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if upload is None:
            return None
        name = clean_name(upload.name) or "The file"
        if upload.size > IMPORT_MAX_FILE_SIZE:
            raise ValidationError(
                f"“{name}” is {format_size(upload.size)}: a specification file can be at most "
                f"{format_size(IMPORT_MAX_FILE_SIZE)}."
            )
        if upload.size == 0:
            raise ValidationError(f"“{name}” is empty.")
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        has_file = bool(cleaned.get("file")) or "file" in self.errors
        has_text = bool((cleaned.get("text") or "").strip())
        if has_file and has_text:
            raise ValidationError("Upload a file or paste text, not both.")
        if not has_file and not has_text:
            raise ValidationError("Choose a file to upload, or paste the text of the specification.")
        return cleaned


# ---------------------------------------------------------------------------------------------
# The review form
# ---------------------------------------------------------------------------------------------


def field_name(path: str) -> str:
    return path.replace(".", "-")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row if isinstance(row, dict) else {} for row in value] if isinstance(value, list) else []


def _natural(number: Any) -> tuple[int, ...]:
    """2.10 after 2.9; anything unreadable last (the service then says what is wrong with it)."""
    parts = _text(number).split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (10**6,)


@dataclass
class Located:
    """A field of the form and the source lines it was read from, if the importer said."""

    field: BoundField
    span: tuple[int, int] | None = None

    @property
    def lines(self) -> str:
        if self.span is None:
            return ""
        start, end = self.span
        return f"line {start}" if start == end else f"lines {start}\N{EN DASH}{end}"


@dataclass
class Row:
    """One entry of a list (a code, an outcome, a criterion, a requirement, an item)."""

    path: str  # in the draft's data, "outcomes.1"; for the empty row, "outcomes.new"
    title: str
    fields: list[Located]
    remove: BoundField | None = None
    span: tuple[int, int] | None = None
    children: list["Row"] = field(default_factory=list)
    new_child: "Row | None" = None

    @property
    def anchor(self) -> str:
        return "row-" + field_name(self.path)

    @property
    def is_new(self) -> bool:
        return self.path.endswith(".new")

    @property
    def where(self) -> Located | None:
        """Where the row as a whole came from, when none of its fields says (a unit number, say)."""
        if self.span is None or any(located.span for located in self.fields):
            return None
        return Located(self.fields[0].field, self.span)

    @property
    def has_errors(self) -> bool:
        return any(located.field.errors for located in self.fields)


class TextArea(forms.Textarea):
    def __init__(self, rows: int = 2) -> None:
        super().__init__(attrs={"rows": rows})


def _char(label: str, max_length: int | None = None) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=False)


def _area(label: str) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=TextArea())


def _number(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=999, required=False)


def _choice(label: str, choices: list[tuple[str, str]]) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=choices, required=False)


KIND_CHOICES = LearningOutcome.Kind.choices
SIMULATION_CHOICES = [("", "Not stated"), ("yes", "Allowed"), ("no", "Not allowed")]
SCALARS = [
    "title",
    "level",
    "credit_value",
    "guided_learning_hours",
    "reference_number",
    "purpose",
    "assessment_notes",
    "assessment_guidance",
    "nos_statement",
    "additional_information",
    "real_work_only",
    "simulation_allowed",
    "sufficient_period_required",
]
PARAGRAPHS = re.compile(r"\n\s*\n")


class DraftForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    key = forms.SlugField(
        label="Unit key",
        max_length=KEY_MAX_LENGTH,
        help_text="The key of an existing unit makes this its next version; a new key makes a new unit.",
    )
    title = _char("Title", 255)
    level = forms.IntegerField(label="Level", min_value=1, max_value=8, required=False)
    credit_value = forms.IntegerField(label="Credit value", min_value=0, max_value=32767, required=False)
    guided_learning_hours = forms.IntegerField(
        label="Guided learning hours (GLH)", min_value=0, max_value=32767, required=False
    )
    reference_number = forms.CharField(
        label="Unit reference number", max_length=20, required=False, help_text="For example M/506/2898."
    )
    purpose = forms.CharField(label="Purpose and aim", required=False, widget=TextArea(4))
    assessment_notes = forms.CharField(
        label="Assessment", required=False, widget=TextArea(3), help_text="Separate notes with a blank line."
    )
    assessment_guidance = forms.CharField(
        label="Guidance on assessment",
        required=False,
        widget=TextArea(3),
        help_text="Separate notes with a blank line.",
    )
    nos_statement = forms.CharField(label="NOS mapping statement", required=False, widget=TextArea(3))
    additional_information = forms.CharField(label="Additional information", required=False, widget=TextArea(3))
    real_work_only = forms.BooleanField(label="Evidence must come from real work", required=False)
    simulation_allowed = forms.ChoiceField(
        label="Simulation for performance evidence", choices=SIMULATION_CHOICES, required=False
    )
    sufficient_period_required = forms.BooleanField(
        label="Evidence must cover a sufficient period of time", required=False
    )

    def __init__(self, *args: Any, draft: UnitDraft, **kwargs: Any) -> None:
        self.draft = draft
        self.data_before = normalise(draft.data)
        locations = draft.locations if isinstance(draft.locations, dict) else {}
        self._spans: dict[str, list[tuple[int, int]]] = {
            path: [(span[0], span[1])]
            for path, span in locations.items()
            if isinstance(span, list | tuple) and len(span) == 2 and all(isinstance(n, int) for n in span)
        }
        kwargs.setdefault("initial", self._initial())
        super().__init__(*args, **kwargs)
        self.code_rows = self._code_rows()
        self.outcome_rows = self._outcome_rows()
        self.requirement_rows = self._requirement_rows()

    # -- building ------------------------------------------------------------------------------

    def _initial(self) -> dict[str, Any]:
        d = self.data_before
        initial = {name: d.get(name) for name in SCALARS}
        for name in ("assessment_notes", "assessment_guidance"):
            notes = d.get(name)
            initial[name] = "\n\n".join(_text(n) for n in notes) if isinstance(notes, list) else ""
        simulation = d.get("simulation_allowed")
        initial["simulation_allowed"] = "" if simulation is None else ("yes" if simulation else "no")
        initial.update(revision=self.draft.revision, key=self.draft.key)
        return initial

    def _span(self, path: str) -> tuple[int, int] | None:
        """The lines `path` was read from; for a whole row or list, the lines of all its parts."""
        spans = self._spans.get(path) or [
            s for p, found in self._spans.items() if p.startswith(path + ".") for s in found
        ]
        if not spans:
            return None
        return min(s[0] for s in spans), max(s[1] for s in spans)

    def _add(self, path: str, form_field: forms.Field, initial: Any = None) -> Located:
        name = field_name(path)
        self.fields[name] = form_field
        if initial is not None:
            self.initial[name] = initial
        return Located(self[name], self._span(path))

    def _remove(self, path: str, label: str) -> BoundField:
        name = field_name(path) + "-remove"
        self.fields[name] = forms.BooleanField(label=label, required=False)
        return self[name]

    def scalar(self, name: str) -> Located:
        return Located(self[name], self._span(name))

    @property
    def scalar_fields(self) -> list[Located]:
        return [self.scalar(n) for n in ("title", "level", "credit_value", "guided_learning_hours", "reference_number")]

    @property
    def text_fields(self) -> list[Located]:
        return [
            self.scalar(n)
            for n in ("purpose", "assessment_notes", "assessment_guidance", "nos_statement", "additional_information")
        ]

    @property
    def knowledge_count(self) -> int:
        return sum(len(o.get("knowledge") or []) for o in _rows(self.data_before.get("outcomes")))

    @property
    def rule_fields(self) -> list[Located]:
        return [self.scalar(n) for n in ("real_work_only", "simulation_allowed", "sufficient_period_required")]

    def _code_rows(self) -> list[Row]:
        rows = []
        codes = _rows(self.data_before.get("codes"))
        for i, code in enumerate(codes):
            p, n = f"codes.{i}", i + 1
            fields = [
                self._add(f"{p}.issuer", _char(f"Unit number {n}: issuer", 100), _text(code.get("issuer"))),
                self._add(f"{p}.code", _char(f"Unit number {n}: number", 30), _text(code.get("code"))),
            ]
            rows.append(Row(p, f"Unit number {n}", fields, self._remove(p, f"Remove unit number {n}"), self._span(p)))
        p = "codes.new"
        fields = [
            self._add(f"{p}.issuer", _char("New unit number: issuer", 100)),
            self._add(f"{p}.code", _char("New unit number: number", 30)),
        ]
        rows.append(Row(p, "Add a unit number", fields))
        return rows

    def _criterion_row(self, p: str, criterion: dict[str, Any]) -> Row:
        number = _text(criterion.get("number"))
        fields = [
            self._add(f"{p}.number", _char(f"Criterion {number} number", 10), number),
            self._add(f"{p}.text", _area(f"Criterion {number} text"), _text(criterion.get("text"))),
            self._add(
                f"{p}.guidance", _area(f"Criterion {number} additional guidance"), _text(criterion.get("guidance"))
            ),
        ]
        return Row(p, f"Criterion {number}", fields, self._remove(p, f"Remove criterion {number}"), self._span(p))

    def _new_criterion_row(self, p: str, outcome_number: str, next_number: str) -> Row:
        what = f"New criterion for outcome {outcome_number}"
        fields = [
            self._add(f"{p}.number", _char(f"{what}: number", 10), next_number),
            self._add(f"{p}.text", _area(f"{what}: text")),
            self._add(f"{p}.guidance", _area(f"{what}: additional guidance")),
        ]
        return Row(p, f"Add a criterion to outcome {outcome_number}", fields)

    def _outcome_rows(self) -> list[Row]:
        rows = []
        outcomes = _rows(self.data_before.get("outcomes"))
        for i, outcome in enumerate(outcomes):
            p = f"outcomes.{i}"
            number = _text(outcome.get("number"))
            fields = [
                self._add(f"{p}.number", _number(f"Outcome {number} number"), outcome.get("number")),
                self._add(f"{p}.kind", _choice(f"Outcome {number} kind", KIND_CHOICES), _text(outcome.get("kind"))),
                self._add(f"{p}.text", _area(f"Outcome {number} text"), _text(outcome.get("text"))),
            ]
            row = Row(
                p, f"Learning outcome {number}", fields, self._remove(p, f"Remove outcome {number}"), self._span(p)
            )
            criteria = _rows(outcome.get("criteria"))
            row.children = [self._criterion_row(f"{p}.criteria.{k}", c) for k, c in enumerate(criteria)]
            row.new_child = self._new_criterion_row(f"{p}.criteria.new", number, f"{number}.{len(criteria) + 1}")
            rows.append(row)
        p = "outcomes.new"
        fields = [
            self._add(f"{p}.number", _number("New outcome: number"), len(outcomes) + 1),
            self._add(f"{p}.kind", _choice("New outcome: kind", [("", "From its wording"), *KIND_CHOICES])),
            self._add(f"{p}.text", _area("New outcome: text")),
        ]
        rows.append(Row(p, "Add a learning outcome", fields))
        return rows

    def _requirement_rows(self) -> list[Row]:
        rows = []
        requirements = _rows(self.data_before.get("evidence_requirements"))
        for i, requirement in enumerate(requirements):
            p = f"evidence_requirements.{i}"
            number = _text(requirement.get("number"))
            fields = [
                self._add(f"{p}.number", _number(f"Evidence requirement {number} number"), requirement.get("number")),
                self._add(f"{p}.text", _area(f"Evidence requirement {number} text"), _text(requirement.get("text"))),
            ]
            remove = self._remove(p, f"Remove evidence requirement {number}")
            row = Row(p, f"Evidence requirement {number}", fields, remove, self._span(p))
            items = _rows(requirement.get("items"))
            for j, item in enumerate(items):
                q = f"{p}.items.{j}"
                letter = _text(item.get("letter"))
                item_fields = [
                    self._add(f"{q}.letter", _char(f"Item {number}{letter} letter", 2), letter),
                    self._add(f"{q}.text", _area(f"Item {number}{letter} text"), _text(item.get("text"))),
                ]
                remove = self._remove(q, f"Remove item {number}{letter}")
                row.children.append(Row(q, f"Item {number}{letter}", item_fields, remove, self._span(q)))
            q = f"{p}.items.new"
            next_letter = chr(ord("a") + len(items)) if len(items) < 26 else ""
            what = f"New item for requirement {number}"
            item_fields = [
                self._add(f"{q}.letter", _char(f"{what}: letter", 2), next_letter),
                self._add(f"{q}.text", _area(f"{what}: text")),
            ]
            row.new_child = Row(q, f"Add an item to requirement {number}", item_fields)
            rows.append(row)
        p = "evidence_requirements.new"
        fields = [
            self._add(f"{p}.number", _number("New evidence requirement: number"), len(requirements) + 1),
            self._add(f"{p}.text", _area("New evidence requirement: text")),
        ]
        rows.append(Row(p, "Add an evidence requirement", fields))
        return rows

    # -- reading the answers back --------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # Browsers send a textarea's line breaks as CRLF; the format (and the source) use LF.
        for name, value in cleaned.items():
            if isinstance(value, str):
                cleaned[name] = value.replace("\r\n", "\n").replace("\r", "\n")
        return cleaned

    def _value(self, path: str) -> Any:
        return self.cleaned_data.get(field_name(path))

    def _removed(self, path: str) -> bool:
        return bool(self.cleaned_data.get(field_name(path) + "-remove"))

    def corrected(self) -> tuple[dict[str, Any], dict[str, str | None]]:
        """The draft's data with the answers in, and where each row went (for its source lines).

        Removed rows are dropped, the empty rows count when their text is filled in, and
        outcomes, criteria, requirements and items are put in the order of their numbers.
        """
        cd = self.cleaned_data
        data = copy.deepcopy(self.data_before)
        for name in ("title", "reference_number", "purpose", "nos_statement", "additional_information"):
            data[name] = (cd.get(name) or "").strip()
        for name in ("level", "credit_value", "guided_learning_hours"):
            data[name] = cd.get(name)
        for name in ("assessment_notes", "assessment_guidance"):
            data[name] = [p.strip() for p in PARAGRAPHS.split(cd.get(name) or "") if p.strip()]
        data["real_work_only"] = bool(cd.get("real_work_only"))
        data["sufficient_period_required"] = bool(cd.get("sufficient_period_required"))
        data["simulation_allowed"] = {"yes": True, "no": False}.get(cd.get("simulation_allowed") or "")
        moved: dict[str, str | None] = {}

        codes: list[tuple[str, dict[str, Any]]] = []
        for i, code in enumerate(_rows(self.data_before.get("codes"))):
            p = f"codes.{i}"
            if self._removed(p):
                moved[p] = None
                continue
            codes.append(
                (p, {**code, "issuer": self._value(f"{p}.issuer") or "", "code": self._value(f"{p}.code") or ""})
            )
        if (self._value("codes.new.code") or "").strip():
            issuer, code = self._value("codes.new.issuer") or "", self._value("codes.new.code")
            codes.append(("codes.new", {"issuer": issuer, "code": code, "source": self.draft.source_name}))
        data["codes"] = [c for _, c in codes]
        moved.update({p: f"codes.{n}" for n, (p, _) in enumerate(codes)})

        outcomes: list[tuple[str, dict[str, Any], list[tuple[str, dict[str, Any]]]]] = []
        for i, outcome in enumerate(_rows(self.data_before.get("outcomes"))):
            p = f"outcomes.{i}"
            if self._removed(p):
                moved[p] = None
                continue
            criteria = []
            for k, criterion in enumerate(_rows(outcome.get("criteria"))):
                q = f"{p}.criteria.{k}"
                if self._removed(q):
                    moved[q] = None
                    continue
                criteria.append((q, self._criterion(q, criterion)))
            if (self._value(f"{p}.criteria.new.text") or "").strip():
                criteria.append((f"{p}.criteria.new", self._criterion(f"{p}.criteria.new", {})))
            fields = {"number": self._value(f"{p}.number"), "text": self._value(f"{p}.text") or ""}
            fields["kind"] = self._value(f"{p}.kind") or outcome.get("kind") or ""
            outcomes.append((p, {**outcome, **fields}, criteria))
        text = (self._value("outcomes.new.text") or "").strip()
        if text:
            kind = self._value("outcomes.new.kind") or ("knowledge" if KNOWLEDGE_OUTCOME.match(text) else "competence")
            new = {"number": self._value("outcomes.new.number"), "text": text, "kind": kind}
            outcomes.append(("outcomes.new", {**new, "knowledge": [], "criteria": []}, []))
        outcomes.sort(key=lambda o: _natural(o[1]["number"]))
        data["outcomes"] = []
        for n, (p, outcome, criteria) in enumerate(outcomes):
            moved[p] = f"outcomes.{n}"
            criteria.sort(key=lambda c: _natural(c[1]["number"]))
            for m, (q, _) in enumerate(criteria):
                moved[q] = f"outcomes.{n}.criteria.{m}"
            data["outcomes"].append({**outcome, "criteria": [c for _, c in criteria]})

        requirements: list[tuple[str, dict[str, Any], list[tuple[str, dict[str, Any]]]]] = []
        for i, requirement in enumerate(_rows(self.data_before.get("evidence_requirements"))):
            p = f"evidence_requirements.{i}"
            if self._removed(p):
                moved[p] = None
                continue
            items = []
            for j, item in enumerate(_rows(requirement.get("items"))):
                q = f"{p}.items.{j}"
                if self._removed(q):
                    moved[q] = None
                    continue
                items.append((q, self._item(q, item)))
            if (self._value(f"{p}.items.new.text") or "").strip():
                items.append((f"{p}.items.new", self._item(f"{p}.items.new", {})))
            fields = {"number": self._value(f"{p}.number"), "text": self._value(f"{p}.text") or ""}
            requirements.append((p, {**requirement, **fields}, items))
        text = (self._value("evidence_requirements.new.text") or "").strip()
        if text:
            new = {"number": self._value("evidence_requirements.new.number"), "text": text, "items": []}
            requirements.append(("evidence_requirements.new", new, []))
        requirements.sort(key=lambda r: _natural(r[1]["number"]))
        data["evidence_requirements"] = []
        for n, (p, requirement, items) in enumerate(requirements):
            moved[p] = f"evidence_requirements.{n}"
            items.sort(key=lambda i: i[1]["letter"])
            for m, (q, _) in enumerate(items):
                moved[q] = f"evidence_requirements.{n}.items.{m}"
            data["evidence_requirements"].append({**requirement, "items": [i for _, i in items]})

        self.moved = moved
        return data, moved

    def _criterion(self, path: str, before: dict[str, Any]) -> dict[str, Any]:
        return {
            **before,
            "number": (self._value(f"{path}.number") or "").strip(),
            "text": (self._value(f"{path}.text") or "").strip(),
            "guidance": (self._value(f"{path}.guidance") or "").strip(),
        }

    def _item(self, path: str, before: dict[str, Any]) -> dict[str, Any]:
        return {
            **before,
            "letter": (self._value(f"{path}.letter") or "").strip(),
            "text": (self._value(f"{path}.text") or "").strip(),
        }

    def add_problems(self, error: ValidationError, data: Mapping[str, Any]) -> None:
        """Put each of the service's messages (keyed by the path in the corrected data) beside
        the field it is about; messages about no field of this form go at the top."""
        back = {new: old for old, new in getattr(self, "moved", {}).items() if new is not None}
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for path, errors in error.error_dict.items():
            messages = [m for e in errors for m in e.messages]
            parts = path.split(".")
            original = path
            for cut in range(len(parts), 0, -1):
                prefix = ".".join(parts[:cut])
                if prefix in back:
                    original = ".".join([back[prefix], *parts[cut:]])
                    break
            name = field_name(original)
            if path == "__all__" or name not in self.fields:
                where = describe_path(path, data) if path != "__all__" else ""
                self.add_error(None, [f"{where}: {m}" if where else m for m in messages])
            else:
                self.add_error(name, messages)
