import re

import pytest
from playwright.sync_api import Page, expect

from portfolio.demo import DEMO_PASSWORD
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser

CRITERION_1_1 = "analyse customer expectations and define the service offer designed to meet those expectations"


def log_in_with_the_keyboard(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    assert_accessible(page)
    expect(page.get_by_label("Username")).to_be_focused()  # the login form autofocuses it
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/")


def test_demo_learner_logs_in_opens_a_unit_and_finds_criterion_1_1(page: Page, demo_site: str):
    log_in_with_the_keyboard(page, demo_site, "learner")
    expect(page.get_by_test_id("who")).to_contain_text("Priya Shah")
    expect(page.get_by_test_id("who")).to_contain_text("Learner")
    expect(page.get_by_role("heading", name="Your enrolments")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Plan, organise and control customer service operations").first.click()
    expect(page.get_by_role("heading", name="Tracking grid")).to_be_visible()
    page.get_by_role("link", name="Read the unit specification").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan, organise and control customer service operations")
    criterion = page.locator("#ac-11")
    expect(criterion).to_contain_text("1.1")
    expect(criterion).to_contain_text(CRITERION_1_1)
    expect(page.locator("#ac-410")).to_contain_text("explain how to identify and evaluate possible solutions")
    expect(page.get_by_text("Simulation for performance evidence:")).to_be_visible()
    assert_accessible(page)

    # The first Tab reaches the skip link, which moves focus past the navigation.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Units").click()
    expect(page.get_by_role("heading", name="Qualifications and units")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("Level 4 NVQ Diploma in Business and Administration")).click()
    expect(page.get_by_text("Manage Personal and Professional Development (specification not loaded)")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="You have logged out")).to_be_visible()
    assert_accessible(page)


def test_unit_page_reads_on_a_phone(page: Page, demo_site: str):
    log_in_with_the_keyboard(page, demo_site, "learner")
    page.set_viewport_size({"width": 375, "height": 800})
    page.get_by_role("link", name="Manage customer service operations").first.click()
    page.get_by_role("link", name="Read the unit specification").click()
    expect(page.get_by_text("M/506/2898", exact=True)).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a 375px screen"
    # The navigation collapses behind a button that works from the keyboard.
    toggler = page.get_by_role("button", name="Show navigation")
    toggler.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert_accessible(page)


def test_a_wrong_password_gets_a_clear_message(page: Page, demo_site: str):
    page.goto(f"{demo_site}/accounts/login/")
    page.get_by_label("Username").fill("learner")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    assert_accessible(page)
