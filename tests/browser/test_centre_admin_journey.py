"""The demo centre admin enrols a new learner and later hands the portfolio to another assessor."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Centre, User
from tests.browser.conftest import assert_accessible
from tests.browser.test_learner_reads_a_unit import log_in_with_the_keyboard
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def newcomers(demo_site: str) -> str:
    centre = Centre.objects.get()
    UserFactory(username="omar", first_name="Omar", last_name="Reid", role=User.Role.LEARNER, centre=centre)
    UserFactory(username="grace", first_name="Grace", last_name="Lin", role=User.Role.ASSESSOR, centre=centre)
    return demo_site


def test_centre_admin_enrols_a_learner_and_reassigns_the_assessor(page: Page, newcomers: str):
    log_in_with_the_keyboard(page, newcomers, "centreadmin")
    page.get_by_role("link", name="Enrol a learner").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Enrol")
    assert_accessible(page)

    # Submitting with the dates missing: errors beside the fields, and the choices made are kept.
    page.get_by_label("Learner").select_option(label="Omar Reid")
    page.get_by_role("checkbox", name=re.compile("Plan, organise and control customer service operations")).check()
    page.get_by_role("button", name="Enrol learner").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    expect(page.locator("#id_learner option:checked")).to_have_text("Omar Reid")
    assert_accessible(page)

    page.get_by_role("checkbox", name=re.compile("Manage customer service operations")).check()
    page.get_by_label("Assessor").select_option(label="Daniel Okafor")
    page.get_by_label("IQA").select_option(label="Helen Marsh")
    page.get_by_label("Start date").fill("2026-11-02")
    page.get_by_label("Planned end date").fill("2027-10-29")
    page.get_by_role("button", name="Enrol learner").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Omar Reid")
    expect(page.get_by_test_id("current-assessor")).to_have_text("Daniel Okafor")
    assert_accessible(page)

    page.get_by_label("Role to change").select_option(label="Assessor")
    page.get_by_label("New person").select_option(label="Grace Lin (Assessor)")
    page.get_by_label("Reason").fill("Daniel's caseload is full")
    page.get_by_role("button", name="Change assignment").click()

    expect(page.get_by_test_id("current-assessor")).to_have_text("Grace Lin")
    history = page.get_by_role("table", name=re.compile("Assignment history"))
    expect(history).to_contain_text("Daniel's caseload is full")
    expect(history).to_contain_text("Sarah Collins")
    assert_accessible(page)
