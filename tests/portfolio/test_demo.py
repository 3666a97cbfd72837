import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from accounts.models import AccessGrant, User
from accounts.policy import Action, allows
from assessments.models import Countersignature, Decision, SignOff
from portfolio.demo import DEMO_PASSWORD, DEMO_PEOPLE
from portfolio.models import AuditEvent, Enrolment, Evidence
from units.models import Unit


def test_demo_data_needs_the_specifications_first(db):
    with pytest.raises(CommandError, match="run load_specifications first"):
        call_command("seed_demo")


def test_demo_people_log_in_with_the_documented_password(specifications):
    call_command("seed_demo")
    for person in DEMO_PEOPLE:
        user = authenticate(username=person.username, password=DEMO_PASSWORD)
        assert user is not None, person.username
        assert user.role == person.role


def test_demo_learner_is_enrolled_on_both_units_with_assessor_and_iqa(specifications):
    call_command("seed_demo")
    enrolment = Enrolment.objects.get(learner__username="learner")
    assert set(enrolment.units.all()) == set(Unit.objects.all())
    assert enrolment.units.count() == 2
    assert enrolment.assessor.username == "assessor"
    assert enrolment.iqa.username == "iqa"
    assert enrolment.centre == enrolment.learner.centre


def test_demo_data_is_idempotent_and_keeps_changes(specifications, capsys):
    call_command("seed_demo")
    learner = User.objects.get(username="learner")
    learner.first_name = "Renamed"
    learner.save()

    call_command("seed_demo")

    assert "nothing changed" in capsys.readouterr().out
    assert User.objects.count() == len(DEMO_PEOPLE)
    assert Enrolment.objects.count() == 1
    assert User.objects.get(username="learner").first_name == "Renamed"


def test_demo_portfolio_has_judged_evidence_a_signed_off_unit_and_eqa_access(specifications):
    call_command("seed_demo")
    enrolment = Enrolment.objects.get(learner__username="learner")
    assert Evidence.objects.filter(enrolment=enrolment, current_version__status="submitted").count() >= 2
    assert Decision.objects.filter(outcome="not_yet_met").exclude(feedback="").exists()
    sign_off = SignOff.objects.get(enrolment=enrolment)
    assert Countersignature.objects.filter(sign_off=sign_off).exists()
    eqa = User.objects.get(username="eqa")
    assert AccessGrant.objects.filter(eqa=eqa, whole_centre=True).exists()
    assert allows(eqa, Action.VIEW_PORTFOLIO, enrolment)
    assert AuditEvent.objects.filter(enrolment=enrolment, action=AuditEvent.Action.UNIT_SIGNED_OFF).exists()

    call_command("seed_demo")
    assert SignOff.objects.count() == 1
    assert AccessGrant.objects.count() == 1
