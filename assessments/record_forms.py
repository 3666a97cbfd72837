"""The form for a record the assessor writes. It validates input; the service decides and writes.

The criteria the record shows are not fields here: they use the portfolio's mapping form
(`portfolio.mapping`), the same checkboxes and accounts the learner uses for their evidence.
"""

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from assessments.models import AssessorRecord
from assessments.services.records import RecordDetails, WitnessDetails
from portfolio.forms import DateInput

Kind = AssessorRecord.Kind
WITNESS_FIELDS = (
    "witness_name",
    "witness_role",
    "witness_relationship",
    "witness_contact",
    "witness_is_expert",
    "statement",
)


def kind_from(value: object) -> str:
    """A valid kind from a query string or post, else blank (the select then asks for one)."""
    return value if isinstance(value, str) and value in Kind.values else ""


class RecordForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind of record",
        choices=[("", "Choose the kind of record"), *Kind.choices],
        error_messages={"required": "Choose the kind of record."},
    )
    title = forms.CharField(
        max_length=200,
        help_text="e.g. “Observation: Monday team briefing”.",
        error_messages={"required": "Give the record a title."},
    )
    activity_date = forms.DateField(
        label="Date of the activity", widget=DateInput, error_messages={"required": "Give the date of the activity."}
    )
    location = forms.CharField(max_length=200, required=False, label="Where it happened")
    description = forms.CharField(
        label="The record",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=(
            "What you observed or discussed, or the questions you asked and the learner's answers. "
            "For a witness testimony: the activity the witness saw."
        ),
        error_messages={"required": "Write the record: what you observed or discussed, or the questions and answers."},
    )
    # Witness testimony only: shown, and required where marked, when that kind is chosen.
    witness_name = forms.CharField(max_length=200, required=False, label="Witness's name")
    witness_role = forms.CharField(max_length=200, required=False, label="Witness's job title")
    witness_relationship = forms.CharField(
        max_length=200, required=False, label="Relationship to the learner", help_text="e.g. line manager."
    )
    witness_contact = forms.CharField(
        max_length=200,
        required=False,
        label="How to contact the witness",
        help_text="An email address or phone number, so the testimony can be checked.",
    )
    witness_is_expert = forms.BooleanField(
        required=False, label="An expert witness: occupationally competent in the work they saw"
    )
    statement = forms.CharField(
        required=False, label="The witness's statement, in their words", widget=forms.Textarea(attrs={"rows": 6})
    )

    def __init__(self, *args: Any, kind_url: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # With JavaScript, choosing another kind swaps in (or out) the witness fields: a plain GET
        # of this page with ?kind=, so without JavaScript the same page works by submitting.
        self.fields["kind"].widget.attrs.update(
            {
                "hx-get": kind_url,
                "hx-target": "#witness-fields",
                "hx-select": "#witness-fields",
                "hx-swap": "outerHTML",
            }
        )
        if self.is_witness:
            # Fields are copied per form instance, so this changes this form only.
            self.fields["witness_name"].required = True
            self.fields["witness_name"].error_messages["required"] = "Give the witness's name."
            self.fields["statement"].required = True
            self.fields["statement"].error_messages["required"] = "Write the witness's statement, in their words."

    @property
    def chosen_kind(self) -> str:
        """The kind chosen so far (posted, or asked for in the query string), else blank."""
        return kind_from(self["kind"].value())

    @property
    def is_witness(self) -> bool:
        return self.chosen_kind == Kind.WITNESS_TESTIMONY

    def clean_activity_date(self) -> date:
        value = self.cleaned_data["activity_date"]
        if value > timezone.localdate():
            raise ValidationError("A record is of work already done: the date cannot be in the future.")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.is_witness:
            for name in WITNESS_FIELDS:  # not shown for other kinds, so never kept
                cleaned.pop(name, None)
        return cleaned

    def details(self) -> RecordDetails:
        d = self.cleaned_data
        return RecordDetails(
            title=d["title"].strip(),
            description=d["description"].strip(),
            activity_date=d["activity_date"],
            location=d["location"].strip(),
        )

    def witness(self) -> WitnessDetails | None:
        if not self.is_witness:
            return None
        d = self.cleaned_data
        return WitnessDetails(
            name=d.get("witness_name", ""),
            role=d.get("witness_role", ""),
            relationship=d.get("witness_relationship", ""),
            contact=d.get("witness_contact", ""),
            statement=d.get("statement", ""),
            is_expert=bool(d.get("witness_is_expert")),
        )

    def add_service_errors(self, error: ValidationError) -> dict[str, list[str]]:
        """Put the service's errors beside this form's fields; return the rest (the criteria's)."""
        rest: dict[str, list[str]] = {}
        for field, messages in error.message_dict.items():
            if field in self.fields or field == NON_FIELD_ERRORS:
                self.add_error(field if field in self.fields else None, messages)
            else:
                rest[field] = messages
        return rest
