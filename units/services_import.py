"""Writes for bringing a unit in from an awarding body's document: drafts, publishing, moving learners.

A draft (`UnitDraft`) holds the importer's reading of the document as fixture-shaped JSON until a
centre admin has checked and corrected it. Publishing turns it into a new `Unit` version through
`units.services.unit_create`, so an imported unit is stored exactly as a fixture-loaded one is.
Learners already enrolled keep the version they started on; `enrolled_unit_move` moves one learner
on, and only while nothing is recorded against the old version's criteria.

Two levels of checking:
- `draft_update` checks each field it is given (types, lengths, number formats, duplicates) and
  stores nothing if any is wrong: the messages are keyed by field path ("outcomes.1.criteria.2.text").
- `draft_problems` checks the unit as a whole (`UnitSpec`: every required field, numbering without
  gaps, at least one criterion per outcome). A draft may have such problems while it is being
  corrected; `draft_publish` refuses until it has none.
"""

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticError

from accounts.models import User
from assessments.models import Decision, PlannedActivity, SampleItem, SignOff
from portfolio.models import AuditEvent, Claim, EnrolledUnit, Enrolment, EvidenceVersion, RequirementCoverage
from portfolio.services.audit import audit
from units.diff_selectors import spec_change_summary
from units.importer.parse import empty_unit
from units.importer.result import ImportResult
from units.models import GroupUnit, Unit, UnitDraft
from units.selectors import unit_to_spec
from units.services import unit_create
from units.specs import (
    GuidanceSpec,
    KnowledgeSectionSpec,
    RequirementItemSpec,
    UnitSpec,
)

# The audit action for moving a learner to a newer version of a unit. portfolio.models.AuditEvent
# should name it (UNIT_VERSION_CHANGED, with a migration); until it does, the same value is written.
UNIT_VERSION_CHANGED = getattr(AuditEvent.Action, "UNIT_VERSION_CHANGED", "unit_version_changed")

PASTED = "Pasted text"
UNREVIEWED = (
    "The importer reported errors that no one has reviewed yet: check them, correct what is wrong and save "
    "the corrections before publishing."
)

# Belong to whoever saves the unit, not to the document's content.
NOT_CONTENT = ("key", "version", "sources")

KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEY_MAX_LENGTH = UnitDraft._meta.get_field("key").max_length
SOURCE_NAME_MAX_LENGTH = UnitDraft._meta.get_field("source_name").max_length


class DraftConflict(ValidationError):
    """The draft changed (or was published) since the person opened it."""


# ---------------------------------------------------------------------------------------------
# The draft's shape, checked field by field. Looser than UnitSpec (fields may be missing, numbering
# may still have gaps) but as strict as the database about lengths and number ranges.
# ---------------------------------------------------------------------------------------------

Text = Annotated[str, StringConstraints(min_length=1)]
SmallNumber = Annotated[int, Field(ge=1, le=999)]
Whole = Annotated[int, Field(ge=0, le=32767)]
Up20 = Annotated[str, StringConstraints(max_length=20)]
Up100 = Annotated[str, StringConstraints(max_length=100)]
Up255 = Annotated[str, StringConstraints(max_length=255)]
Text30 = Annotated[str, StringConstraints(min_length=1, max_length=30)]
Text255 = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class _Draft(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DraftCode(_Draft):
    issuer: Up100 = ""
    code: Text30
    source: Up255 = ""


class DraftNos(_Draft):
    code: Text30
    title: Text255
    suite: Up255 = ""


class DraftCriterion(_Draft):
    number: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,2}\.[1-9][0-9]{0,2}$")]
    text: Text
    guidance: str = ""


class DraftOutcome(_Draft):
    number: SmallNumber
    text: Text
    kind: Literal["knowledge", "competence"]
    knowledge: tuple[KnowledgeSectionSpec, ...] = ()
    criteria: tuple[DraftCriterion, ...] = ()


class DraftRequirement(_Draft):
    number: SmallNumber
    text: Text
    items: tuple[RequirementItemSpec, ...] = ()


class DraftUnit(_Draft):
    title: Up255 = ""
    level: Annotated[int, Field(ge=1, le=8)] | None = None
    credit_value: Whole | None = None
    guided_learning_hours: Whole | None = None
    reference_number: Up20 = ""
    codes: tuple[DraftCode, ...] = ()
    purpose: str = ""
    assessment_notes: tuple[Text, ...] = ()
    assessment_guidance: tuple[Text, ...] = ()
    nos_statement: str = ""
    nos_standards: tuple[DraftNos, ...] = ()
    additional_information: str = ""
    real_work_only: bool = False
    simulation_allowed: bool | None = None
    sufficient_period_required: bool = False
    outcomes: tuple[DraftOutcome, ...] = ()
    evidence_requirements: tuple[DraftRequirement, ...] = ()
    learner_guidance: tuple[GuidanceSpec, ...] = ()


# ---------------------------------------------------------------------------------------------
# Problems, in words a centre admin can act on
# ---------------------------------------------------------------------------------------------

FIELD_LABELS = {
    "key": "Unit key",
    "title": "Title",
    "level": "Level",
    "credit_value": "Credit value",
    "guided_learning_hours": "Guided learning hours",
    "reference_number": "Unit reference number",
    "codes": "Unit numbers",
    "purpose": "Purpose and aim",
    "assessment_notes": "Assessment",
    "assessment_guidance": "Guidance on assessment",
    "nos_statement": "NOS mapping statement",
    "nos_standards": "NOS standards",
    "additional_information": "Additional information",
    "real_work_only": "Real work only",
    "simulation_allowed": "Simulation allowed",
    "sufficient_period_required": "Sufficient period required",
    "outcomes": "Learning outcomes",
    "evidence_requirements": "Evidence requirements",
    "learner_guidance": "Learner guidance",
}


@dataclass(frozen=True)
class Problem:
    """Something that stops a draft being published (or a field being saved), and where it is."""

    path: str  # "outcomes.1.criteria.2.text"; "" for the unit as a whole
    message: str
    where: str  # "Criterion 2.3: text"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def _item(rows: Any, index: int) -> dict[str, Any]:
    if isinstance(rows, list) and 0 <= index < len(rows) and isinstance(rows[index], dict):
        return rows[index]
    return {}


def describe_path(path: str, data: Mapping[str, Any]) -> str:
    """ "outcomes.1.criteria.2.text" -> "Criterion 2.3: text", using the numbers in `data`."""
    parts = path.split(".") if path else []
    if not parts:
        return ""
    head, rest = parts[0], parts[1:]
    words: list[str] = []
    if head == "outcomes" and rest and rest[0].isdigit():
        outcome = _item(data.get("outcomes"), int(rest[0]))
        number = outcome.get("number") or int(rest[0]) + 1
        rest = rest[1:]
        if rest[:1] == ["criteria"] and len(rest) > 1 and rest[1].isdigit():
            criterion = _item(outcome.get("criteria"), int(rest[1]))
            words.append(f"Criterion {criterion.get('number') or f'{number}.{int(rest[1]) + 1}'}")
            rest = rest[2:]
        elif rest[:1] == ["knowledge"] and len(rest) > 1 and rest[1].isdigit():
            words.append(f"Learning outcome {number}, knowledge section {int(rest[1]) + 1}")
            rest = rest[2:]
        else:
            words.append(f"Learning outcome {number}")
    elif head == "evidence_requirements" and rest and rest[0].isdigit():
        requirement = _item(data.get("evidence_requirements"), int(rest[0]))
        number = requirement.get("number") or int(rest[0]) + 1
        rest = rest[1:]
        if rest[:1] == ["items"] and len(rest) > 1 and rest[1].isdigit():
            item = _item(requirement.get("items"), int(rest[1]))
            words.append(f"Evidence requirement {number}{item.get('letter') or ''}".strip())
            rest = rest[2:]
        else:
            words.append(f"Evidence requirement {number}")
    elif head in ("codes", "nos_standards", "learner_guidance", "assessment_notes", "assessment_guidance") and (
        rest and rest[0].isdigit()
    ):
        words.append(f"{FIELD_LABELS[head]}, entry {int(rest[0]) + 1}")
        rest = rest[1:]
    else:
        words.append(FIELD_LABELS.get(head, head.replace("_", " ").capitalize()))
    tail = " ".join(p.replace("_", " ") if not p.isdigit() else str(int(p) + 1) for p in rest)
    return f"{words[0]}: {tail}" if tail else words[0]


def _message(error: Mapping[str, Any]) -> str:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    last = str(error["loc"][-1]) if error["loc"] else ""
    if kind == "missing" or (value is None and kind in ("int_type", "string_type", "bool_type")):
        return "Not given: enter it from the document."
    if kind == "string_too_short":
        return "Enter the text, or remove the entry."
    if kind == "string_too_long":
        return f"Keep it to {ctx.get('max_length')} characters."
    if kind == "string_pattern_mismatch":
        if last == "number":
            return "Write the number as outcome.criterion, for example 2.3."
        if last == "letter":
            return "Use one lower-case letter, a to z."
        if last == "key":
            return "Use lower-case letters, digits and hyphens, for example manage-customer-service-operations."
        return "Not in the expected form."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "Enter a whole number."
    if kind == "greater_than_equal":
        return f"Enter a number of at least {ctx.get('ge')}."
    if kind == "less_than_equal":
        return f"Enter a number of at most {ctx.get('le')}."
    if kind == "literal_error":
        return f"Choose one of: {ctx.get('expected')}."
    if kind == "too_short":
        return (
            "A unit needs at least one learning outcome."
            if last == "outcomes"
            else "Each learning outcome needs at least one assessment criterion."
        )
    if kind in ("bool_type", "bool_parsing"):
        return "Choose yes or no."
    if kind == "extra_forbidden":
        return "Not a field of a unit specification."
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def _pydantic_problems(error: PydanticError, data: Mapping[str, Any]) -> list[Problem]:
    found = []
    for item in error.errors():
        path = ".".join(str(p) for p in item["loc"])
        found.append(Problem(path, _message(item), describe_path(path, data)))
    return found


def _key_problems(key: str) -> list[Problem]:
    if not key:
        return [Problem("key", "Give the unit a key, for example manage-customer-service-operations.", "Unit key")]
    if len(key) > KEY_MAX_LENGTH:
        return [Problem("key", f"Keep it to {KEY_MAX_LENGTH} characters.", "Unit key")]
    if not KEY_PATTERN.match(key):
        message = "Use lower-case letters, digits and hyphens, for example manage-customer-service-operations."
        return [Problem("key", message, "Unit key")]
    return []


def _numbering_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Duplicates, and criteria numbered under the wrong outcome: field errors even in a draft."""
    found: list[Problem] = []

    def add(path: str, message: str) -> None:
        found.append(Problem(path, message, describe_path(path, data)))

    seen_outcomes: set[Any] = set()
    for i, outcome in enumerate(data.get("outcomes") or []):
        if not isinstance(outcome, dict):
            continue
        number = outcome.get("number")
        if number in seen_outcomes:
            add(f"outcomes.{i}.number", f"Outcome {number} appears twice: give each outcome its own number.")
        seen_outcomes.add(number)
        seen_criteria: set[Any] = set()
        for k, criterion in enumerate(outcome.get("criteria") or []):
            if not isinstance(criterion, dict) or not isinstance(criterion.get("number"), str):
                continue
            written = criterion["number"]
            if written.split(".")[0] != str(number):
                add(
                    f"outcomes.{i}.criteria.{k}.number",
                    f"Criteria of outcome {number} are numbered {number}.1, {number}.2 …",
                )
            elif written in seen_criteria:
                add(f"outcomes.{i}.criteria.{k}.number", f"Criterion {written} appears twice.")
            seen_criteria.add(written)
    seen_requirements: set[Any] = set()
    for i, requirement in enumerate(data.get("evidence_requirements") or []):
        if not isinstance(requirement, dict):
            continue
        number = requirement.get("number")
        if number in seen_requirements:
            add(f"evidence_requirements.{i}.number", f"Evidence requirement {number} appears twice.")
        seen_requirements.add(number)
        letters: set[Any] = set()
        for j, item in enumerate(requirement.get("items") or []):
            if isinstance(item, dict):
                if item.get("letter") in letters:
                    add(f"evidence_requirements.{i}.items.{j}.letter", f"Item {item.get('letter')} appears twice.")
                letters.add(item.get("letter"))
    return found


def _gap_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Numbering with gaps or out of order: the first place in each list where it goes wrong."""
    found: list[Problem] = []

    def check(rows: Any, path: str, expected: Callable[[int], Any], field: str, rule: str) -> None:
        for i, row in enumerate(_rows_of(rows)):
            if row.get(field) != expected(i):
                where = f"{path}.{i}.{field}"
                found.append(Problem(where, f"Expected {expected(i)} here: {rule}.", describe_path(where, data)))
                return

    check(data.get("outcomes"), "outcomes", lambda i: i + 1, "number", "outcomes are numbered 1, 2, 3 … without gaps")
    for i, outcome in enumerate(_rows_of(data.get("outcomes"))):
        number = outcome.get("number")
        rule = f"the criteria of outcome {number} are numbered {number}.1, {number}.2 … without gaps"
        check(outcome.get("criteria"), f"outcomes.{i}.criteria", lambda k, n=number: f"{n}.{k + 1}", "number", rule)
    rule = "evidence requirements are numbered 1, 2, 3 … without gaps"
    check(data.get("evidence_requirements"), "evidence_requirements", lambda i: i + 1, "number", rule)
    for i, requirement in enumerate(_rows_of(data.get("evidence_requirements"))):
        rule = f"the items of requirement {requirement.get('number')} are lettered a, b, c … without gaps"
        check(requirement.get("items"), f"evidence_requirements.{i}.items", lambda j: chr(97 + j), "letter", rule)
    return found


def _rows_of(value: Any) -> list[dict[str, Any]]:
    return [row if isinstance(row, dict) else {} for row in value] if isinstance(value, list) else []


# UnitSpec's own numbering rules stop at the first field error anywhere; _gap_problems says the
# same about every list at once, at the field, so UnitSpec's versions of those messages are dropped.
_SPEC_NUMBERING = ("without gaps or repeats", "must be lettered a, b, c")


def field_problems(data: Mapping[str, Any], key: str) -> list[Problem]:
    """What is wrong with the fields themselves (as opposed to what is missing from the unit)."""
    found = _key_problems(key)
    try:
        DraftUnit.model_validate(data)
    except PydanticError as error:
        found += _pydantic_problems(error, data)
    return found + _numbering_problems(data)


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            kept.append(p)
    return kept


def spec_for(draft: UnitDraft, version: int) -> UnitSpec:
    """The draft as the complete unit it would publish (raises pydantic's ValidationError)."""
    return UnitSpec.model_validate(
        {
            **content(draft.data),
            "key": draft.key,
            "version": version,
            "sources": [{"title": draft.source_name or PASTED, "document": draft.source_name or PASTED}],
        }
    )


def draft_problems(draft: UnitDraft) -> list[Problem]:
    """Everything that stops the draft being published, as the data stands now."""
    found = field_problems(draft.data, draft.key) + _gap_problems(draft.data)
    try:
        spec_for(draft, max(draft.version, 1))
    except PydanticError as error:
        found += [
            p for p in _pydantic_problems(error, draft.data) if not any(rule in p.message for rule in _SPEC_NUMBERING)
        ]
    return _dedupe(found)


def raise_problems(problems: list[Problem]) -> None:
    """A ValidationError with the messages per field path (the view puts each beside its field)."""
    if problems:
        by_field: dict[str, list[str]] = {}
        for p in problems:
            by_field.setdefault(p.path or "__all__", []).append(p.message)
        raise ValidationError(by_field)


# ---------------------------------------------------------------------------------------------
# Data helpers
# ---------------------------------------------------------------------------------------------


def _without_nul(value: Any) -> Any:
    """PostgreSQL stores no NUL character in text or JSON; a document may still contain one."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _without_nul(v) for k, v in value.items()}
    return value


def normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of the format present, in its order; key, version and sources dropped."""
    given = {k: v for k, v in dict(data).items() if k not in NOT_CONTENT}
    # Every top-level field of a unit, in the fixture order, with the importer's empty values.
    ordered = {name: copy.deepcopy(given.pop(name, default)) for name, default in empty_unit().items()}
    return _without_nul({**ordered, **given})  # anything unknown is kept, and reported as not a field


def content(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in NOT_CONTENT}


def latest_version(key: str) -> Unit | None:
    return Unit.objects.filter(key=key).order_by("-version").first()


def next_version(key: str) -> int:
    latest = latest_version(key)
    return latest.version + 1 if latest else 1


def default_key(data: Mapping[str, Any], source_name: str) -> str:
    title = data.get("title") if isinstance(data.get("title"), str) else ""
    for candidate in (title, Path(source_name).stem):
        key = slugify(candidate)[:KEY_MAX_LENGTH].strip("-")
        if key:
            return key
    return "unit"


def remap_locations(locations: Mapping[str, Any], moved: Mapping[str, str | None]) -> dict[str, Any]:
    """Locations keyed by the rows' new paths. `moved` maps each row's old path prefix
    ("outcomes.0.criteria.2") to its new one, or to None when the row was removed; a field keeps
    the longest prefix of its path that `moved` names (rows it does not name move with their parent)."""
    remapped: dict[str, Any] = {}
    for path, span in locations.items():
        parts = path.split(".")
        for cut in range(len(parts), 0, -1):
            prefix = ".".join(parts[:cut])
            if prefix in moved:
                target = moved[prefix]
                if target is not None:
                    remapped[".".join([target, *parts[cut:]])] = span
                break
        else:
            remapped[path] = span
    return remapped


def _locked(draft: UnitDraft) -> UnitDraft:
    locked = UnitDraft.objects.select_for_update().get(pk=draft.pk)
    if locked.is_published:
        raise DraftConflict(
            f"This draft was published as version {locked.version} and is now a record: it cannot be "
            "changed. Import the document again to make another version."
        )
    return locked


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def draft_create(*, result: ImportResult, source_name: str, by: User | None, key: str | None = None) -> UnitDraft:
    """Keep what the importer read as a draft of the unit's next version. Nothing is checked but
    the key: the review page is where the rest is put right."""
    data = normalise(result.data if isinstance(result.data, Mapping) else {})
    source_name = _without_nul((source_name or PASTED).strip() or PASTED)[:SOURCE_NAME_MAX_LENGTH]
    key = default_key(data, source_name) if key is None else key.strip()
    raise_problems(_key_problems(key))
    now = timezone.now()
    return UnitDraft.objects.create(
        key=key,
        version=next_version(key),
        data=data,
        source_name=source_name,
        source_text=_without_nul(result.source_text or ""),
        locations={str(path): [span.start, span.end] for path, span in result.locations.items()},
        warnings=_without_nul([str(w) for w in result.warnings]),
        errors=_without_nul([str(e) for e in result.errors]),
        created_by=by,
        created_at=now,
        updated_by=by,
        updated_at=now,
    )


@transaction.atomic
def draft_update(
    *,
    draft: UnitDraft,
    data: Mapping[str, Any],
    by: User | None,
    key: str | None = None,
    revision: int | None = None,
    moved: Mapping[str, str | None] | None = None,
) -> UnitDraft:
    """Save corrections. Each field is checked; if any is wrong nothing is stored and the
    ValidationError carries the messages per field path. `revision`, when given, must be the one
    the person started from (someone else's save in between is refused, not overwritten);
    `moved` says where the rows went, so each field keeps its source lines (see remap_locations)."""
    draft = _locked(draft)
    if revision is not None and revision != draft.revision:
        raise DraftConflict(
            "Someone saved this draft after you opened it. Your changes were not saved: reload the page, "
            "then make them again."
        )
    data = normalise(data)
    key = draft.key if key is None else key.strip()
    problems = field_problems(data, key)
    raise_problems(problems)
    draft.data = DraftUnit.model_validate(data).model_dump(mode="json")
    draft.key = key
    draft.version = next_version(key)
    if moved is not None:
        draft.locations = remap_locations(draft.locations, moved)
    # What still stops publishing replaces the importer's errors: the person has now read them.
    draft.errors = [str(p) for p in draft_problems(draft)]
    draft.revision += 1
    draft.updated_by, draft.updated_at = by, timezone.now()
    draft.save()
    return draft


def _same_content(a: UnitSpec, b: UnitSpec) -> bool:
    skip = {"version", "sources"}
    return a.model_dump(exclude=skip) == b.model_dump(exclude=skip)


@dataclass(frozen=True)
class PublishPreview:
    problems: list[Problem]  # what stops publishing
    latest: Unit | None  # the version it follows
    identical: bool  # the same content as `latest`: nothing to publish
    changes: list[str]  # against `latest`, in a few phrases


def publish_preview(draft: UnitDraft) -> PublishPreview:
    """What the confirmation page says before anything is written."""
    problems = draft_problems(draft)
    shown = {str(p) for p in problems}
    unreviewed = [e for e in draft.errors if e not in shown]  # the importer's, before any save
    if unreviewed:
        problems += [Problem("", UNREVIEWED, ""), *(Problem("", e, "") for e in unreviewed)]
    latest = latest_version(draft.key)
    identical, changes = False, []
    if not problems and latest is not None:
        before, after = unit_to_spec(latest), spec_for(draft, latest.version + 1)
        identical = _same_content(before, after)
        changes = spec_change_summary(before, after)
    return PublishPreview(problems, latest, identical, changes)


@transaction.atomic
def draft_publish(*, draft: UnitDraft, by: User | None) -> Unit:
    """Publish the draft as the next version of its unit, all or nothing.

    The draft rows of the key are locked, so two people publishing the same unit at once take
    versions one after the other (the unique (key, version) constraint is the backstop). New
    enrolments get the new version (the qualifications' group memberships move to it); every
    learner already enrolled stays on the version they have.
    """
    key = UnitDraft.objects.values_list("key", flat=True).get(pk=draft.pk)
    # Lock in id order: two publishes of drafts of one key never wait on each other in a circle.
    list(UnitDraft.objects.select_for_update().filter(key=key).order_by("pk").values_list("pk", flat=True))
    draft = _locked(draft)
    if draft.key != key:
        raise DraftConflict("The unit key of this draft was changed while it was being published; try again.")
    raise_problems(draft_problems(draft))
    if draft.errors:
        raise ValidationError([UNREVIEWED, *draft.errors])
    previous = Unit.objects.select_for_update().filter(key=key).order_by("-version").first()
    version = previous.version + 1 if previous else 1
    spec = spec_for(draft, version)
    if previous is not None and _same_content(unit_to_spec(previous), spec):
        raise ValidationError(f"Identical to version {previous.version}: nothing to publish.")
    try:
        with transaction.atomic():
            unit = unit_create(spec=spec)
    except IntegrityError:
        raise DraftConflict(
            f"Version {version} of this unit was published a moment ago by someone else. Reload and compare."
        ) from None
    _memberships_move(key=key, to=unit)
    now = timezone.now()
    draft.version = version
    draft.published_unit, draft.published_by, draft.published_at = unit, by, now
    draft.updated_by, draft.updated_at = by, now
    draft.save()
    return unit


def _memberships_move(*, key: str, to: Unit) -> None:
    """Point each qualification group that offers an earlier version of the unit at `to`."""
    memberships = GroupUnit.objects.select_for_update().filter(unit__key=key).exclude(unit=to)
    newest: dict[int, GroupUnit] = {}
    for membership in memberships.select_related("unit").order_by("group_id", "-unit__version"):
        newest.setdefault(membership.group_id, membership)
    for membership in newest.values():
        membership.unit = to
        membership.save(update_fields=["unit"])


# ---------------------------------------------------------------------------------------------
# Moving a learner to a newer version
# ---------------------------------------------------------------------------------------------


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def recorded_against(enrolment: Enrolment, unit: Unit) -> list[str]:
    """What the portfolio has recorded against this version of the unit, in words; empty if nothing."""
    claims = Claim.objects.filter(version__evidence__enrolment=enrolment, criterion__outcome__unit=unit)
    found = []
    claim_count = claims.count()
    if claim_count:
        found.append(_plural(claim_count, "evidence mapping to its criteria", "evidence mappings to its criteria"))
    decision_count = Decision.objects.filter(claim__in=claims).count()
    if decision_count:
        found.append(_plural(decision_count, "assessment decision"))
    coverage = RequirementCoverage.objects.filter(
        version__evidence__enrolment=enrolment, item__requirement__unit=unit
    ).count()
    if coverage:
        found.append(_plural(coverage, "evidence requirement item covered", "evidence requirement items covered"))
    planned = PlannedActivity.objects.filter(plan__enrolment=enrolment, criteria__outcome__unit=unit).distinct().count()
    if planned:
        found.append(_plural(planned, "planned assessment activity", "planned assessment activities"))
    if SignOff.objects.filter(enrolment=enrolment, unit=unit).exists():
        found.append("the assessor's sign-off")
    samples = SampleItem.objects.filter(enrolment=enrolment, unit=unit).count()
    if samples:
        found.append(_plural(samples, "IQA sample"))
    return found


@transaction.atomic
def enrolled_unit_move(*, enrolled_unit: EnrolledUnit, to_unit: Unit, by: User | None) -> EnrolledUnit:
    """Move one learner from their version of a unit to a newer one, while nothing is recorded
    against the old version for them: their evidence, decisions and sign-off refer to its criteria."""
    enrolment = Enrolment.objects.select_for_update().select_related("learner").get(pk=enrolled_unit.enrolment_id)
    # Mapping evidence locks the draft version it changes: holding the drafts here means a mapping
    # in flight finishes before the check below, and one that starts later sees the new version.
    list(
        EvidenceVersion.objects.select_for_update()
        .filter(evidence__enrolment=enrolment, status=EvidenceVersion.Status.DRAFT)
        .values_list("pk", flat=True)
    )
    current = EnrolledUnit.objects.select_related("unit").filter(pk=enrolled_unit.pk).first()
    if current is None:
        raise ValidationError("This unit is no longer on the learner's portfolio.")
    old = current.unit
    learner = enrolment.learner
    if to_unit.key != old.key:
        raise ValidationError(f"{to_unit.title} is another unit, not a version of {old.title}.")
    if to_unit.version <= old.version:
        raise ValidationError(
            f"{learner} is on version {old.version} of {old.title}; they can only be moved to a newer version."
        )
    if EnrolledUnit.objects.filter(enrolment=enrolment, unit=to_unit).exists():
        raise ValidationError(f"{learner} is already on version {to_unit.version} of {to_unit.title}.")
    recorded = recorded_against(enrolment, old)
    if recorded:
        raise ValidationError(
            f"{learner} stays on version {old.version} of {old.title}: recorded against it are "
            f"{', '.join(recorded)}. Work recorded against one version's criteria cannot be carried to another."
        )
    current.unit = to_unit
    current.save(update_fields=["unit"])
    audit(
        by,
        UNIT_VERSION_CHANGED,
        enrolment,
        enrolment=enrolment,
        summary=(
            f"{by or 'The system'} moved {learner} from version {old.version} to version {to_unit.version} "
            f"of {to_unit.title}"
        ),
        detail={
            "unit": to_unit.key,
            "from": {"uuid": str(old.uuid), "version": old.version},
            "to": {"uuid": str(to_unit.uuid), "version": to_unit.version},
        },
    )
    return current
