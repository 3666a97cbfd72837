"""Forms for the assessor's pages. They read and check input; `assessments.services` decide and write."""

from collections.abc import Iterable, Mapping

from django import forms
from django.utils.text import Truncator

from assessments.models import Decision
from assessments.services.decisions import FEEDBACK_REQUIRED, NEEDS_FEEDBACK, Addition, Judgement
from portfolio.models import Claim
from units.models import AssessmentCriterion

Outcome = Decision.Outcome

# Shorter words than the model's labels: they sit beside radio buttons on a long page.
OUTCOME_CHOICES = [
    (Outcome.MET, "Met"),
    (Outcome.NOT_YET_MET, "Not yet met"),
    (Outcome.REMOVED, "Mapping does not hold"),
]
ADDITION_OUTCOME_CHOICES = OUTCOME_CHOICES[:2]


def _needs_feedback(form: forms.Form) -> None:
    data = form.cleaned_data
    if data.get("outcome") in NEEDS_FEEDBACK and not data.get("feedback", "").strip():
        form.add_error("feedback", FEEDBACK_REQUIRED)


class JudgementForm(forms.Form):
    """One claim's outcome and feedback. Its fields are named `outcome-<claim uuid>` and so on."""

    outcome = forms.ChoiceField(choices=OUTCOME_CHOICES, widget=forms.RadioSelect, required=False)
    feedback = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, strip=False)
    # The latest decision the assessor saw on this claim: the service refuses if it has moved on.
    expected = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, claim: Claim, latest: Decision | None, data: Mapping[str, object] | None = None) -> None:
        self.claim = claim
        super().__init__(data=data, prefix=str(claim.uuid), initial={"expected": latest.uuid if latest else None})

    def add_prefix(self, field_name: str) -> str:
        # The page promises `expected-<claim uuid>`: the field name first, then the claim.
        return f"{field_name}-{self.prefix}"

    def clean(self) -> dict[str, object]:
        super().clean()
        _needs_feedback(self)
        if self.cleaned_data.get("feedback", "").strip() and not self.cleaned_data.get("outcome"):
            # Without an outcome the claim is left for later, and the feedback would be silently lost.
            self.add_error("outcome", "Choose an outcome for the feedback you wrote, or clear the feedback.")
        return self.cleaned_data

    def judgement(self) -> Judgement | None:
        """The judgement to record, or None where the assessor left this claim for later."""
        if not self.cleaned_data.get("outcome"):
            return None
        return Judgement(
            claim=self.claim,
            outcome=self.cleaned_data["outcome"],
            feedback=self.cleaned_data["feedback"],
            expected=self.cleaned_data["expected"],
        )


def criterion_label(criterion: AssessmentCriterion) -> str:
    return f"{criterion.number} {Truncator(criterion.text).chars(110)}"


class AdditionForm(forms.Form):
    """A criterion the learner did not claim, chosen from criteria already loaded for the page."""

    criterion = forms.ChoiceField(label="Criterion", required=False)
    reason = forms.CharField(
        label="How the evidence shows it",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="This becomes the claim's account, marked as added by you.",
    )
    outcome = forms.ChoiceField(choices=ADDITION_OUTCOME_CHOICES, widget=forms.RadioSelect, required=False)
    feedback = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, strip=False)

    def __init__(self, criteria: Iterable[AssessmentCriterion], data: Mapping[str, object] | None = None) -> None:
        super().__init__(data=data, prefix="add")
        self.criteria: dict[str, AssessmentCriterion] = {str(c.uuid): c for c in criteria}
        # Grouped by unit (an <optgroup> each): the same number, e.g. 1.1, exists in every unit.
        groups: dict[str, list[tuple[str, str]]] = {}
        for key, criterion in self.criteria.items():
            groups.setdefault(criterion.outcome.unit.title, []).append((key, criterion_label(criterion)))
        self.fields["criterion"].choices = [("", "None: the learner claimed everything it shows"), *groups.items()]

    def clean(self) -> dict[str, object]:
        super().clean()
        data = self.cleaned_data
        if not data.get("criterion"):
            if data.get("reason", "").strip() or data.get("outcome"):
                self.add_error("criterion", "Choose the criterion you are adding, or clear the reason and outcome.")
            return data
        if not data.get("reason", "").strip():
            self.add_error("reason", "Say how this evidence shows the criterion.")
        if not data.get("outcome"):
            self.add_error("outcome", "Choose an outcome for the criterion you are adding.")
        _needs_feedback(self)
        return data

    def addition(self) -> Addition | None:
        if not self.is_bound or not self.cleaned_data.get("criterion"):
            return None
        return Addition(
            criterion=self.criteria[self.cleaned_data["criterion"]],
            reason=self.cleaned_data["reason"],
            outcome=self.cleaned_data["outcome"],
            feedback=self.cleaned_data["feedback"],
        )
