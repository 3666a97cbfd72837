"""Demo data for `make run`: one centre, one person per role, the learner enrolled on both units."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from accounts.models import Centre, User
from portfolio.demo_portfolio import demo_portfolio_ensure
from portfolio.models import Enrolment
from portfolio.services.enrolments import enrolment_create
from units.models import Qualification, Unit

DEMO_PASSWORD = "demo-portfolio"
DEMO_CENTRE = "Riverside Training Centre"
DEMO_QUALIFICATION_KEY = "ocr-level-4-nvq-diploma-in-business-and-administration"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    role: User.Role
    at_centre: bool = True


DEMO_PEOPLE = (
    DemoPerson("learner", "Priya", "Shah", User.Role.LEARNER),
    DemoPerson("assessor", "Daniel", "Okafor", User.Role.ASSESSOR),
    DemoPerson("iqa", "Helen", "Marsh", User.Role.IQA),
    DemoPerson("eqa", "Martin", "Reed", User.Role.EQA, at_centre=False),
    DemoPerson("centreadmin", "Sarah", "Collins", User.Role.CENTRE_ADMIN),
)


class DemoDataError(Exception):
    pass


@transaction.atomic
def demo_data_ensure(*, with_portfolio: bool = True) -> list[str]:
    """Create whatever of the demo data is missing; never touch what already exists.

    `with_portfolio=False` stops at the people and the empty enrolment, for tests that build
    their own evidence.
    """
    created: list[str] = []
    centre, made = Centre.objects.get_or_create(name=DEMO_CENTRE, defaults={"centre_number": "60123"})
    if made:
        created.append(f"centre {centre}")
    people: dict[str, User] = {}
    for person in DEMO_PEOPLE:
        user = User.objects.filter(username=person.username).first()
        if user is None:
            user = User.objects.create_user(
                username=person.username,
                password=DEMO_PASSWORD,
                first_name=person.first_name,
                last_name=person.last_name,
                email=f"{person.username}@example.org",
                role=person.role,
                centre=centre if person.at_centre else None,
                # The centre admin corrects specifications in the admin site.
                is_staff=person.role == User.Role.CENTRE_ADMIN,
            )
            if person.role == User.Role.CENTRE_ADMIN:
                user.user_permissions.set(Permission.objects.filter(content_type__app_label="units"))
            created.append(f"user {user.username}")
        people[person.username] = user

    qualification = Qualification.objects.filter(key=DEMO_QUALIFICATION_KEY).first()
    if qualification is None:
        raise DemoDataError(f"qualification {DEMO_QUALIFICATION_KEY!r} is not loaded: run load_specifications first")
    learner = people["learner"]
    enrolment = Enrolment.objects.filter(learner=learner, qualification=qualification).first()
    if enrolment is None:
        start = timezone.localdate() - timedelta(days=60)
        enrolment = enrolment_create(
            learner=learner,
            qualification=qualification,
            units=list(Unit.objects.filter(rule_groups__qualification=qualification).order_by("title")),
            assessor=people["assessor"],
            iqa=people["iqa"],
            start_date=start,
            planned_end_date=start + timedelta(days=365),
            by=people["centreadmin"],
        )
        created.append(f"enrolment of {learner.username} on {qualification.title}")
    if with_portfolio:
        created += demo_portfolio_ensure(enrolment, people)
    return created
