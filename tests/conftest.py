import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings
from playwright.sync_api import Browser, Page, sync_playwright

from accounts.models import User
from portfolio.demo import demo_data_ensure
from tests.factories import CentreFactory, UserFactory
from tests.helpers import enrol
from units.services import specification_files, specifications_load

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"

# The fuzz tests draw the same examples on every run, so CI is red only when the code changed;
# HYPOTHESIS_PROFILE=explore (with FUZZ_EXAMPLES=…) draws new ones each run to hunt for more.
hypothesis_settings.register_profile("repeatable", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture
def specifications(db):
    """The real unit and qualification fixtures, loaded the way `make run` loads them."""
    return specifications_load(paths=specification_files(FIXTURES_DIR))


@pytest.fixture
def centre(db):
    return CentreFactory(name="Northgate College")


@pytest.fixture
def other_centre(db):
    return CentreFactory(name="Southfield Training")


@pytest.fixture
def learner(centre):
    return UserFactory(username="lena", role=User.Role.LEARNER, centre=centre)


@pytest.fixture
def assessor(centre):
    return UserFactory(username="asha", role=User.Role.ASSESSOR, centre=centre)


@pytest.fixture
def iqa(centre):
    return UserFactory(username="ian", role=User.Role.IQA, centre=centre)


@pytest.fixture
def eqa(db):
    return UserFactory(username="eve", role=User.Role.EQA, centre=None)


@pytest.fixture
def centre_admin(centre):
    return UserFactory(username="cara", role=User.Role.CENTRE_ADMIN, centre=centre)


@pytest.fixture
def outsider(other_centre):
    """A learner at another centre: must never see anything of `centre`'s."""
    return UserFactory(username="otto", role=User.Role.LEARNER, centre=other_centre)


@pytest.fixture
def staff(db):
    return UserFactory(username="root", role="", centre=None, is_staff=True, is_superuser=True)


@pytest.fixture
def enrolment(specifications, learner, assessor, iqa):
    """`learner` on the real OCR qualification with both units, `assessor` and `iqa` assigned."""
    return enrol(learner, assessor=assessor, iqa=iqa)


# Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against the live test server.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; .ci/run installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def demo_site(live_server, transactional_db) -> str:
    """The live server with the real fixtures, the demo people and the demo learner's empty portfolio."""
    specifications_load(paths=specification_files(FIXTURES_DIR))
    demo_data_ensure(with_portfolio=False)
    return live_server.url


@pytest.fixture
def demo_portfolio_site(demo_site: str) -> str:
    """As `make run` sets it up: the demo portfolio has judged evidence, a signed-off unit and an EQA's access."""
    demo_data_ensure()
    return demo_site
