"""Forms for the learner's evidence pages. They validate input; services decide and write."""

from django import forms
from django.core.exceptions import ValidationError

from portfolio.models import EvidenceVersion, Method
from portfolio.services.evidence import EvidenceDetails


class DateInput(forms.DateInput):
    """A native date picker; it only accepts ISO dates, whatever the site's locale."""

    input_type = "date"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class EvidenceForm(forms.Form):
    title = forms.CharField(
        max_length=200, help_text="A short name you will recognise, e.g. “Team briefing, March rota”."
    )
    method = forms.ChoiceField(choices=[("", "Choose a method"), *Method.choices], label="Assessment method")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="What the evidence is and what you did. For a reflective account, write it here.",
    )
    activity_date = forms.DateField(widget=DateInput, label="Date of the activity (or start date)")
    activity_end_date = forms.DateField(widget=DateInput, required=False, label="End date, if it took longer")
    location = forms.CharField(
        max_length=200, required=False, label="Where it happened", help_text="e.g. the store, the contact centre"
    )

    @classmethod
    def for_version(cls, version: EvidenceVersion, data: object = None) -> "EvidenceForm":
        fields = ["title", "method", "description", "activity_date", "activity_end_date", "location"]
        return cls(data=data, initial={f: getattr(version, f) for f in fields})

    def details(self) -> EvidenceDetails:
        d = self.cleaned_data
        return EvidenceDetails(
            title=d["title"].strip(),
            description=d["description"].strip(),
            method=d["method"],
            activity_date=d["activity_date"],
            activity_end_date=d["activity_end_date"],
            location=d["location"].strip(),
        )

    def add_service_errors(self, error: ValidationError) -> None:
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)
