"""The plain dataclass tree the report's templates draw: no model instances, so no lazy queries."""

import datetime
import uuid
from dataclasses import dataclass, field

from accounts.models import User
from assessments.selectors import SignOffStatus
from portfolio.progress import State

# Evidence columns per tracking-matrix table: more would not fit across an A4 page.
MATRIX_COLUMNS = 8

# Short words for matrix cells (the full label is in the legend and the criteria list).
SHORT_LABELS = {
    State.MET: "Met",
    State.AWAITING: "Awaiting",
    State.NOT_YET_MET: "Not yet met",
    State.DRAFT: "Draft",
    State.NOT_EVIDENCED: "None",
}

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def person_name(person: User | None) -> str:
    if person is None:
        return "Not assigned"
    return person.get_full_name() or person.username


@dataclass(frozen=True)
class Signature:
    name: str
    at: datetime.datetime
    reauthenticated: bool


@dataclass(frozen=True)
class EvidenceRef:
    ref: str  # "E3": numbered in the order the evidence was created
    anchor: str
    title: str


@dataclass
class FileEntry:
    ref: str  # "F3"
    uuid: uuid.UUID
    name: str
    content_type: str
    size: int
    sha256: str
    storage_name: str  # read through default_storage only; never shown
    uploaded_by: str
    uploaded_at: datetime.datetime
    purged_at: datetime.datetime | None = None  # its bytes deleted under the retention rule
    evidence: list[EvidenceRef] = field(default_factory=list)

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES and self.purged_at is None

    @property
    def attachment_name(self) -> str:
        """The name the original has inside the PDF: unique, because two files may share a name."""
        return f"{self.ref}-{self.name}"


@dataclass(frozen=True)
class Cell:
    state: State

    @property
    def icon(self) -> str:
        return self.state.icon

    @property
    def short(self) -> str:
        return SHORT_LABELS[self.state]


# What the matrix legend explains, best first.
MATRIX_LEGEND = [Cell(s) for s in (State.MET, State.AWAITING, State.NOT_YET_MET, State.DRAFT)]


@dataclass
class CriterionRow:
    number: str
    text: str
    state: State
    cells: list[Cell | None]  # one per evidence column of the unit
    evidence: list[EvidenceRef]  # the evidence whose claims give it a state


@dataclass
class OutcomeBlock:
    number: int
    text: str
    kind: str
    rows: list[CriterionRow]


@dataclass(frozen=True)
class MatrixChunk:
    columns: list[EvidenceRef]
    # (outcome, [(row, its cells for these columns)])
    outcomes: list[tuple[OutcomeBlock, list[tuple[CriterionRow, list[Cell | None]]]]]


@dataclass(frozen=True)
class ItemRow:
    label: str  # "6c"
    text: str
    covered_by: list[EvidenceRef]  # submitted evidence: what sign-off counts
    planned_in: list[EvidenceRef]  # drafts only: not yet evidence


@dataclass(frozen=True)
class RequirementBlock:
    number: int
    text: str
    items: list[ItemRow]


@dataclass
class UnitReport:
    uuid: uuid.UUID
    anchor: str
    title: str
    version: int
    level: int
    credit_value: int
    guided_learning_hours: int
    reference_number: str
    codes: list[str]
    status: SignOffStatus
    signed_off: Signature | None
    countersigned: Signature | None
    outcomes: list[OutcomeBlock]
    columns: list[EvidenceRef]
    requirements: list[RequirementBlock]

    @property
    def criteria(self) -> list[CriterionRow]:
        return [row for outcome in self.outcomes for row in outcome.rows]

    @property
    def total(self) -> int:
        return len(self.criteria)

    @property
    def met(self) -> int:
        return sum(1 for row in self.criteria if row.state is State.MET)

    @property
    def gaps(self) -> list[CriterionRow]:
        """Criteria without a met decision."""
        return [row for row in self.criteria if row.state is not State.MET]

    @property
    def items(self) -> list[ItemRow]:
        return [item for requirement in self.requirements for item in requirement.items]

    @property
    def items_covered(self) -> int:
        return sum(1 for item in self.items if item.covered_by)

    @property
    def state_counts(self) -> list[tuple[State, int]]:
        return [(s, sum(1 for row in self.criteria if row.state is s)) for s in State]

    @property
    def matrix_chunks(self) -> list[MatrixChunk]:
        chunks = []
        for start in range(0, len(self.columns), MATRIX_COLUMNS):
            end = start + MATRIX_COLUMNS
            chunks.append(
                MatrixChunk(
                    columns=self.columns[start:end],
                    outcomes=[(o, [(row, row.cells[start:end]) for row in o.rows]) for o in self.outcomes],
                )
            )
        return chunks


@dataclass(frozen=True)
class DecisionEntry:
    outcome: str
    outcome_label: str
    feedback: str
    decided_by: str
    decided_at: datetime.datetime
    reauthenticated: bool
    version_number: int | None
    files_sha256: str


@dataclass(frozen=True)
class ClaimEntry:
    unit_title: str
    number: str
    text: str
    account: str
    added_by: str | None  # an assessor who added a criterion the learner missed
    decisions: list[DecisionEntry]  # oldest first
    state: State | None


@dataclass(frozen=True)
class DeclarationEntry:
    statement: str
    learner: str
    declared_at: datetime.datetime
    files_sha256: str


@dataclass
class VersionEntry:
    number: int
    status: str
    status_label: str
    is_current: bool
    title: str
    description: str
    method: str
    activity_date: datetime.date
    activity_end_date: datetime.date | None
    location: str
    created_at: datetime.datetime
    submitted_at: datetime.datetime | None
    declaration: DeclarationEntry | None
    files: list[FileEntry] = field(default_factory=list)
    coverage: list[str] = field(default_factory=list)
    claims: list[ClaimEntry] = field(default_factory=list)


@dataclass(frozen=True)
class AssessorRecordEntry:
    kind: str
    witness_name: str
    witness_role: str
    witness_relationship: str
    witness_is_expert: bool
    statement: str


@dataclass
class EvidenceEntry:
    ref: EvidenceRef
    uuid: uuid.UUID
    created_by: str
    created_at: datetime.datetime
    record: AssessorRecordEntry | None
    versions: list[VersionEntry]  # oldest first

    @property
    def title(self) -> str:
        return self.ref.title

    @property
    def current(self) -> VersionEntry:
        return next((v for v in self.versions if v.is_current), self.versions[-1])

    @property
    def images(self) -> list[FileEntry]:
        """Image files of any version, once each, in the order they were attached."""
        seen: dict[uuid.UUID, FileEntry] = {}
        for version in self.versions:
            for entry in version.files:
                if entry.is_image:
                    seen.setdefault(entry.uuid, entry)
        return list(seen.values())


@dataclass(frozen=True)
class ReviewEntry:
    stage: str
    outcome: str
    outcome_label: str
    comments: str
    actions: str
    action_due: datetime.date | None
    reviewer: str
    reviewed_at: datetime.datetime
    reauthenticated: bool


@dataclass(frozen=True)
class SampleEntry:
    unit_title: str
    plan_title: str
    plan_stage: str
    assessor: str
    added_by: str
    added_at: datetime.datetime
    reviews: list[ReviewEntry]


@dataclass
class PortfolioReport:
    enrolment_uuid: uuid.UUID
    learner_name: str
    learner_username: str
    centre_name: str
    centre_number: str
    qualification_title: str
    awarding_body: str
    qualification_level: int
    assessor: str
    iqa: str
    start_date: datetime.date
    planned_end_date: datetime.date
    status_label: str
    units: list[UnitReport]
    evidence: list[EvidenceEntry]
    samples: list[SampleEntry]
    files: list[FileEntry]
