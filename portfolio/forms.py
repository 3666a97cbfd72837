"""Forms for the portfolio pages (enrolment, reassignment, evidence): they validate input, and the
services in `portfolio.services` act.

Every choice is a public UUID (`to_field_name="uuid"`), never an integer key, and every list of
people is limited to one centre: another centre's id is simply not a valid choice.
"""

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.urls import reverse_lazy
from django.utils.text import capfirst

from accounts.models import User
from portfolio.models import Assignment, AuditEvent, EvidenceVersion, Method
from portfolio.services.enrolments import REASON_MAX_LENGTH
from portfolio.services.evidence import EvidenceDetails
from units.models import GroupUnit, Qualification, RuleGroup, Unit

# ---------------------------------------------------------------------------------------------
# Enrolment and reassignment
# ---------------------------------------------------------------------------------------------


def people_at(centre_id: int | None, *roles: User.Role) -> QuerySet[User]:
    return User.objects.filter(centre_id=centre_id, role__in=roles, is_active=True).order_by(
        "last_name", "first_name", "username"
    )


class PersonField(forms.ModelChoiceField):
    """A person chosen by public id from a queryset the form limits to one centre."""

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        super().__init__(
            queryset=User.objects.none(),
            to_field_name="uuid",
            error_messages={"invalid_choice": f"Choose {what} at your centre."},
            **kwargs,
        )


class PersonWithRoleField(PersonField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} ({obj.get_role_display()})"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")  # the only format <input type="date"> accepts


class ChoiceSelect(forms.Select):
    """A select with no empty option. HTML forbids `required` on it, so Django would drop the
    attribute anyway, but only after running the choices query to find that out."""

    def use_required_attribute(self, initial: Any) -> bool:
        return False


@dataclass(frozen=True)
class UnitOption:
    unit: Unit
    html_id: str
    checked: bool
    mandatory: bool


@dataclass(frozen=True)
class UnitGroupOptions:
    group: RuleGroup
    mandatory: bool
    options: list[UnitOption]


class EnrolmentForm(forms.Form):
    learner = PersonField(what="a learner", empty_label="Choose a learner")
    qualification = forms.ModelChoiceField(
        queryset=Qualification.objects.order_by("awarding_body", "level", "title"),
        to_field_name="uuid",
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of the qualifications listed."},
        # With JavaScript, choosing another qualification swaps in its units (a plain GET).
        widget=ChoiceSelect(
            attrs={
                "hx-get": reverse_lazy("portfolio:enrol"),
                "hx-target": "#unit-choices",
                "hx-select": "#unit-choices",
                "hx-swap": "outerHTML",
            }
        ),
    )
    units = forms.ModelMultipleChoiceField(
        queryset=Unit.objects.all(),
        to_field_name="uuid",
        required=False,  # mandatory units are added by the service; the credit rules are its job too
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose units from the list."},
    )
    assessor = PersonField(what="an assessor", required=False, empty_label="Assign later")
    iqa = PersonField(what="an IQA", label="IQA", required=False, empty_label="Assign later")
    start_date = forms.DateField(widget=DateInput())
    planned_end_date = forms.DateField(widget=DateInput())

    def __init__(self, *args: Any, centre_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["learner"].queryset = people_at(centre_id, User.Role.LEARNER)
        self.fields["assessor"].queryset = people_at(centre_id, User.Role.ASSESSOR)
        self.fields["iqa"].queryset = people_at(centre_id, User.Role.IQA)

    @cached_property
    def selected_qualification(self) -> Qualification | None:
        """The qualification whose units the page lists: the one chosen, else the first offered
        (which is also what the browser preselects, as the select has no empty option)."""
        field = self.fields["qualification"]
        try:
            chosen = field.to_python(self["qualification"].value())
        except ValidationError:
            chosen = None
        return chosen or field.queryset.first()

    @cached_property
    def unit_groups(self) -> list[UnitGroupOptions]:
        """The selected qualification's rule groups with a checkbox per unit."""
        qualification = self.selected_qualification
        if qualification is None:
            return []
        memberships = GroupUnit.objects.select_related("unit").order_by("position")
        groups = list(qualification.groups.prefetch_related(Prefetch("memberships", queryset=memberships)))
        mandatory = {m.unit_id for g in groups if g.kind == RuleGroup.Kind.MANDATORY for m in g.memberships.all()}
        checked = {str(getattr(v, "uuid", v)) for v in self["units"].value() or []}
        base_id = self["units"].auto_id
        return [
            UnitGroupOptions(
                group=group,
                mandatory=group.kind == RuleGroup.Kind.MANDATORY,
                options=[
                    UnitOption(
                        unit=m.unit,
                        html_id=f"{base_id}_{g_index}_{u_index}",
                        checked=m.unit_id in mandatory or str(m.unit.uuid) in checked,
                        mandatory=m.unit_id in mandatory,
                    )
                    for u_index, m in enumerate(group.memberships.all())
                ],
            )
            for g_index, group in enumerate(groups)
        ]


class ReassignForm(forms.Form):
    prefix = "reassign"  # its ids stay unique on the portfolio page, beside other forms

    role = forms.TypedChoiceField(choices=Assignment.Role.choices, coerce=Assignment.Role, label="Role to change")
    person = PersonWithRoleField(
        what="an assessor or IQA",
        label="New person",
        required=False,  # unless `unassign` is ticked; see clean()
        empty_label="Choose a person",
    )
    # Unassigning is its own tick box, so a forgotten select never silently removes someone.
    unassign = forms.BooleanField(required=False, label="Leave the role unassigned instead")
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example “Daniel has left the centre”. It is kept in the assignment history.",
        error_messages={"required": "Give a reason for the change."},
    )

    def __init__(self, *args: Any, centre_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people_at(centre_id, User.Role.ASSESSOR, User.Role.IQA)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        person, unassign = cleaned.get("person"), cleaned.get("unassign")
        if person is None and not unassign and "person" not in self.errors:
            self.add_error("person", "Choose the new person, or tick “Leave the role unassigned instead”.")
        elif person is not None and unassign:
            self.add_error("unassign", "Either choose a person or leave the role unassigned, not both.")
        return cleaned


# ---------------------------------------------------------------------------------------------
# Evidence
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# EQA access grants
# ---------------------------------------------------------------------------------------------


class GrantForm(forms.Form):
    WHOLE_CENTRE = "centre"
    CHOSEN_LEARNERS = "learners"

    eqa = PersonField(what="an external quality assurer", label="External quality assurer")
    scope = forms.ChoiceField(
        label="Access to",
        choices=[(WHOLE_CENTRE, "Every learner at the centre"), (CHOSEN_LEARNERS, "Only the learners I choose")],
        widget=forms.RadioSelect,
        initial=CHOSEN_LEARNERS,
    )
    learners = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        to_field_name="uuid",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose learners at your centre."},
    )
    expires_on = forms.DateField(
        label="Access ends after",
        widget=DateInput,
        help_text="Access lasts to the end of this day. Six months unless you change it.",
    )
    reason = forms.CharField(
        label="Reason (optional)", max_length=300, required=False, help_text="For example, the EQA visit it is for."
    )

    def __init__(self, *args: Any, centre_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["eqa"].queryset = User.objects.filter(role=User.Role.EQA, is_active=True).order_by(
            "last_name", "first_name"
        )
        self.fields["learners"].queryset = people_at(centre_id, User.Role.LEARNER)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("scope") == self.WHOLE_CENTRE:
            data["learners"] = []
        elif "learners" in data and not data["learners"]:
            self.add_error("learners", "Choose at least one learner, or every learner at the centre.")
        return data


class RevokeForm(forms.Form):
    reason = forms.CharField(label="Reason (optional)", max_length=300, required=False)


# ---------------------------------------------------------------------------------------------
# Audit trail
# ---------------------------------------------------------------------------------------------

# Names people use for the objects events are about, where the model's own name is not it.
OBJECT_LABELS = {"storedfile": "File", "signoff": "Unit sign-off", "enrolment": "Enrolment (portfolio)"}


def object_type_label(model_name: str) -> str:
    """ "Evidence", "File", "Assessment plan": for an `AuditEvent.object_type`."""
    if model_name in OBJECT_LABELS:
        return OBJECT_LABELS[model_name]
    for model in apps.get_models():
        if model._meta.model_name == model_name:
            return capfirst(str(model._meta.verbose_name))
    return model_name


class AuditActorField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} ({obj.role_label})"


class AuditFilterForm(forms.Form):
    """Filters for one portfolio's audit trail, sent by GET. Every field may be left blank.

    Dates are calendar days in UTC, both ends included, matching the times the trail shows.
    """

    action = forms.ChoiceField(label="What", required=False, choices=[("", "Any action"), *AuditEvent.Action.choices])
    actor = AuditActorField(
        label="Who",
        queryset=User.objects.none(),
        to_field_name="uuid",
        required=False,
        empty_label="Anyone",
        error_messages={"invalid_choice": "Choose someone from the list."},
    )
    object_type = forms.ChoiceField(label="Object", required=False)
    date_from = forms.DateField(label="From (UTC date)", required=False, widget=DateInput)
    date_to = forms.DateField(
        label="To (UTC date)", required=False, widget=DateInput, help_text="Events on this day are included."
    )
    text = forms.CharField(label="Summary contains", required=False, max_length=100)

    def __init__(
        self, *args: Any, actors: QuerySet[User], object_types: Callable[[], Iterable[str]], **kwargs: Any
    ) -> None:
        """`actors`: the people in this trail; `object_types`: called only if the choices are needed."""
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = actors

        @functools.cache  # rendering a select reads its choices more than once
        def object_choices() -> list[tuple[str, str]]:
            return [("", "Any object"), *((name, object_type_label(name)) for name in object_types())]

        self.fields["object_type"].choices = object_choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned
