"""Forms for IQA sampling. They validate input; `assessments.services.sampling` decides and writes.

Learners (their portfolios), units and assessors are chosen by public UUID from the IQA's own
portfolios, listed once per page, so a post cannot name a portfolio, unit or assessor from anywhere else.
"""

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from assessments.models import SampleReview, Stage
from assessments.sampling_selectors import PlanChoices, name_of, portfolio_label
from assessments.services.plans import TITLE_MAX_LENGTH
from assessments.services.sampling import ACTIONS_REQUIRED
from portfolio.forms import DateInput
from portfolio.models import Enrolment, Method
from units.models import Unit

RATE_PREFIX = "rate_"


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's errors beside the form's own fields; anything else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


def _rate_field(label: str, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=100,
        error_messages={
            "required": "Give a rate from 1 to 100.",
            "invalid": "Give a whole number from 1 to 100.",
            "min_value": "A rate is at least %(limit_value)s%%.",
            "max_value": "A rate is at most %(limit_value)s%%.",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "rate-input"}),
        **kwargs,
    )


class SamplingPlanForm(forms.Form):
    title = forms.CharField(
        max_length=TITLE_MAX_LENGTH,
        label="Plan title",
        help_text="e.g. “Summative sampling, spring term”.",
        error_messages={"required": "Give the plan a title."},
    )
    stage = forms.ChoiceField(
        label="Stage",
        choices=Stage.choices,
        widget=forms.RadioSelect,
        help_text="Interim checks decisions on work in progress; summative checks units the assessor has signed off.",
        error_messages={"required": "Choose interim or summative sampling."},
    )
    default_rate = _rate_field(
        "Target rate for each assessor (%)",
        initial=25,
        help_text="The share of each assessor's eligible units to sample. Give a new assessor a higher rate below.",
    )
    enrolments = forms.MultipleChoiceField(
        label="Learners",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to sample every learner you quality-assure.",
        error_messages={"invalid_choice": "Choose learners whose portfolios you quality-assure."},
    )
    units = forms.MultipleChoiceField(
        label="Units",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to sample every unit on the portfolios you quality-assure.",
        error_messages={"invalid_choice": "Choose units from the portfolios you quality-assure."},
    )
    methods = forms.MultipleChoiceField(
        label="Assessment methods",
        required=False,
        choices=Method.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to cover every method the evidence uses.",
        error_messages={"invalid_choice": "Choose methods from the list."},
    )
    assessors = forms.MultipleChoiceField(
        label="Assessors",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to sample every assessor.",
        error_messages={"invalid_choice": "Choose assessors of the portfolios you quality-assure."},
    )

    def __init__(self, *args: Any, choices: PlanChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enrolments_by_key: dict[str, Enrolment] = {str(e.uuid): e for e in choices.enrolments}
        self.fields["enrolments"].choices = [(key, portfolio_label(e)) for key, e in self.enrolments_by_key.items()]
        self.units_by_key: dict[str, Unit] = {str(u.uuid): u for u in choices.units}
        self.assessors_by_key: dict[str, User] = {str(a.uuid): a for a in choices.assessors}
        self.fields["units"].choices = [(key, u.title) for key, u in self.units_by_key.items()]
        self.fields["assessors"].choices = [(key, name_of(a)) for key, a in self.assessors_by_key.items()]
        for key, assessor in self.assessors_by_key.items():
            self.fields[f"{RATE_PREFIX}{key}"] = _rate_field(
                f"Rate for {name_of(assessor)} (%)", required=False, help_text="Blank: the target rate above."
            )

    def rate_fields(self) -> list[forms.BoundField]:
        return [self[f"{RATE_PREFIX}{key}"] for key in self.assessors_by_key]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        ticked = set(cleaned.get("assessors") or [])
        if ticked:
            for key, assessor in self.assessors_by_key.items():
                name = f"{RATE_PREFIX}{key}"
                if key not in ticked and cleaned.get(name) is not None:
                    self.add_error(
                        name, f"Tick {name_of(assessor)} under Assessors to include them, or clear this rate."
                    )
        return cleaned

    def plan_kwargs(self) -> dict[str, Any]:
        """The arguments for `sampling_plan_create`, from the cleaned data."""
        d = self.cleaned_data
        rates = {key: d.get(f"{RATE_PREFIX}{key}") for key in self.assessors_by_key}
        # None ticked means every assessor: with no rate of their own given, the plan names nobody and
        # takes in assessors who join later; once one has their own rate, it names them all.
        ticked = d["assessors"] or ([] if all(r is None for r in rates.values()) else list(rates))
        chosen = {self.assessors_by_key[key]: rates[key] for key in ticked}
        return {
            "title": d["title"],
            "stage": d["stage"],
            "enrolments": [self.enrolments_by_key[key] for key in d["enrolments"]],
            "units": [self.units_by_key[key] for key in d["units"]],
            "methods": d["methods"],
            "default_rate": d["default_rate"],
            "assessor_rates": chosen,
        }


class SampleAddForm(forms.Form):
    """The hidden fields behind each “Add to sample” button."""

    enrolment = forms.UUIDField(widget=forms.HiddenInput, error_messages={"required": "Choose a learner's unit."})
    unit = forms.UUIDField(widget=forms.HiddenInput, error_messages={"required": "Choose a learner's unit."})


class SampleReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Your finding",
        choices=SampleReview.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether you agree with the assessor's decisions."},
    )
    comments = forms.CharField(
        label="Comments on the assessor's decisions",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What you checked (validity, authenticity, currency, sufficiency, reliability) and what you found.",
        error_messages={"required": "Say what you checked and what you found."},
    )
    actions = forms.CharField(
        label="Actions for the assessor",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required if you disagree: what the assessor must do.",
    )
    action_due = forms.DateField(
        label="Actions due by",
        required=False,
        widget=DateInput,
        error_messages={"invalid": "Give the date as day, month and year."},
    )
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_action_due(self) -> date | None:
        due = self.cleaned_data["action_due"]
        if due is not None and due < timezone.localdate():
            raise ValidationError("The date the actions are due cannot be in the past.")
        return due

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("outcome") == SampleReview.Outcome.DISAGREE and not (cleaned.get("actions") or "").strip():
            self.add_error("actions", ACTIONS_REQUIRED)
        return cleaned
