"""Notices on the home page: the person's own unread ones, newest first, each marked read by a POST."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from assessments.models import Notice
from assessments.selectors import unread_notices
from assessments.services.notices import notify
from assessments.services.signoff import unit_sign_off
from tests.assessments.test_signoff import make_ready
from tests.factories import EnrolmentFactory, UnitFactory, UserFactory
from units.models import Unit

# Every test here uses the database, some only through request.getfixturevalue(): saying so keeps
# pytest-django from ordering them after the browser tests, whose event loop hides the test connection.
pytestmark = pytest.mark.django_db

HOME = reverse("portfolio:home")


def notice_for(person: User, text: str, *, minutes_ago: int = 0, url: str = "/somewhere/") -> Notice:
    (notice,) = notify(recipients=[person], kind=Notice.Kind.JUDGED, text=text, url=url)
    Notice.objects.filter(pk=notice.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago))
    notice.refresh_from_db()
    return notice


def read_url(notice: Notice) -> str:
    return reverse("assessments:notice_read", args=[notice.uuid])


def notices_section(html: str) -> str:
    return html[html.index('id="notices"') : html.index("</section>", html.index('id="notices"'))]


def test_home_lists_my_unread_notices_newest_first_with_link_and_time(client, learner, assessor):
    older = notice_for(learner, "Your rota plan was judged.", minutes_ago=30, url="/evidence/older/")
    newer = notice_for(learner, "Your briefing notes were judged.", minutes_ago=5, url="/evidence/newer/")
    read = notice_for(learner, "An old notice already read.")
    Notice.objects.filter(pk=read.pk).update(read_at=timezone.now())
    notice_for(assessor, "Something for the assessor only.")
    client.force_login(learner)

    section = notices_section(client.get(HOME).content.decode())

    assert '<h2 id="notices-heading" class="h4">Notices</h2>' in section
    assert section.index("Your briefing notes were judged.") < section.index("Your rota plan was judged.")
    assert '<a href="/evidence/newer/">Your briefing notes were judged.</a>' in section
    assert f'<time datetime="{timezone.localtime(newer.created_at):%Y-%m-%dT%H:%M}' in section
    assert f'action="{read_url(older)}"' in section
    assert 'Mark as read<span class="visually-hidden">: Your rota plan was judged.</span>' in section
    assert "An old notice already read." not in section
    assert "Something for the assessor only." not in section


def test_notices_come_before_the_portfolios(client, learner, enrolment):
    notice_for(learner, "Top of the page.")
    client.force_login(learner)
    html = client.get(HOME).content.decode()
    assert html.index('id="notices"') < html.index('id="portfolios-heading"')


def test_at_most_ten_are_shown(client, learner):
    for n in range(12):
        notice_for(learner, f"Notice number {n:02d}.", minutes_ago=100 - n)
    client.force_login(learner)
    section = notices_section(client.get(HOME).content.decode())
    assert section.count('class="list-group-item') == 10
    assert "Notice number 11." in section
    assert "Notice number 01." not in section
    assert "Showing your ten newest unread notices" in section
    assert [n.text for n in unread_notices(learner)][:2] == ["Notice number 11.", "Notice number 10."]


def test_no_notices(client, learner):
    client.force_login(learner)
    assert "No unread notices." in notices_section(client.get(HOME).content.decode())


def test_marking_a_notice_read(client, learner):
    notice = notice_for(learner, "Please countersign.")
    client.force_login(learner)

    response = client.post(read_url(notice), follow=True)

    assert response.redirect_chain == [(HOME, 302)]
    notice.refresh_from_db()
    assert notice.read_at is not None
    html = response.content.decode()
    assert "Notice marked as read." in html
    assert "Please countersign." not in notices_section(html)


def test_marking_read_twice_keeps_the_first_time(client, learner):
    notice = notice_for(learner, "Once is enough.")
    client.force_login(learner)
    client.post(read_url(notice))
    notice.refresh_from_db()
    first = notice.read_at
    assert client.post(read_url(notice)).status_code == 302
    notice.refresh_from_db()
    assert notice.read_at == first


@pytest.mark.parametrize("persona", ["assessor", "iqa", "centre_admin", "outsider"])
def test_someone_elses_notice_is_404_and_stays_unread(client, learner, persona, request):
    notice = notice_for(learner, "Mine.")
    client.force_login(request.getfixturevalue(persona))
    assert client.post(read_url(notice)).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_mark_read_is_post_only_and_needs_a_login(client, learner):
    notice = notice_for(learner, "Mine.")
    response = client.post(read_url(notice))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    client.force_login(learner)
    assert client.get(read_url(notice)).status_code == 405


def test_a_sign_off_notice_reaches_the_learners_home_with_a_link_to_the_unit(client, enrolment, learner, assessor):
    plan = Unit.objects.get(key="plan-organise-and-control-customer-service-operations")
    make_ready(enrolment, assessor)
    unit_sign_off(enrolment=enrolment, unit=plan, assessor=assessor, reauthenticated=True)
    client.force_login(learner)
    section = notices_section(client.get(HOME).content.decode())
    tracking = reverse("portfolio:unit_tracking", args=[enrolment.uuid, plan.uuid])
    assert f'<a href="{tracking}">{assessor.get_full_name()} signed off' in section
    assert "Please countersign." in section


def test_assessors_get_a_link_to_their_caseload(client, assessor, learner):
    client.force_login(assessor)
    assert reverse("assessments:caseload") in client.get(HOME).content.decode()
    client.force_login(learner)
    assert reverse("assessments:caseload") not in client.get(HOME).content.decode()


# session, user, unread notices, enrolments, enrolled units, 4 for progress (reusing the enrolled units)
HOME_QUERIES = 9


@pytest.mark.parametrize("count", [1, 10])
def test_home_query_count_does_not_grow_with_notices(client, centre, django_assert_num_queries, count):
    person = UserFactory(role=User.Role.LEARNER, centre=centre)
    EnrolmentFactory(learner=person, units=[UnitFactory()])
    for n in range(count):
        notice_for(person, f"Notice {n}")
    client.force_login(person)
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(HOME)
    assert notices_section(response.content.decode()).count('class="list-group-item') == count
