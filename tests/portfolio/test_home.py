import pytest
from django.urls import reverse

from accounts.models import User
from accounts.policy import CATALOGUE_ROLES, PORTFOLIO_POLICY, Action
from portfolio.selectors import enrolments_for_user
from tests.factories import EnrolmentFactory, UnitFactory, UserFactory


@pytest.fixture
def enrolment(learner, assessor, iqa):
    return EnrolmentFactory(learner=learner, assessor=assessor, iqa=iqa, units=[UnitFactory(title="Unit Alpha")])


@pytest.fixture
def elsewhere(outsider, other_centre):
    """An enrolment at another centre, with its own assessor and IQA."""
    outsider.last_name = "Marker-Elsewhere-7f3a"  # unique, so its absence from a page means something
    outsider.save()
    return EnrolmentFactory(
        learner=outsider,
        assessor=UserFactory(role=User.Role.ASSESSOR, centre=other_centre),
        iqa=UserFactory(role=User.Role.IQA, centre=other_centre),
        units=[UnitFactory(title="Unit Elsewhere")],
    )


def test_home_asks_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("portfolio:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["learner", "assessor", "iqa", "centre_admin"])
def test_each_role_sees_this_centres_portfolio_and_not_the_other(client, enrolment, elsewhere, persona, request):
    client.force_login(request.getfixturevalue(persona))
    html = client.get(reverse("portfolio:home")).content.decode()
    assert "Unit Alpha" in html
    assert "Unit Elsewhere" not in html
    assert elsewhere.learner.last_name not in html


def test_eqa_without_a_grant_sees_no_portfolio(client, enrolment, eqa):
    client.force_login(eqa)
    html = client.get(reverse("portfolio:home")).content.decode()
    assert "Unit Alpha" not in html
    assert "No centre has shared a portfolio with you yet" in html


def test_an_assessor_sees_only_their_own_caseload(enrolment, centre):
    colleague = UserFactory(role=User.Role.ASSESSOR, centre=centre)
    assert list(enrolments_for_user(colleague)) == []
    assert list(enrolments_for_user(enrolment.assessor)) == [enrolment]


def test_inactive_users_see_nothing(enrolment):
    enrolment.learner.is_active = False
    assert list(enrolments_for_user(enrolment.learner)) == []


def test_the_policy_names_every_role_for_every_action():
    for action, rules in PORTFOLIO_POLICY.items():
        assert set(rules) == set(User.Role.values), action
    assert set(PORTFOLIO_POLICY) | set(CATALOGUE_ROLES) == set(Action)
    assert not set(PORTFOLIO_POLICY) & set(CATALOGUE_ROLES)


def test_navigation_shows_who_is_logged_in_and_their_role(client, learner):
    client.force_login(learner)
    html = client.get(reverse("portfolio:home")).content.decode()
    assert learner.get_full_name() in html
    assert "Learner" in html
    assert 'action="/accounts/logout/"' in html


def test_logout_works(client, learner):
    client.force_login(learner)
    response = client.post(reverse("logout"))
    assert response.status_code == 200
    assert "You have logged out" in response.content.decode()
    assert client.get(reverse("portfolio:home")).status_code == 302


@pytest.mark.parametrize("count", [1, 10])
def test_home_query_count_does_not_grow_with_portfolios(client, centre_admin, django_assert_num_queries, count):
    for _ in range(count):
        learner = UserFactory(role=User.Role.LEARNER, centre=centre_admin.centre)
        EnrolmentFactory(learner=learner, units=[UnitFactory(), UnitFactory()])
    client.force_login(centre_admin)
    # session, user, the admin's own centre, unread notices, enrolments (with people, centre, qualification),
    # enrolled units, and progress (reusing those units): criteria, requirement items, coverage, claims
    with django_assert_num_queries(10):
        response = client.get(reverse("portfolio:home"))
    assert response.content.decode().count('class="card mb-3 enrolment"') == count
