"""Race 4: an EQA asks for a PDF export at the moment a centre admin revokes their access.

The issue pairs "an IQA sampling" with "an EQA grant revoked", but IQAs never hold grants here: an
IQA reaches a portfolio by being its assigned IQA (accounts.policy, Relation.QUALITY_ASSURING), and
`assessments.services.sampling` never reads a grant. The write an EQA makes under a grant is an
export job (the rest of their access is reading), so that is the race tested.

Allowed outcomes: the export job commits before the revocation (the revocation waits for it), or
the EQA is refused (404 from the page's scoped read, or PermissionDenied, a 403, from the service).
Never a job, nor a queued render, created after the revocation committed; the revocation is never lost.
"""

import datetime
from functools import partial

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessGrant, GrantRevocation, User
from accounts.policy import Action, require
from portfolio import tasks
from portfolio.models import AuditEvent, Enrolment, ExportJob
from portfolio.selectors import enrolment_for_user
from portfolio.services import exports
from portfolio.services.grants import access_grant, access_revoke
from tests.factories import UserFactory
from tests.races.harness import ROUNDS, Tally, head_starts, race
from tests.workers import needs_postgres

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Job ids handed to the broker (on commit). Rendering is another module's business: not run here."""
    sent: list[int] = []
    monkeypatch.setattr(tasks.render_export, "delay", lambda job_id: sent.append(job_id))
    return sent


def new_grant(centre_admin: User) -> AccessGrant:
    eqa = UserFactory(role=User.Role.EQA, centre=None)
    return access_grant(
        admin=centre_admin, eqa=eqa, whole_centre=True, expires_on=timezone.localdate() + datetime.timedelta(days=30)
    )


def export_as_the_page_does(enrolment: Enrolment, eqa: User) -> ExportJob:
    """portfolio.views.exports.export_create: the scoped read, the policy check, then the service."""
    enrolment = enrolment_for_user(eqa, enrolment.uuid)
    require(eqa, Action.EXPORT_PORTFOLIO, enrolment)
    return exports.export_request(enrolment=enrolment, by=eqa)


def test_an_export_and_a_revocation_at_once(enrolment, centre_admin, queued):
    tally = Tally(
        "4 EQA export vs grant revocation (service)",
        keys=["rounds", "jobs_after_revocation", "lost_updates", "losers_refused", "unexpected_errors"],
    )
    for delays in head_starts(ROUNDS, seed=7, most=0.03):  # the page reads twice before the service
        grant = new_grant(centre_admin)
        eqa = grant.eqa
        queued.clear()
        exported, revoked = race(
            partial(export_as_the_page_does, enrolment, eqa),
            partial(access_revoke, grant=grant, admin=centre_admin),
            delays=delays,
        )
        tally.add("rounds")
        revocation = GrantRevocation.objects.filter(grant=grant).first()
        if (
            not isinstance(revoked, GrantRevocation)
            or revocation is None
            or not AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_REVOKED, object_uuid=grant.uuid).exists()
        ):
            tally.add("lost_updates", ("the revocation", revoked))
            continue
        jobs = list(ExportJob.objects.filter(requested_by=eqa))
        if isinstance(exported, ExportJob):
            tally.add("export_first")
            if [j.pk for j in jobs] != [exported.pk] or queued != [exported.pk]:
                tally.add("lost_updates", ("the export", jobs, queued))
        elif isinstance(exported, Http404 | PermissionDenied):
            tally.add("revocation_first")
            tally.add("losers_refused", exported)
            tally.add(f"refused_with_{type(exported).__name__}", exported)
        else:
            tally.add("unexpected_errors", exported)
        # Job times are taken after the grant lock (with the fix), revocation times under it.
        late = [j for j in jobs if j.requested_at >= revocation.revoked_at]
        if late or (jobs and not isinstance(exported, ExportJob)):
            tally.add("jobs_after_revocation", (late or jobs, revocation.revoked_at, exported))

    report = tally.show()
    counts = tally.counts
    assert counts["rounds"] == ROUNDS, report
    assert counts["jobs_after_revocation"] == 0, report
    assert counts["lost_updates"] == 0, report
    assert counts["unexpected_errors"] == 0, report
    assert counts["losers_refused"] == counts["revocation_first"], report


def test_the_export_page_answers_403_when_access_ends_mid_request(client, enrolment, centre_admin, queued, monkeypatch):
    """The page's checks pass, then the revocation commits, then the service runs: 403, no job."""
    grant = new_grant(centre_admin)
    real_request = exports.export_request

    def revoked_first(**kwargs: object) -> ExportJob:
        access_revoke(grant=grant, admin=centre_admin)  # commits at once: the request has no transaction
        return real_request(**kwargs)

    monkeypatch.setattr("portfolio.views.exports.export_request", revoked_first)
    client.force_login(grant.eqa)
    client.raise_request_exception = False
    response = client.post(reverse("portfolio:export_create", args=[enrolment.uuid]))
    assert response.status_code == 403
    assert not ExportJob.objects.exists()
    assert queued == []
