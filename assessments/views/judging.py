"""The assessor's marking page: judge each claim of a submitted version, with signed decisions.

The page loads in a fixed number of queries however many claims the version makes. A conflict
(someone decided first) re-renders with 409 and the current state; a wrong password with 400.
Either way what the assessor typed stays in the boxes and nothing is saved.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.forms import SignatureForm
from accounts.policy import Action, require
from assessments.forms import AdditionForm, JudgementForm
from assessments.models import Decision
from assessments.services.decisions import DecisionConflict, VersionChanged, decisions_record
from portfolio.models import Claim, Declaration, Evidence, EvidenceVersion, StoredFile
from portfolio.progress import State
from portfolio.selectors import evidence_for_user
from portfolio.services.evidence import simulation_refusal
from units.models import AssessmentCriterion

Outcome = Decision.Outcome
TEMPLATE = "assessments/assess.html"


@dataclass(frozen=True)
class Badge:
    """What `portfolio/_state.html` renders: words and an icon, never colour alone."""

    slug: str
    icon: str
    label: str


BADGES: dict[str, State | Badge] = {
    Outcome.MET: State.MET,
    Outcome.NOT_YET_MET: State.NOT_YET_MET,
    Outcome.REMOVED: Badge("not-evidenced", "⊘", "Mapping does not hold"),
}


@dataclass
class HistoryEntry:
    decision: Decision
    badge: State | Badge
    version_number: int


@dataclass
class ClaimRow:
    claim: Claim
    form: JudgementForm
    latest: Decision | None
    history: list[HistoryEntry] = field(default_factory=list)

    @property
    def state(self) -> State | Badge:
        return BADGES[self.latest.outcome] if self.latest else State.AWAITING


# Reads. Each is one query, whatever the number of claims.


def _claims(version: EvidenceVersion) -> list[Claim]:
    return list(
        version.claims.select_related("criterion__outcome__unit", "added_by").order_by(
            "criterion__outcome__unit__title", "criterion__outcome__number", "criterion__ordinal"
        )
    )


def _decisions_by_criterion(
    evidence: Evidence, version: EvidenceVersion, claims: list[Claim]
) -> dict[int, list[Decision]]:
    """Every decision on these criteria in this and earlier versions of the evidence, oldest first."""
    decisions = (
        Decision.objects.filter(
            claim__version__evidence=evidence,
            claim__version__number__lte=version.number,
            claim__criterion_id__in=[c.criterion_id for c in claims],
        )
        .select_related("decided_by", "claim__version")
        .order_by("claim__version__number", "decided_at", "id")
    )
    grouped: dict[int, list[Decision]] = defaultdict(list)
    for decision in decisions:
        grouped[decision.claim.criterion_id].append(decision)
    return grouped


def _files(version: EvidenceVersion) -> list[StoredFile]:
    return [vf.file for vf in version.version_files.select_related("file").order_by("position")]


def _addable_criteria(evidence: Evidence, version: EvidenceVersion, claims: list[Claim]) -> list[AssessmentCriterion]:
    """Criteria of the enrolled units this version does not claim and its method may show."""
    criteria = (
        AssessmentCriterion.objects.filter(outcome__unit__enrolled_units__enrolment_id=evidence.enrolment_id)
        .exclude(pk__in=[c.criterion_id for c in claims])
        .select_related("outcome__unit")
        .order_by("outcome__unit__title", "outcome__number", "ordinal")
    )
    return [c for c in criteria if simulation_refusal(version.method, c) is None]


def _rows(evidence: Evidence, version: EvidenceVersion, claims: list[Claim], data: QueryDict | None) -> list[ClaimRow]:
    history = _decisions_by_criterion(evidence, version, claims)
    rows = []
    for claim in claims:
        decisions = history.get(claim.criterion_id, [])
        latest = _head(d for d in decisions if d.claim_id == claim.pk)
        rows.append(
            ClaimRow(
                claim=claim,
                form=JudgementForm(claim, latest, data),
                latest=latest,
                history=[HistoryEntry(d, BADGES[d.outcome], d.claim.version.number) for d in decisions],
            )
        )
    return rows


def _head(decisions: Iterable[Decision]) -> Decision | None:
    """The decision nothing supersedes: the latest in the chain, as the service sees it."""
    chain = list(decisions)
    superseded = {d.supersedes_id for d in chain}
    heads = [d for d in chain if d.pk not in superseded]
    return heads[-1] if heads else None


# The page.


@dataclass
class Page:
    evidence: Evidence
    version: EvidenceVersion
    rows: list[ClaimRow]
    addition: AdditionForm
    signature: SignatureForm

    def forms(self) -> list[Form]:
        return [*(r.form for r in self.rows), self.addition, self.signature]

    def valid(self) -> bool:
        results = [f.is_valid() for f in self.forms()]  # every form, not up to the first invalid one
        return all(results)


def _page(request: HttpRequest, evidence: Evidence, data: QueryDict | None) -> Page:
    version = evidence.current_version
    claims = _claims(version)
    return Page(
        evidence=evidence,
        version=version,
        rows=_rows(evidence, version, claims, data),
        addition=AdditionForm(_addable_criteria(evidence, version, claims), data),
        signature=SignatureForm(request.user, data),
    )


def _render(request: HttpRequest, page: Page, status: int = 200, **extra: object) -> HttpResponse:
    version = page.version
    context = {
        "evidence": page.evidence,
        "version": version,
        "files": _files(version),
        "declaration": Declaration.objects.filter(version=version).first(),
        "coverage": version.coverage.select_related("item__requirement").order_by(
            "item__requirement__number", "item__letter"
        ),
        "rows": page.rows,
        "addition": page.addition,
        "signature": page.signature,
        "can_edit": False,
        **extra,
    }
    return render(request, TEMPLATE, context, status=status)


def _not_submitted(request: HttpRequest, evidence: Evidence, status: int = 200, **extra: object) -> HttpResponse:
    context = {"evidence": evidence, "version": evidence.current_version, "nothing_to_judge": True, **extra}
    return render(request, TEMPLATE, context, status=status)


def _with_current_expectations(data: QueryDict, rows: list[ClaimRow]) -> QueryDict:
    """The assessor's typed answers, but expecting the decisions they can now see on the page."""
    data = data.copy()
    for row in rows:
        data[row.form.add_prefix("expected")] = str(row.latest.uuid) if row.latest else ""
    return data


def _attach_service_errors(page: Page, error: ValidationError) -> list[str]:
    """Put the service's errors beside their fields; return those that belong to no field."""
    keyed = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    by_name = {f.add_prefix(name): (f, name) for f in page.forms() for name in f.fields}
    unplaced: list[str] = []
    for key, texts in keyed.items():
        if key in by_name:
            form, name = by_name[key]
            form.add_error(name, texts)
        else:
            unplaced.extend(texts)
    return unplaced


def _evidence_changed(request: HttpRequest, evidence: Evidence) -> HttpResponse:
    """409: the version being judged is no longer the one to judge, and nothing was saved."""
    version = evidence.current_version
    if version is None or version.status != EvidenceVersion.Status.SUBMITTED:
        return _not_submitted(request, evidence, status=409, changed=True)
    return _render(request, _page(request, evidence, None), status=409, version_changed=True)


def _sign(request: HttpRequest, evidence: Evidence) -> HttpResponse:
    page = _page(request, evidence, request.POST)
    if not page.valid():
        return _render(request, page, status=400, has_errors=True)
    judgements = [j for r in page.rows if (j := r.form.judgement())]
    addition = page.addition.addition()
    try:
        decisions = decisions_record(
            version=page.version,
            assessor=request.user,
            judgements=judgements,
            additions=[addition] if addition else [],
            reauthenticated=True,  # the signature form has just checked the password
        )
    except VersionChanged:
        # The learner started or submitted a newer version after `assess` checked: show what is there now.
        return _evidence_changed(request, evidence_for_user(request.user, evidence.uuid))
    except DecisionConflict as conflict:
        # Re-read everything: the page must show the decisions that won, not the ones the assessor saw.
        fresh = _page(request, evidence, None)
        page = _page(request, evidence, _with_current_expectations(request.POST, fresh.rows))
        page.signature = SignatureForm(request.user)  # they sign again, knowingly, after reading the new state
        return _render(request, page, status=409, conflict=conflict.messages[0])
    except ValidationError as error:
        unplaced = _attach_service_errors(page, error)
        return _render(request, page, status=400, has_errors=True, service_errors=unplaced)
    numbers = ", ".join(d.claim.criterion.number for d in decisions)
    messages.success(request, f"Decisions signed and recorded on {numbers}. The learner has been told.")
    return redirect(reverse("portfolio:evidence", args=[evidence.uuid]))


@require_http_methods(["GET", "POST"])
@login_required
def assess(request: HttpRequest, uuid: object) -> HttpResponse:
    evidence = evidence_for_user(request.user, uuid)
    require(request.user, Action.ASSESS, evidence.enrolment)
    version = evidence.current_version
    if version is None or version.status != EvidenceVersion.Status.SUBMITTED:
        if request.method == "POST":
            # Submitted when the page was loaded, but the learner has started a new version since.
            return _not_submitted(request, evidence, status=409, changed=True)
        return _not_submitted(request, evidence)
    if request.method == "POST":
        if request.POST.get("version") != str(version.uuid):
            page = _page(request, evidence, None)
            return _render(request, page, status=409, version_changed=True)
        return _sign(request, evidence)
    return _render(request, _page(request, evidence, None))
