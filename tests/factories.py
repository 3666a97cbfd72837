import datetime

import factory

from accounts.models import Centre, User
from portfolio.models import EnrolledUnit, Enrolment
from units.models import (
    AssessmentCriterion,
    GroupUnit,
    LearningOutcome,
    Qualification,
    RuleGroup,
    Unit,
    spec_uuid,
)


class CentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Centre

    name = factory.Sequence(lambda n: f"Centre {n}")
    centre_number = factory.Sequence(lambda n: f"{70000 + n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    role = User.Role.LEARNER
    centre = factory.LazyAttribute(lambda u: CentreFactory() if u.role != User.Role.EQA else None)
    password = factory.django.Password("correct-horse-battery")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    key = factory.Sequence(lambda n: f"unit-{n}")
    version = 1
    uuid = factory.LazyAttribute(lambda u: spec_uuid("unit", u.key, u.version))
    title = factory.Sequence(lambda n: f"Unit {n}")
    level = 4
    credit_value = 5
    guided_learning_hours = 20


class LearningOutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningOutcome

    unit = factory.SubFactory(UnitFactory)
    number = factory.Sequence(lambda n: n + 1)
    uuid = factory.LazyAttribute(lambda o: spec_uuid("outcome", o.unit.uuid, o.number))
    text = factory.Sequence(lambda n: f"do thing {n}")
    kind = LearningOutcome.Kind.COMPETENCE


class AssessmentCriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssessmentCriterion

    outcome = factory.SubFactory(LearningOutcomeFactory)
    ordinal = factory.Sequence(lambda n: n + 1)
    number = factory.LazyAttribute(lambda c: f"{c.outcome.number}.{c.ordinal}")
    uuid = factory.LazyAttribute(lambda c: spec_uuid("criterion", c.outcome.unit.uuid, c.number))
    text = factory.Sequence(lambda n: f"criterion text {n}")


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qualification

    key = factory.Sequence(lambda n: f"qualification-{n}")
    uuid = factory.LazyAttribute(lambda q: spec_uuid("qualification", q.key))
    title = factory.Sequence(lambda n: f"Qualification {n}")
    awarding_body = "OCR"
    level = 4


def qualification_with_units(*units: Unit) -> Qualification:
    qualification = QualificationFactory()
    group = RuleGroup.objects.create(
        qualification=qualification, position=0, name="Optional units", kind=RuleGroup.Kind.OPTIONAL
    )
    GroupUnit.objects.bulk_create(GroupUnit(group=group, unit=u, position=i) for i, u in enumerate(units))
    return qualification


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment
        skip_postgeneration_save = True

    learner = factory.SubFactory(UserFactory, role=User.Role.LEARNER)
    centre = factory.LazyAttribute(lambda e: e.learner.centre)
    qualification = factory.SubFactory(QualificationFactory)
    start_date = datetime.date(2026, 9, 1)
    planned_end_date = datetime.date(2027, 8, 31)

    @factory.post_generation
    def units(self, create: bool, extracted: list[Unit] | None, **kwargs: object) -> None:
        if create and extracted:
            EnrolledUnit.objects.bulk_create(EnrolledUnit(enrolment=self, unit=u) for u in extracted)
