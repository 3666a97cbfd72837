"""The admin site is the UI for now: rules, holds, releases and certification all go through the
services (validated and audited), and holds and releases cannot be edited or deleted."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from portfolio.models import AuditEvent, Enrolment, LegalHold, LegalHoldRelease, RetentionPolicy
from portfolio.services.retention import legal_hold_place, legal_hold_release
from tests.factories import UserFactory
from tests.helpers import enrol

Action = AuditEvent.Action


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def test_a_rule_is_added_through_the_service(admin_client, staff):
    response = admin_client.post(
        reverse("admin:portfolio_retentionpolicy_add"),
        {"awarding_body": "Pearson", "evidence_weeks_after_certification": 26, "records_years_after_completion": 5},
    )

    assert response.status_code == 302
    rule = RetentionPolicy.objects.get(awarding_body="Pearson")
    assert rule.updated_by == staff
    assert AuditEvent.objects.filter(action=Action.RETENTION_POLICY_CHANGED).count() == 1


def test_a_rule_keeping_evidence_longer_than_records_is_shown_as_an_error(admin_client):
    response = admin_client.post(
        reverse("admin:portfolio_retentionpolicy_add"),
        {"awarding_body": "Pearson", "evidence_weeks_after_certification": 60, "records_years_after_completion": 1},
    )

    assert response.status_code == 200
    assert "Evidence cannot be kept longer than the records" in response.content.decode()
    assert not RetentionPolicy.objects.filter(awarding_body="Pearson").exists()


def test_a_hold_is_placed_and_released_in_the_admin(admin_client, enrolment, staff):
    response = admin_client.post(
        reverse("admin:portfolio_legalhold_add"), {"enrolment": enrolment.pk, "reason": "Subject access dispute"}
    )
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.enrolment, hold.placed_by, hold.reason) == (enrolment, staff, "Subject access dispute")
    page = admin_client.get(reverse("admin:portfolio_legalhold_change", args=[hold.pk]))
    assert page.status_code == 200
    assert b"Active" in page.content
    assert admin_client.post(reverse("admin:portfolio_legalhold_delete", args=[hold.pk])).status_code == 403

    response = admin_client.post(
        reverse("admin:portfolio_legalholdrelease_add"), {"hold": hold.pk, "reason": "Dispute settled"}
    )
    assert response.status_code == 302
    assert LegalHoldRelease.objects.get().released_by == staff
    assert list(AuditEvent.objects.filter(enrolment=enrolment).values_list("action", flat=True).order_by("id"))[
        -2:
    ] == [
        Action.LEGAL_HOLD_PLACED,
        Action.LEGAL_HOLD_RELEASED,
    ]


def _enrolment_form(enrolment: Enrolment, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "learner": enrolment.learner_id,
        "centre": enrolment.centre_id,
        "qualification": enrolment.qualification_id,
        "assessor": enrolment.assessor_id or "",
        "iqa": enrolment.iqa_id or "",
        "start_date": enrolment.start_date.isoformat(),
        "planned_end_date": enrolment.planned_end_date.isoformat(),
        "status": enrolment.status,
        "certified_on": enrolment.certified_on.isoformat() if enrolment.certified_on else "",
    }
    units = list(enrolment.enrolled_units.all())
    data |= {
        "enrolled_units-TOTAL_FORMS": len(units),
        "enrolled_units-INITIAL_FORMS": len(units),
        "enrolled_units-MIN_NUM_FORMS": 0,
        "enrolled_units-MAX_NUM_FORMS": 1000,
    }
    for i, unit in enumerate(units):
        data |= {
            f"enrolled_units-{i}-id": unit.pk,
            f"enrolled_units-{i}-enrolment": enrolment.pk,
            f"enrolled_units-{i}-unit": unit.unit_id,
        }
    return data | changes


def test_certification_is_recorded_in_the_enrolment_admin_through_the_service(admin_client, enrolment):
    day = timezone.localdate() - datetime.timedelta(days=2)
    url = reverse("admin:portfolio_enrolment_change", args=[enrolment.pk])

    future = _enrolment_form(enrolment, certified_on=(timezone.localdate() + datetime.timedelta(days=5)).isoformat())
    response = admin_client.post(url, future)
    assert response.status_code == 200
    assert "The certification date is in the future." in response.content.decode()

    response = admin_client.post(url, _enrolment_form(enrolment, certified_on=day.isoformat()))

    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.certified_on) == (Enrolment.Status.COMPLETED, day)
    assert AuditEvent.objects.filter(action=Action.ENROLMENT_CERTIFIED, enrolment=enrolment).count() == 1

    response = admin_client.post(url, _enrolment_form(enrolment, status=Enrolment.Status.ACTIVE))
    assert response.status_code == 200
    assert "A certified enrolment stays completed." in response.content.decode()


@pytest.mark.parametrize(
    "name",
    [
        "portfolio_retentionpolicy_changelist",
        "portfolio_retentionpolicy_add",
        "portfolio_legalhold_changelist",
        "portfolio_legalhold_add",
        "portfolio_legalholdrelease_changelist",
        "portfolio_legalholdrelease_add",
        "portfolio_enrolment_changelist",
    ],
)
def test_the_retention_pages_open(admin_client, enrolment, centre_admin, name):
    hold = legal_hold_place(enrolment=enrolment, reason="Audit by the awarding body", by=centre_admin)
    legal_hold_release(hold=hold, reason="Audit closed", by=centre_admin)
    legal_hold_place(enrolment=enrolment, reason="Second matter", by=centre_admin)

    assert admin_client.get(reverse(f"admin:{name}")).status_code == 200


def test_a_staff_centre_admin_sees_only_their_own_centres_holds(client, enrolment, centre_admin, other_centre):
    """The hold lists are scoped by the policy (Action.MANAGE_RETENTION), as the services are."""
    theirs = enrol(UserFactory(role=User.Role.LEARNER, centre=other_centre))
    other_admin = UserFactory(role=User.Role.CENTRE_ADMIN, centre=other_centre)
    legal_hold_place(enrolment=enrolment, reason="Ours", by=centre_admin)
    legal_hold_place(enrolment=theirs, reason="Theirs", by=other_admin)
    User.objects.filter(pk=centre_admin.pk).update(is_staff=True, is_superuser=True)  # may open the admin
    client.force_login(centre_admin)

    page = client.get(reverse("admin:portfolio_legalhold_changelist")).content.decode()
    assert "Ours" in page
    assert "Theirs" not in page
