"""Benchmark datasets: centres of learners with a year of evidence, decisions, sign-offs and IQA samples.

`build(scale)` writes straight to the configured database in bulk, a centre per transaction (COPY
on PostgreSQL, executemany INSERTs on SQLite: no save(), no signals, values prepared by each
field as the ORM would), and returns a `Dataset` naming the people and objects the page
benchmarks open. Rows get their ids here, so rows that point at each other are written in one
pass. Every model constraint holds, and the shapes are those the services make: one current
version per evidence item, a linear decision chain per claim, a declaration per submitted
version, an audit event per state change, a notice per submission and judgement. Statistics are
refreshed afterwards (VACUUM ANALYZE), as autovacuum would have done on a live database.

Per learner the shape is the same at every scale: what grows with the scale is the number of
centres and learners, so the tables get bigger while a person's own work stays realistic. An
assessor carries about 25 learners and an IQA about 50, at any scale:

    tiny   1 centre,    3 learners,  4 evidence items each (the smoke test)
    small  1 centre,   50 learners, 40 evidence items each
    large 20 centres, 2,000 learners, 40 evidence items each (80,000 items, 264,000 claims, 1.6M rows)

Each learner's evidence, oldest first: most is submitted and judged (about one item in ten went
through a second version after a "not yet met"; one claim in eight has a chain of two decisions),
the newest few are waiting for a decision, and the newest of all is a draft. One learner in five
has the second unit signed off, half of those countersigned.
"""

import datetime
import hashlib
import math
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessGrant, Centre, User
from assessments.models import (
    Countersignature,
    Decision,
    Notice,
    SampleItem,
    SampleReview,
    SamplingPlan,
    SamplingTarget,
    SignOff,
    Stage,
)
from portfolio.models import (
    Assignment,
    AuditEvent,
    Claim,
    Declaration,
    EnrolledUnit,
    Enrolment,
    Evidence,
    EvidenceVersion,
    Method,
    RequirementCoverage,
    StoredFile,
    VersionFile,
)
from portfolio.services.evidence import DECLARATION_STATEMENT
from units.models import AssessmentCriterion, EvidenceRequirementItem, Qualification, Unit
from units.services import specification_files, specifications_load

PASSWORD = "bench-portfolio"
BATCH = 2000
LEARNERS_PER_ASSESSOR = 25
# The learner whose pages are timed: the same one at every scale (the same offsets into the criteria
# and methods), so a page shows the same things whatever the size of the database around it.
TYPICAL_LEARNER = 2
ASSESSORS_PER_IQA = 2
# Methods the real units accept for every criterion (simulation is refused for competence outcomes).
METHODS = [
    Method.WORK_PRODUCT,
    Method.OBSERVATION,
    Method.WITNESS_TESTIMONY,
    Method.PROFESSIONAL_DISCUSSION,
    Method.REFLECTIVE_ACCOUNT,
    Method.QUESTION_AND_ANSWER,
]
FIRST = ["Amira", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Harry", "Isla", "Jack", "Kofi", "Lily", "Mo"]
LAST = ["Khan", "Smith", "Jones", "Patel", "Taylor", "Brown", "Wilson", "Evans", "Okafor", "Walker", "Wright", "Hall"]
TITLES = [
    "Team briefing notes",
    "Rota for the winter peak",
    "Complaint log review",
    "Customer survey summary",
    "Service standards poster",
    "Induction checklist",
    "Call quality audit",
    "Budget forecast for the quarter",
    "Process map of the returns desk",
    "Minutes of the service review meeting",
]


@dataclass(frozen=True)
class Scale:
    centres: int
    learners_per_centre: int
    items_per_learner: int


SCALES: dict[str, Scale] = {
    "tiny": Scale(centres=1, learners_per_centre=3, items_per_learner=4),
    "small": Scale(centres=1, learners_per_centre=50, items_per_learner=40),
    "large": Scale(centres=20, learners_per_centre=100, items_per_learner=40),
}


@dataclass
class Dataset:
    """What was built, how long it took, and who and what the page benchmarks open (public ids)."""

    scale: str
    tag: str
    shape: dict[str, int]
    counts: dict[str, int]
    build_seconds: float
    # People, by username (all with the password PASSWORD).
    learner: str
    assessor: str
    iqa: str
    centre_admin: str
    eqa: str
    # Objects, by public id.
    enrolment: str  # the learner's portfolio
    unit: str  # a unit on it with evidence requirements (the tracking grid and the unit page)
    evidence: str  # a judged item of the learner's
    awaiting_evidence: str  # the learner's oldest item waiting for the assessor
    sampling_plan: str  # the IQA's interim plan
    caseload: int  # learners the assessor assesses
    iqa_learners: int  # learners the IQA quality-assures
    vendor: str = ""  # database vendor
    build_phases: dict[str, float] = field(default_factory=dict)  # seconds: specifications, rows, analyze

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> "Dataset":
        return cls(**data)  # type: ignore[arg-type]


class _Ids:
    """Primary keys handed out here, after whatever the table already holds."""

    def __init__(self) -> None:
        self._next: dict[type[models.Model], int] = {}

    def __call__(self, model: type[models.Model]) -> int:
        if model not in self._next:
            self._next[model] = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
        value = self._next[model]
        self._next[model] = value + 1
        return value

    @property
    def models(self) -> list[type[models.Model]]:
        return list(self._next)


def _hex(*parts: object) -> str:
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


def _url(name: str, *args: object) -> str:
    return reverse(name, args=args)


class _Rows:
    """Rows waiting to be written, by model, in the order their tables must be written."""

    ORDER = [
        Centre,
        User,
        AccessGrant,
        AccessGrant.learners.through,
        Enrolment,
        EnrolledUnit,
        Assignment,
        StoredFile,
        Evidence,
        EvidenceVersion,
        VersionFile,
        Claim,
        RequirementCoverage,
        Declaration,
        Decision,
        SignOff,
        Countersignature,
        SamplingPlan,
        SamplingTarget,
        SampleItem,
        SampleReview,
        Notice,
        AuditEvent,
    ]

    def __init__(self, ids: "_Ids") -> None:
        self.ids = ids
        self.rows: dict[type[models.Model], list[models.Model | dict]] = defaultdict(list)
        self.written: Counter[str] = Counter()

    def add(self, obj: models.Model) -> models.Model:
        """A row as a model instance (for the few that the builder reads back: people, portfolios)."""
        self.rows[type(obj)].append(obj)
        return obj

    def row(self, model: type[models.Model], **values: object) -> dict:
        """A row as a dict of attribute names (a fraction of a model instance's cost); it gets its id."""
        values["id"] = self.ids(model)
        self.rows[model].append(values)
        return values

    def flush(self) -> None:
        for model in self.ORDER:
            objs = self.rows.pop(model, [])
            if objs:
                _insert(model, objs)
                self.written[model._meta.label] += len(objs)
        assert not self.rows, f"no write order for {list(self.rows)}"


# Field types whose Python value is already what the database driver takes (the rest are converted).
_AS_IS = (
    models.AutoField,
    models.ForeignKey,
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
)


def _insert(model: type[models.Model], objs: list[models.Model]) -> None:
    """Write the rows: COPY on PostgreSQL, executemany INSERTs elsewhere (bulk_create's work, minus its
    per-row SQL compiling).

    The values go through each field's own get_db_prep_save (UUIDs, dates and JSON per vendor),
    except for the types that need no conversion. Rows already carry their ids.
    """
    fields = list(model._meta.concrete_fields)
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the proxy: this runs per value
    if db.vendor == "postgresql":  # psycopg adapts UUIDs, dates and times itself; JSON needs wrapping
        convert = [f if isinstance(f, models.JSONField) else None for f in fields]
    else:
        convert = [None if isinstance(f, _AS_IS) else f for f in fields]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    attnames = [f.attname for f in fields]
    # What a model instance would have had for the attributes a dict row leaves out.
    defaults = {f.attname: f.get_default() for f in fields if not (f.has_default() and callable(f.default))}
    if isinstance(objs[0], dict) and (unknown := set(objs[0]) - set(attnames)):
        raise ValueError(f"{model._meta.label} has no attribute(s) {sorted(unknown)}")
    rows = []
    for obj in objs:
        values = obj.__dict__ if isinstance(obj, models.Model) else {**defaults, **obj}
        rows.append(
            [
                values[name] if field is None else field.get_db_prep_save(values[name], db)
                for name, field in zip(attnames, convert, strict=True)
            ]
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: one stream per table, an order of magnitude faster than INSERTs for a big load.
            columns = ", ".join(quote(f.column) for f in fields)
            with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            for start in range(0, len(rows), BATCH):
                cursor.executemany(sql, rows[start : start + BATCH])


@dataclass
class _Centre:
    centre: Centre
    admin: User
    assessors: list[User] = field(default_factory=list)
    iqas: list[User] = field(default_factory=list)


class _Builder:
    def __init__(self, scale: Scale, tag: str) -> None:
        self.scale = scale
        self.tag = tag
        self.ids = _Ids()
        self.rows = _Rows(self.ids)
        self.now = timezone.now().replace(microsecond=0)
        self.today = timezone.localdate()
        self.password = make_password(PASSWORD)  # hashed once, shared by every bench user
        self.qualification = Qualification.objects.get()
        self.units = list(Unit.objects.order_by("title", "version"))
        self.criteria = list(
            AssessmentCriterion.objects.filter(outcome__unit__in=self.units)
            .select_related("outcome__unit")
            .order_by("outcome__unit__title", "outcome__number", "ordinal")
        )
        items = EvidenceRequirementItem.objects.filter(requirement__unit__in=self.units).order_by(
            "requirement__number", "letter"
        )
        self.items_by_unit: dict[int, list[int]] = defaultdict(list)
        for item_id, unit_id in items.values_list("pk", "requirement__unit_id"):
            self.items_by_unit[unit_id].append(item_id)
        # The unit the benchmarks open: one with evidence requirements, so the grid shows both halves.
        self.grid_unit = next((u for u in self.units if self.items_by_unit[u.pk]), self.units[0])
        # The unit signed off for some learners: the other one.
        self.signed_unit = next((u for u in self.units if u.pk != self.grid_unit.pk), self.units[-1])
        self.person_count = 0
        self.chosen: dict[str, object] = {}
        # Notice links, as reverse() gives them, without reversing for every row.
        self.assess_url = reverse("assessments:assess", args=[uuid.UUID(int=0)]).replace(str(uuid.UUID(int=0)), "{}")
        self.evidence_url = reverse("portfolio:evidence", args=[uuid.UUID(int=0)]).replace(str(uuid.UUID(int=0)), "{}")
        self.eqa: User | None = None
        self.signed: list[SignOff] = []  # this centre's sign-offs, for its summative samples

    # --- people ------------------------------------------------------------------------------------

    def person(self, role: str, centre: Centre | None, label: str) -> User:
        n = self.person_count
        self.person_count += 1
        user = User(
            id=self.ids(User),
            username=f"{self.tag}-{label}",
            first_name=FIRST[n % len(FIRST)],
            last_name=f"{LAST[(n // len(FIRST)) % len(LAST)]}-{n}",
            email=f"{self.tag}-{label}@example.org",
            password=self.password,
            role=role,
            centre=centre,
            date_joined=self.now - datetime.timedelta(days=400),
        )
        self.rows.add(user)
        return user

    def audit(
        self,
        at: datetime.datetime,
        actor: User | None,
        action: str,
        obj_type: str,
        obj_uuid: uuid.UUID | None,
        summary: str,
        *,
        enrolment: Enrolment | None = None,
        centre: Centre | None = None,
        detail: dict | None = None,
    ) -> None:
        self.rows.row(
            AuditEvent,
            uuid=uuid.uuid4(),
            at=at,
            actor_id=actor.pk if actor else None,
            action=action,
            enrolment_id=enrolment.pk if enrolment else None,
            centre_id=centre.pk if centre else enrolment.centre_id if enrolment else None,
            object_type=obj_type,
            object_uuid=obj_uuid,
            summary=summary[:300],
            detail=detail or {},
            ip_address="10.0.0.1" if actor else None,
        )

    def notice(self, recipient: User, kind: str, text: str, url: str, at: datetime.datetime, read: bool) -> None:
        self.rows.row(
            Notice,
            uuid=uuid.uuid4(),
            recipient_id=recipient.pk,
            kind=kind,
            text=text[:300],
            url=url,
            created_at=at,
            read_at=at + datetime.timedelta(hours=5) if read else None,
            emailed_at=at + datetime.timedelta(minutes=1),
        )

    # --- a centre ----------------------------------------------------------------------------------

    def centre(self, c: int) -> None:
        scale = self.scale
        centre = Centre(
            id=self.ids(Centre),
            uuid=uuid.uuid4(),
            name=f"Bench centre {self.tag} {c + 1}",
            centre_number=f"9{c:04d}",
            created_at=self.now - datetime.timedelta(days=800),
        )
        self.rows.add(centre)
        here = _Centre(centre, self.person(User.Role.CENTRE_ADMIN, centre, f"c{c}-admin"))
        n_assessors = math.ceil(scale.learners_per_centre / LEARNERS_PER_ASSESSOR)
        here.assessors = [self.person(User.Role.ASSESSOR, centre, f"c{c}-assessor{a}") for a in range(n_assessors)]
        here.iqas = [
            self.person(User.Role.IQA, centre, f"c{c}-iqa{q}")
            for q in range(math.ceil(n_assessors / ASSESSORS_PER_IQA))
        ]
        learners = [
            self.person(User.Role.LEARNER, centre, f"c{c}-learner{n}") for n in range(scale.learners_per_centre)
        ]
        enrolments: list[Enrolment] = []
        for n, learner in enumerate(learners):
            assessor = here.assessors[n % n_assessors]
            iqa = here.iqas[(n % n_assessors) // ASSESSORS_PER_IQA]
            enrolments.append(self.portfolio(here, n, learner, assessor, iqa))
        if c == 0:
            self.grants(here, learners)
        self.sampling(here, enrolments)

    def portfolio(self, here: _Centre, n: int, learner: User, assessor: User, iqa: User) -> Enrolment:
        centre = here.centre
        start = self.today - datetime.timedelta(days=330 + n % 30)
        enrolment = Enrolment(
            id=self.ids(Enrolment),
            uuid=uuid.uuid4(),
            learner=learner,
            centre=centre,
            qualification=self.qualification,
            assessor=assessor,
            iqa=iqa,
            start_date=start,
            planned_end_date=start + datetime.timedelta(days=540),
            status=Enrolment.Status.ACTIVE,
            created_at=self.now - datetime.timedelta(days=330 + n % 30, hours=2),
        )
        self.rows.add(enrolment)
        enrolled_at = enrolment.created_at
        for unit in self.units:
            self.rows.row(EnrolledUnit, enrolment_id=enrolment.pk, unit_id=unit.pk)
        for role, person in ((Assignment.Role.ASSESSOR, assessor), (Assignment.Role.IQA, iqa)):
            self.rows.row(
                Assignment,
                enrolment_id=enrolment.pk,
                role=role,
                person_id=person.pk,
                assigned_by_id=here.admin.pk,
                started_at=enrolled_at,
                reason="Assigned at enrolment.",
            )
        self.audit(
            enrolled_at,
            here.admin,
            AuditEvent.Action.ENROLLED,
            "enrolment",
            enrolment.uuid,
            f"{here.admin.get_full_name()} enrolled {learner.get_full_name()} on {self.qualification.title}",
            enrolment=enrolment,
        )
        met_decisions = self.evidence(enrolment, n, learner, assessor)
        if n % 5 == 0:
            self.sign_off(enrolment, n, learner, assessor, met_decisions)
        return enrolment

    # --- evidence ----------------------------------------------------------------------------------

    def evidence(self, enrolment: Enrolment, n: int, learner: User, assessor: User) -> dict[int, uuid.UUID]:
        """The learner's evidence, oldest first; the latest met decision (its public id) per criterion id."""
        count = self.scale.items_per_learner
        awaiting_count = max(1, count // 10)
        step = datetime.timedelta(days=300 / count)
        met: dict[int, uuid.UUID] = {}
        learner_name, assessor_name = learner.get_full_name(), assessor.get_full_name()
        for i in range(count):
            if i == count - 1:
                kind = "draft"
            elif i >= count - 1 - awaiting_count:
                kind = "awaiting"
            elif i % 10 == 1:
                kind = "two_versions"
            else:
                kind = "judged"
            created = self.now - step * (count - i) + datetime.timedelta(minutes=n)
            title = f"{TITLES[(n + i) % len(TITLES)]} ({i + 1})"
            method = METHODS[(n + i) % len(METHODS)]
            criteria = [self.criteria[(n * 7 + 3 * i + k) % len(self.criteria)] for k in range(3)]
            evidence = self.rows.row(
                Evidence, uuid=uuid.uuid4(), enrolment_id=enrolment.pk, created_by_id=learner.pk, created_at=created
            )
            stored = self.rows.row(
                StoredFile,
                uuid=uuid.uuid4(),
                enrolment_id=enrolment.pk,
                storage_name=f"evidence/bench/{self.tag}/{uuid.uuid4()}",
                original_name=f"{title.split(' (')[0].lower().replace(' ', '-')}.pdf",
                content_type="application/pdf",
                size=40_000 + 977 * ((n + i) % 50),
                sha256=_hex(self.tag, enrolment.pk, i),
                uploaded_by_id=learner.pk,
                uploaded_at=created + datetime.timedelta(hours=2),
            )
            self.audit(
                created,
                learner,
                AuditEvent.Action.EVIDENCE_CREATED,
                "evidence",
                evidence["uuid"],
                f"{learner_name} created the evidence “{title}”",
                enrolment=enrolment,
            )
            self.audit(
                created + datetime.timedelta(hours=2),
                learner,
                AuditEvent.Action.FILE_ATTACHED,
                "storedfile",
                stored["uuid"],
                f"{learner_name} attached “{stored['original_name']}” to “{title}” (version 1)",
                enrolment=enrolment,
            )
            versions = 2 if kind == "two_versions" else 1
            for number in range(1, versions + 1):
                offset = datetime.timedelta(days=4 * (number - 1))
                last = number == versions
                if kind == "draft":
                    status = EvidenceVersion.Status.DRAFT
                elif last:
                    status = EvidenceVersion.Status.SUBMITTED
                else:
                    status = EvidenceVersion.Status.SUPERSEDED
                submitted_at = None if kind == "draft" else created + offset + datetime.timedelta(days=1)
                version = self.rows.row(
                    EvidenceVersion,
                    uuid=uuid.uuid4(),
                    evidence_id=evidence["id"],
                    number=number,
                    status=status,
                    title=title,
                    description=f"{title}: what I did at work and how it shows the criteria I mapped it to.",
                    method=method,
                    activity_date=(created - datetime.timedelta(days=2)).date(),
                    location="Riverside customer contact centre",
                    created_at=created + offset,
                    submitted_at=submitted_at,
                )
                if last:
                    evidence["current_version_id"] = version["id"]
                self.rows.row(VersionFile, version_id=version["id"], file_id=stored["id"], position=0)
                claims = [
                    self.rows.row(
                        Claim,
                        uuid=uuid.uuid4(),
                        version_id=version["id"],
                        criterion_id=criterion.pk,
                        account=f"This shows {criterion.number}: I did it at work, as the attached document records.",
                    )
                    for criterion in criteria
                ]
                numbers = {criterion.pk: criterion.number for criterion in criteria}
                grid_items = self.items_by_unit[criteria[0].outcome.unit_id]
                if grid_items:
                    item_id = grid_items[(n + i) % len(grid_items)]
                    self.rows.row(RequirementCoverage, version_id=version["id"], item_id=item_id)
                self.audit(
                    created + offset + datetime.timedelta(hours=3),
                    learner,
                    AuditEvent.Action.MAPPING_CHANGED,
                    "evidenceversion",
                    version["uuid"],
                    f"{learner_name} mapped “{title}” (version {number}) to " + ", ".join(c.number for c in criteria),
                    enrolment=enrolment,
                )
                if submitted_at is None:
                    continue
                files_sha256 = _hex("files", stored["sha256"])
                self.rows.row(
                    Declaration,
                    version_id=version["id"],
                    learner_id=learner.pk,
                    statement=DECLARATION_STATEMENT,
                    files_sha256=files_sha256,
                    declared_at=submitted_at,
                )
                self.audit(
                    submitted_at,
                    learner,
                    AuditEvent.Action.EVIDENCE_SUBMITTED,
                    "evidenceversion",
                    version["uuid"],
                    f"{learner_name} submitted “{title}” version {number}",
                    enrolment=enrolment,
                    detail={"version": number, "files_sha256": files_sha256},
                )
                self.notice(
                    assessor,
                    Notice.Kind.SUBMITTED,
                    f"{learner_name} submitted “{title}” (version {number}) for assessment.",
                    self.assess_url.format(evidence["uuid"]),
                    submitted_at,
                    read=kind != "awaiting",
                )
                if kind == "awaiting":
                    # Every other waiting item has had one of its claims judged already.
                    judged = claims[:1] if i % 2 == 0 else []
                    outcomes = [Decision.Outcome.MET]
                elif last:
                    judged = claims
                    outcomes = [Decision.Outcome.MET]
                else:
                    judged = claims
                    outcomes = [Decision.Outcome.NOT_YET_MET]
                decided_at = submitted_at + datetime.timedelta(days=2)
                for claim in judged:
                    chain = outcomes
                    if last and kind == "judged" and claim["id"] % 8 == 0:
                        chain = [Decision.Outcome.NOT_YET_MET, Decision.Outcome.MET]
                    elif last and kind == "judged" and claim["id"] % 9 == 0:
                        chain = [Decision.Outcome.NOT_YET_MET]
                    previous = None
                    for step_no, outcome in enumerate(chain):
                        previous = self.rows.row(
                            Decision,
                            uuid=uuid.uuid4(),
                            claim_id=claim["id"],
                            outcome=outcome,
                            feedback="" if outcome == Decision.Outcome.MET else "Say more about what you did.",
                            decided_by_id=assessor.pk,
                            decided_at=decided_at + datetime.timedelta(hours=step_no),
                            supersedes_id=previous["id"] if previous else None,
                            version_number=number,
                            files_sha256=files_sha256,
                            reauthenticated=True,
                        )
                    if previous is not None and previous["outcome"] == Decision.Outcome.MET:
                        met[claim["criterion_id"]] = previous["uuid"]
                if judged:
                    self.audit(
                        decided_at,
                        assessor,
                        AuditEvent.Action.DECISION_RECORDED,
                        "evidenceversion",
                        version["uuid"],
                        f"{assessor_name} judged “{title}” (version {number}): "
                        + ", ".join(numbers[c["criterion_id"]] for c in judged),
                        enrolment=enrolment,
                    )
                    self.notice(
                        learner,
                        Notice.Kind.JUDGED,
                        f"{assessor_name} judged “{title}” (version {number}).",
                        self.evidence_url.format(evidence["uuid"]),
                        decided_at,
                        read=i < count - 6,
                    )
                if not last:
                    self.audit(
                        submitted_at + datetime.timedelta(days=3),
                        learner,
                        AuditEvent.Action.EVIDENCE_VERSIONED,
                        "evidenceversion",
                        version["uuid"],
                        f"{learner_name} started version {number + 1} of “{title}”",
                        enrolment=enrolment,
                    )
            if kind != "judged" or i <= count // 2:  # the oldest waiting item; a judged one from mid-year
                self.chosen.setdefault(f"{enrolment.pk}:{kind}", evidence["uuid"])
                if kind == "judged":
                    self.chosen[f"{enrolment.pk}:{kind}"] = evidence["uuid"]
        return met

    def sign_off(self, enrolment: Enrolment, n: int, learner: User, assessor: User, met: dict[int, uuid.UUID]) -> None:
        unit = self.signed_unit
        signed_at = self.now - datetime.timedelta(days=20 - n % 10)
        snapshot: dict[str, object] = {
            c.number: str(met[c.pk]) for c in self.criteria if c.outcome.unit_id == unit.pk and c.pk in met
        }
        snapshot["items"] = []
        sign_off = SignOff(
            id=self.ids(SignOff),
            uuid=uuid.uuid4(),
            enrolment=enrolment,
            unit=unit,
            assessor=assessor,
            signed_at=signed_at,
            reauthenticated=True,
            snapshot=snapshot,
        )
        self.rows.add(sign_off)
        self.signed.append(sign_off)
        self.audit(
            signed_at,
            assessor,
            AuditEvent.Action.UNIT_SIGNED_OFF,
            "signoff",
            sign_off.uuid,
            f"{assessor.get_full_name()} signed off “{unit.title}” for {learner.get_full_name()}",
            enrolment=enrolment,
        )
        if n % 10 == 0:
            at = signed_at + datetime.timedelta(days=1)
            self.rows.add(
                Countersignature(
                    id=self.ids(Countersignature),
                    sign_off=sign_off,
                    learner=learner,
                    signed_at=at,
                    reauthenticated=True,
                )
            )
            self.audit(
                at,
                learner,
                AuditEvent.Action.UNIT_COUNTERSIGNED,
                "signoff",
                sign_off.uuid,
                f"{learner.get_full_name()} countersigned the sign-off of “{unit.title}”",
                enrolment=enrolment,
            )

    # --- EQA access and IQA sampling ---------------------------------------------------------------

    def grants(self, here: _Centre, learners: list[User]) -> None:
        """An EQA with access to the whole of the first centre, and an expired grant before it."""
        eqa = self.person(User.Role.EQA, None, "eqa")
        self.eqa = eqa
        for granted_days_ago, expires_in, whole in ((120, -90, False), (10, 20, True)):
            grant = AccessGrant(
                id=self.ids(AccessGrant),
                uuid=uuid.uuid4(),
                centre=here.centre,
                eqa=eqa,
                whole_centre=whole,
                reason="EQA visit",
                granted_by=here.admin,
                granted_at=self.now - datetime.timedelta(days=granted_days_ago),
                expires_at=self.now + datetime.timedelta(days=expires_in),
            )
            self.rows.add(grant)
            if not whole:
                for learner in learners[:5]:
                    self.rows.add(
                        AccessGrant.learners.through(
                            id=self.ids(AccessGrant.learners.through), accessgrant=grant, user=learner
                        )
                    )
            self.audit(
                grant.granted_at,
                here.admin,
                AuditEvent.Action.ACCESS_GRANTED,
                "accessgrant",
                grant.uuid,
                f"{here.admin.get_full_name()} gave {eqa.get_full_name()} read-only access",
                centre=here.centre,
            )

    def sampling(self, here: _Centre, enrolments: list[Enrolment]) -> None:
        """Per IQA: an interim plan sampling one learner in five, two thirds reviewed; a summative plan."""
        signed = {s.enrolment_id: s for s in self.signed}
        for iqa in here.iqas:
            mine = [e for e in enrolments if e.iqa_id == iqa.pk]
            created = self.now - datetime.timedelta(days=60)
            for stage in (Stage.INTERIM, Stage.SUMMATIVE):
                plan = SamplingPlan(
                    id=self.ids(SamplingPlan),
                    uuid=uuid.uuid4(),
                    centre=here.centre,
                    iqa=iqa,
                    title=f"{Stage(stage).label.split(' (')[0]} sample, this year",
                    stage=stage,
                    default_rate=20,
                    created_at=created,
                )
                self.rows.add(plan)
                assessors = sorted({e.assessor_id for e in mine})
                for a in assessors:
                    self.rows.add(SamplingTarget(id=self.ids(SamplingTarget), plan=plan, assessor_id=a, rate=25))
                self.audit(
                    created,
                    iqa,
                    AuditEvent.Action.SAMPLING_PLAN_CREATED,
                    "samplingplan",
                    plan.uuid,
                    f"Sampling plan “{plan.title}” created",
                    centre=here.centre,
                )
                if stage == Stage.INTERIM:
                    self.chosen.setdefault(f"plan:{iqa.pk}", plan.uuid)
                    picked = [(e, self.grid_unit, None) for j, e in enumerate(mine) if j % 5 == 0]
                else:
                    picked = [(e, self.signed_unit, signed[e.pk]) for e in mine if e.pk in signed][::2]
                for j, (enrolment, unit, sign_off) in enumerate(picked):
                    added = created + datetime.timedelta(days=1, minutes=j)
                    item = SampleItem(
                        id=self.ids(SampleItem),
                        uuid=uuid.uuid4(),
                        plan=plan,
                        enrolment=enrolment,
                        unit=unit,
                        assessor_id=enrolment.assessor_id,
                        added_by=iqa,
                        added_at=added,
                    )
                    self.rows.add(item)
                    self.audit(
                        added,
                        iqa,
                        AuditEvent.Action.SAMPLE_ADDED,
                        "sampleitem",
                        item.uuid,
                        f"“{unit.title}” added to the sample “{plan.title}”",
                        enrolment=enrolment,
                    )
                    if j % 3 == 2:
                        continue
                    agree = j % 4 != 1
                    reviewed = added + datetime.timedelta(days=7)
                    review = SampleReview(
                        id=self.ids(SampleReview),
                        uuid=uuid.uuid4(),
                        item=item,
                        stage=stage,
                        outcome=SampleReview.Outcome.AGREE if agree else SampleReview.Outcome.DISAGREE,
                        comments="Decisions are consistent with the evidence and the standards.",
                        actions="" if agree else "Give the learner feedback against each criterion.",
                        action_due=None if agree else (reviewed + datetime.timedelta(days=14)).date(),
                        reviewed_by=iqa,
                        reviewed_at=reviewed,
                        reauthenticated=True,
                        sign_off=sign_off,
                        snapshot={"decisions": []},
                    )
                    self.rows.add(review)
                    self.audit(
                        reviewed,
                        iqa,
                        AuditEvent.Action.SAMPLE_REVIEWED,
                        "samplereview",
                        review.uuid,
                        f"IQA review signed on “{unit.title}” ({stage}): {review.get_outcome_display().lower()}",
                        enrolment=enrolment,
                    )
                    if not agree:
                        self.notice(
                            enrolment.assessor,
                            Notice.Kind.IQA_REVIEWED,
                            f"{iqa.get_full_name()} reviewed “{unit.title}”: actions for you.",
                            _url("assessments:sample_review", item.uuid),
                            reviewed,
                            read=False,
                        )

    # --- the whole build ---------------------------------------------------------------------------

    def build(self) -> Counter[str]:
        for c in range(self.scale.centres):
            with transaction.atomic():
                self.centre(c)
                self.rows.flush()
            self.signed = []
        return self.rows.written


def _reset_sequences(model_classes: list[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), model_classes)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _analyze() -> None:
    """Fresh statistics, as a live database would have (autovacuum has not caught up with a bulk load)."""
    if connection.in_atomic_block:
        return  # in a test's transaction; the planner's guesses do not matter for the tiny scale
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def build(scale: str, *, learners: int | None = None, tag: str | None = None) -> Dataset:
    """Write a dataset of `scale` ("tiny", "small", "large") into the current database.

    `learners` overrides the learners per centre (the smoke test builds two tiny ones); `tag`
    names the people and centres, so datasets can share a database. The specifications are loaded
    first, as `make run` loads them.
    """
    shape = SCALES[scale]
    if learners is not None:
        shape = Scale(shape.centres, learners, shape.items_per_learner)
    tag = tag or f"{scale}{learners or ''}"
    started = time.perf_counter()
    specifications_load(paths=specification_files(settings.BASE_DIR / "fixtures"))
    loaded = time.perf_counter()
    builder = _Builder(shape, tag)
    written = builder.build()
    _reset_sequences(builder.ids.models)
    inserted = time.perf_counter()
    _analyze()
    elapsed = time.perf_counter() - started
    phases = {
        "specifications": round(loaded - started, 2),
        "rows": round(inserted - loaded, 2),
        "analyze": round(elapsed - (inserted - started), 2),
    }

    learner = User.objects.get(username=f"{tag}-c0-learner{min(TYPICAL_LEARNER, shape.learners_per_centre - 1)}")
    enrolment = Enrolment.objects.select_related("assessor", "iqa").get(learner=learner)
    iqa = enrolment.iqa
    plan = SamplingPlan.objects.get(uuid=builder.chosen[f"plan:{iqa.pk}"])

    def chosen(kind: str) -> str:
        return str(builder.chosen[f"{enrolment.pk}:{kind}"])

    return Dataset(
        scale=scale,
        tag=tag,
        shape={
            "centres": shape.centres,
            "learners": shape.centres * shape.learners_per_centre,
            "evidence_per_learner": shape.items_per_learner,
            "learners_per_assessor": LEARNERS_PER_ASSESSOR,
            "assessors_per_iqa": ASSESSORS_PER_IQA,
        },
        counts=dict(sorted(written.items())),
        build_seconds=round(elapsed, 2),
        learner=learner.username,
        assessor=enrolment.assessor.username,
        iqa=iqa.username,
        centre_admin=f"{tag}-c0-admin",
        eqa=builder.eqa.username if builder.eqa else "",
        enrolment=str(enrolment.uuid),
        unit=str(builder.grid_unit.uuid),
        evidence=chosen("judged") if f"{enrolment.pk}:judged" in builder.chosen else chosen("two_versions"),
        awaiting_evidence=chosen("awaiting"),
        sampling_plan=str(plan.uuid),
        caseload=Enrolment.objects.filter(assessor=enrolment.assessor).count(),
        iqa_learners=Enrolment.objects.filter(iqa=iqa).count(),
        vendor=connection.vendor,
        build_phases=phases,
    )


def total_rows(counts: dict[str, int]) -> int:
    return sum(counts.values())
