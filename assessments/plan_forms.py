"""Forms for assessment plans and progress reviews. They validate input; services decide and write.

An activity's criteria are chosen by public UUID from the portfolio's own units, listed once per
page and handed to every row, so a plan with many activities costs no extra queries and a post
cannot name a criterion from another unit.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.formsets import DELETION_FIELD_NAME
from django.http import QueryDict
from django.utils import timezone

from assessments.models import AssessmentPlan
from assessments.services.plans import MAX_ACTIVITIES, TITLE_MAX_LENGTH, ActivityInput
from portfolio.forms import DateInput
from portfolio.models import Method
from units.models import AssessmentCriterion, LearningOutcome, Unit


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's errors beside the form's own fields; anything else above the form."""
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class PlanForm(forms.Form):
    title = forms.CharField(
        max_length=TITLE_MAX_LENGTH,
        label="Plan title",
        help_text="e.g. “Unit 429: planning and resources, autumn term”.",
        error_messages={"required": "Give the plan a title."},
    )


class ActivityForm(forms.Form):
    description = forms.CharField(
        label="What the learner will do",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Describe what the learner will do."},
    )
    method = forms.ChoiceField(
        label="Assessment method",
        choices=[("", "Not decided yet"), *Method.choices],
        required=False,
    )
    target_date = forms.DateField(
        label="Target date", widget=DateInput, error_messages={"required": "Give a target date."}
    )
    criteria = forms.MultipleChoiceField(
        label="Criteria this activity aims at",
        required=False,
        widget=forms.CheckboxSelectMultiple,  # rendered grouped by unit and outcome by the template
        error_messages={"invalid_choice": "Choose criteria from this portfolio's units."},
    )

    def __init__(self, *args: Any, criteria: dict[str, AssessmentCriterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria_by_uuid = criteria
        self.fields["criteria"].choices = [(key, f"{c.number} {c.text}") for key, c in criteria.items()]

    def activity(self) -> ActivityInput:
        d = self.cleaned_data
        return ActivityInput(
            description=d["description"].strip(),
            method=d["method"],
            target_date=d["target_date"],
            criteria=tuple(self.criteria_by_uuid[key] for key in d["criteria"]),
        )


class BaseActivityFormSet(forms.BaseFormSet):
    default_error_messages = {
        **forms.BaseFormSet.default_error_messages,
        "too_few_forms": "Add at least one activity.",
        "too_many_forms": f"A plan can have at most {MAX_ACTIVITIES} activities.",
    }

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if DELETION_FIELD_NAME in form.fields:
            form.fields[DELETION_FIELD_NAME].label = "Leave this activity out of the new plan"

    def activities(self) -> list[ActivityInput]:
        """The filled-in rows, in order: blank extra rows and rows left out are skipped."""
        return [f.activity() for f in self.forms if f.cleaned_data and not f.cleaned_data.get(DELETION_FIELD_NAME)]


ActivityFormSet = forms.formset_factory(
    ActivityForm,
    formset=BaseActivityFormSet,
    extra=2,
    min_num=1,
    validate_min=True,
    max_num=MAX_ACTIVITIES,
    validate_max=True,
    # Only rows copied from an earlier plan can be left out; a blank row is left out by leaving it blank.
    can_delete=True,
    can_delete_extra=False,
)
ACTIVITIES_PREFIX = "activities"


def criteria_by_uuid(units: list[Unit]) -> dict[str, AssessmentCriterion]:
    """Every criterion of the units (prefetched with outcomes and criteria), by public id, in order."""
    return {str(c.uuid): c for u in units for o in u.outcomes.all() for c in o.criteria.all()}


def with_another_row(data: QueryDict) -> QueryDict:
    """The posted data with one more (blank) activity row, for the “Add another activity” button."""
    data = data.copy()
    key = f"{ACTIVITIES_PREFIX}-TOTAL_FORMS"
    try:
        total = int(data.get(key, 0))
    except ValueError:
        total = 0
    data[key] = str(min(total + 1, MAX_ACTIVITIES))
    return data


def initial_from(plan: AssessmentPlan) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The title and rows of a new plan that starts as a copy of `plan` (which stays as it is)."""
    activities = [
        {
            "description": a.description,
            "method": a.method,
            "target_date": a.target_date,
            "criteria": [str(c.uuid) for c in a.criteria.all()],
        }
        for a in plan.activities.prefetch_related("criteria")
    ]
    return {"title": f"{plan.title} (revised)"[:TITLE_MAX_LENGTH]}, activities


# ---------------------------------------------------------------------------------------------
# Grouped criteria checkboxes for each activity row
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionOption:
    criterion: AssessmentCriterion
    value: str
    html_id: str
    checked: bool


@dataclass(frozen=True)
class UnitOptions:
    unit: Unit
    outcomes: list[tuple[LearningOutcome, list[CriterionOption]]]

    @property
    def chosen(self) -> int:
        return sum(o.checked for _, options in self.outcomes for o in options)


@dataclass(frozen=True)
class ActivityRow:
    form: ActivityForm
    number: int
    units: list[UnitOptions]


def _chosen(form: ActivityForm) -> set[str]:
    value = form["criteria"].value() or []
    return {str(v) for v in value}


def activity_rows(formset: BaseActivityFormSet, units: list[Unit]) -> list[ActivityRow]:
    """Each row of the formset with its criteria grouped by unit and outcome, ticked as posted."""
    rows = []
    for number, form in enumerate(formset.forms, start=1):
        chosen = _chosen(form)
        base_id = form["criteria"].auto_id
        rows.append(
            ActivityRow(
                form=form,
                number=number,
                units=[
                    UnitOptions(
                        unit=unit,
                        outcomes=[
                            (
                                outcome,
                                [
                                    CriterionOption(c, str(c.uuid), f"{base_id}_{c.uuid}", str(c.uuid) in chosen)
                                    for c in outcome.criteria.all()
                                ],
                            )
                            for outcome in unit.outcomes.all()
                        ],
                    )
                    for unit in units
                ],
            )
        )
    return rows


class ReviewForm(forms.Form):
    reviewed_on = forms.DateField(
        label="Date of the review",
        widget=DateInput,
        error_messages={"required": "Give the date of the review."},
    )
    achieved = forms.CharField(
        label="What has been achieved against the plan",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Say what has been achieved against the plan."},
    )
    next_steps = forms.CharField(
        label="Next steps",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="What the learner and assessor will do next, and by when.",
    )

    def clean_reviewed_on(self) -> date:
        reviewed_on = self.cleaned_data["reviewed_on"]
        if reviewed_on > timezone.localdate():
            raise ValidationError("A review records a meeting that has happened: the date cannot be in the future.")
        return reviewed_on
