"""The Content Security Policy breaks nothing: Chromium reports no violation on any page.

Each demo person logs in through the form (django-axes on) and walks every kind of page reachable
from their home page by links; Chromium logs a console message for anything the policy refuses
(an inline style or script, a style htmx or Bootstrap adds, an image from elsewhere), and so does
a `securitypolicyviolation` listener installed before any script of the page. Then the pages
outside a login: logged out, a 404, the 500 page and the lockout page (the last three also
checked with axe). The journeys in tests/browser check the same on every page they drive
(uploads, mapping, judging, signing).
"""

import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from portfolio.demo import DEMO_PASSWORD
from portfolio.models import Enrolment, ExportJob
from tests.browser.conftest import assert_accessible, csp_violations

pytestmark = pytest.mark.browser

# Not pages of ours (the Django admin), not pages (files), or not safe to follow (logging out).
SKIP = ("/admin/", "/accounts/logout/", "/download/", "/preview/")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PAGES_PER_PERSON = 30


@pytest.fixture
def violations(page: Page) -> list[str]:
    return csp_violations(page)


@pytest.fixture
def production_like(settings):
    """Axes and the per-request session save on, as in production (plain http stays: the live server)."""
    settings.AXES_ENABLED = True
    settings.SESSION_SAVE_EVERY_REQUEST = True
    settings.ROOT_URLCONF = "tests.security.urls"  # the site's URLs and one that fails, for the 500 page
    return settings


def log_in(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def walk(page: Page, base_url: str) -> list[str]:
    """Every kind of page (paths alike but for their UUIDs count once) reachable by links from home."""
    queue, shapes, visited = ["/"], set(), []
    while queue and len(visited) < PAGES_PER_PERSON:
        path = queue.pop(0)
        shape = UUID.sub("<uuid>", urlsplit(path).path)
        if shape in shapes:
            continue
        shapes.add(shape)
        page.goto(base_url + path, wait_until="networkidle")
        visited.append(path)
        hrefs = page.eval_on_selector_all("main a[href], nav a[href]", "els => els.map(a => a.getAttribute('href'))")
        queue += [h.split("#")[0] for h in hrefs if h.startswith("/") and not any(s in h for s in SKIP)]
    return visited


def test_no_page_breaks_the_content_security_policy(
    page: Page, demo_portfolio_site: str, production_like, violations: list[str]
):
    base = demo_portfolio_site
    # A queued export: its page polls with htmx, so htmx's swaps run under the policy too.
    assessor = User.objects.get(username="assessor")
    job = ExportJob.objects.create(
        enrolment=Enrolment.objects.get(learner__username="learner"), requested_by=assessor, requested_at=timezone.now()
    )

    walked: dict[str, list[str]] = {}
    for username in ("learner", "assessor", "iqa", "eqa", "centreadmin"):
        log_in(page, base, username)
        page.wait_for_url(f"{base}/")
        walked[username] = walk(page, base)
        if username == "assessor":
            with page.expect_request(re.compile(rf"/exports/{job.uuid}/status/")):
                page.goto(f"{base}/exports/{job.uuid}/")
            expect(page.get_by_test_id("export-stage")).to_contain_text("Waiting for a worker")
        page.context.clear_cookies()

    # A narrow screen: Bootstrap's collapsing navigation opens (it animates through style properties).
    log_in(page, base, "learner")
    page.set_viewport_size({"width": 375, "height": 800})
    page.get_by_role("button", name="Show navigation").click()
    expect(page.get_by_role("link", name="Units")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="You have logged out")).to_be_visible()

    page.goto(f"{base}/no-such-page/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{base}/boom/")  # tests.security.urls: a view that fails
    expect(page.get_by_role("heading", name="Something went wrong")).to_be_visible()
    assert_accessible(page)
    for _ in range(production_like.AXES_FAILURE_LIMIT):
        log_in(page, base, "learner", "not-the-password")
    expect(page.get_by_role("heading", name="Too many failed attempts to log in")).to_be_visible()
    assert_accessible(page)

    assert len(walked["learner"]) >= 8, walked  # the walk did reach the portfolio's pages
    assert len(walked["assessor"]) >= 8, walked
    assert not violations, "\n".join(violations)
