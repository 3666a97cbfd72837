"""EQA access: a centre admin grants read-only access to chosen learners or the whole centre
until an expiry date; it ends at expiry or on revocation, at once."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessGrant, GrantRevocation, User
from accounts.policy import Action, allows
from portfolio.models import AuditEvent
from portfolio.selectors import enrolments_for_user
from portfolio.services.grants import access_grant, access_revoke, default_expiry
from tests.factories import UserFactory
from tests.helpers import enrol

pytestmark = pytest.mark.django_db


@pytest.fixture
def classmate_enrolment(enrolment, assessor, iqa):
    return enrol(UserFactory(role=User.Role.LEARNER, centre=enrolment.centre), assessor=assessor, iqa=iqa)


def grant(admin, eqa, *, learners=(), whole_centre=False, days=30):
    return access_grant(
        admin=admin,
        eqa=eqa,
        whole_centre=whole_centre,
        learners=list(learners),
        expires_on=timezone.localdate() + datetime.timedelta(days=days),
        reason="Spring EQA visit",
    )


def visible(eqa) -> set[int]:
    return set(enrolments_for_user(eqa).values_list("pk", flat=True))


def test_an_eqa_sees_nothing_without_a_grant(enrolment, eqa):
    assert visible(eqa) == set()
    assert not allows(eqa, Action.VIEW_PORTFOLIO, enrolment)


def test_chosen_learners_only(enrolment, classmate_enrolment, centre_admin, eqa, learner):
    grant(centre_admin, eqa, learners=[learner])
    assert visible(eqa) == {enrolment.pk}
    assert allows(eqa, Action.VIEW_PORTFOLIO, enrolment)
    assert not allows(eqa, Action.VIEW_PORTFOLIO, classmate_enrolment)


def test_whole_centre_covers_every_learner_there_and_no_other_centre(
    enrolment, classmate_enrolment, centre_admin, eqa, outsider
):
    elsewhere = enrol(outsider)
    grant(centre_admin, eqa, whole_centre=True)
    assert visible(eqa) == {enrolment.pk, classmate_enrolment.pk}
    assert not allows(eqa, Action.VIEW_PORTFOLIO, elsewhere)


def test_read_only_whatever_the_grant(enrolment, centre_admin, eqa):
    grant(centre_admin, eqa, whole_centre=True)
    for action in (Action.VIEW_PORTFOLIO, Action.EXPORT_PORTFOLIO, Action.VIEW_AUDIT, Action.VIEW_QUALITY_RECORDS):
        assert allows(eqa, action, enrolment), action
    for action in (
        Action.EDIT_EVIDENCE,
        Action.ASSESS,
        Action.LEARNER_SIGN,
        Action.MANAGE_ENROLMENT,
        Action.QUALITY_ASSURE,
    ):
        assert not allows(eqa, action, enrolment), action


def test_access_ends_at_expiry(client, enrolment, centre_admin, eqa):
    given = grant(centre_admin, eqa, whole_centre=True)
    client.force_login(eqa)
    url = reverse("portfolio:portfolio", args=[enrolment.uuid])
    assert client.get(url).status_code == 200

    past = timezone.now() - datetime.timedelta(seconds=1)
    AccessGrant.objects.filter(pk=given.pk).update(granted_at=past - datetime.timedelta(days=30), expires_at=past)

    assert client.get(url).status_code == 404
    assert visible(eqa) == set()


def test_revocation_ends_access_at_once(client, enrolment, centre_admin, eqa):
    given = grant(centre_admin, eqa, learners=[enrolment.learner])
    client.force_login(eqa)
    url = reverse("portfolio:portfolio", args=[enrolment.uuid])
    assert client.get(url).status_code == 200

    access_revoke(grant=given, admin=centre_admin, reason="Visit over")

    assert client.get(url).status_code == 404
    assert AccessGrant.objects.filter(pk=given.pk).exists(), "the grant as given stays on the record"
    with pytest.raises(ValidationError, match="already been revoked"):
        access_revoke(grant=given, admin=centre_admin)


def test_one_revoked_grant_does_not_end_another(enrolment, centre_admin, eqa):
    first = grant(centre_admin, eqa, learners=[enrolment.learner])
    grant(centre_admin, eqa, whole_centre=True)
    access_revoke(grant=first, admin=centre_admin)
    assert visible(eqa) == {enrolment.pk}


def test_the_default_term_is_six_months():
    assert default_expiry(datetime.date(2026, 11, 23)) == datetime.date(2027, 5, 23)


def test_access_lasts_to_the_end_of_its_last_day(centre_admin, eqa, learner):
    given = grant(centre_admin, eqa, learners=[learner], days=0)
    assert timezone.localtime(given.expires_at).date() == timezone.localdate() + datetime.timedelta(days=1)
    assert timezone.localtime(given.expires_at).time() == datetime.time.min


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"days": -1}, "expires_on", "in the past"),
        ({"days": 800}, "expires_on", "at most two years"),
        ({"learners": "none"}, "learners", "at least one learner"),
        ({"learners": "outsider"}, "learners", "Not learners at your centre"),
        ({"whole_centre": True}, "learners", "not both"),
    ],
)
def test_bad_grants_are_refused_with_a_reason(centre_admin, eqa, learner, outsider, overrides, field, message):
    learners = {"none": [], "outsider": [outsider]}.get(overrides.pop("learners", None), [learner])
    days = overrides.pop("days", 30)
    with pytest.raises(ValidationError) as refused:
        access_grant(
            admin=centre_admin,
            eqa=eqa,
            learners=learners,
            expires_on=timezone.localdate() + datetime.timedelta(days=days),
            whole_centre=overrides.get("whole_centre", False),
        )
    assert message in " ".join(refused.value.message_dict[field])
    assert AccessGrant.objects.count() == 0


def test_only_an_eqa_can_be_granted_access(centre_admin, assessor, learner):
    with pytest.raises(ValidationError, match="not an active external quality assurer"):
        grant(centre_admin, assessor, learners=[learner])


def test_grants_and_revocations_are_audited(centre_admin, eqa, learner):
    given = grant(centre_admin, eqa, learners=[learner])
    access_revoke(grant=given, admin=centre_admin, reason="Visit over")
    events = list(AuditEvent.objects.order_by("at", "id").values_list("action", "actor", "centre", "object_uuid"))
    assert events == [
        (AuditEvent.Action.ACCESS_GRANTED, centre_admin.pk, centre_admin.centre_id, given.uuid),
        (AuditEvent.Action.ACCESS_REVOKED, centre_admin.pk, centre_admin.centre_id, given.uuid),
    ]


# The pages


def test_admin_grants_access_through_the_form(client, enrolment, centre_admin, eqa, learner):
    client.force_login(centre_admin)
    page = client.get(reverse("portfolio:grant_create"))
    assert page.status_code == 200
    assert page.context["form"]["expires_on"].value() == default_expiry()

    expires = timezone.localdate() + datetime.timedelta(days=90)
    response = client.post(
        reverse("portfolio:grant_create"),
        {"eqa": eqa.uuid, "scope": "learners", "learners": [learner.uuid], "expires_on": expires.isoformat()},
    )

    assert response.status_code == 303
    given = AccessGrant.objects.get()
    assert (given.eqa, given.granted_by, list(given.learners.all())) == (eqa, centre_admin, [learner])
    listing = client.get(reverse("portfolio:grants")).content.decode()
    assert str(eqa) in listing
    assert expires.strftime("%-d %B %Y") in listing


def test_form_errors_are_shown_on_the_page(client, centre_admin, eqa):
    client.force_login(centre_admin)
    response = client.post(
        reverse("portfolio:grant_create"),
        {"eqa": eqa.uuid, "scope": "learners", "expires_on": "2000-01-01"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Access was not granted" in html
    assert "Choose at least one learner" in html
    assert AccessGrant.objects.count() == 0


def test_admin_revokes_from_the_list(client, enrolment, centre_admin, eqa, learner):
    given = grant(centre_admin, eqa, learners=[learner])
    client.force_login(centre_admin)
    response = client.post(reverse("portfolio:grant_revoke", args=[given.uuid]), {"reason": "Visit over"})
    assert response.status_code == 303
    assert GrantRevocation.objects.get().reason == "Visit over"
    assert "Revoked" in client.get(reverse("portfolio:grants")).content.decode()


def test_another_centres_admin_cannot_see_or_revoke_a_grant(client, centre_admin, eqa, learner, other_centre):
    given = grant(centre_admin, eqa, learners=[learner])
    other_admin = UserFactory(role=User.Role.CENTRE_ADMIN, centre=other_centre)
    client.force_login(other_admin)
    assert str(eqa) not in client.get(reverse("portfolio:grants")).content.decode()
    assert client.post(reverse("portfolio:grant_revoke", args=[given.uuid])).status_code == 404
    assert not GrantRevocation.objects.exists()


def test_grant_list_query_count_does_not_grow(client, centre_admin, eqa, learner, django_assert_num_queries):
    client.force_login(centre_admin)
    grant(centre_admin, eqa, learners=[learner])
    with django_assert_num_queries(GRANT_LIST_QUERIES):
        client.get(reverse("portfolio:grants"))
    for _ in range(6):
        grant(centre_admin, UserFactory(role=User.Role.EQA), whole_centre=True)
    with django_assert_num_queries(GRANT_LIST_QUERIES):
        client.get(reverse("portfolio:grants"))


GRANT_LIST_QUERIES = 5


def test_an_eqa_home_shows_their_access_and_the_shared_portfolios(client, enrolment, centre_admin, eqa, learner):
    client.force_login(eqa)
    assert "No centre has given you access" in client.get(reverse("portfolio:home")).content.decode()
    given = grant(centre_admin, eqa, learners=[learner], days=10)
    html = client.get(reverse("portfolio:home")).content.decode()
    assert f"until the end of {given.last_day:%-d %B %Y}" in html
    assert reverse("portfolio:portfolio", args=[enrolment.uuid]) in html
