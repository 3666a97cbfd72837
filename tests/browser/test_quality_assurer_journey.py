"""The demo IQA plans summative sampling, samples the signed-off unit, reads the assessor's
decisions and signs an agreement; the unit is then ready to claim and the assessor sees it."""

import re

import pytest
from playwright.sync_api import Page, expect

from portfolio.demo import DEMO_PASSWORD
from tests.browser.conftest import assert_accessible
from tests.browser.test_learner_reads_a_unit import log_in_with_the_keyboard

pytestmark = pytest.mark.browser

SIGNED_OFF = "Plan, organise and control customer service operations"


def test_iqa_samples_a_signed_off_unit_and_agrees(page: Page, demo_portfolio_site: str):
    log_in_with_the_keyboard(page, demo_portfolio_site, "iqa")
    page.get_by_role("link", name="Sampling").click()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("New sampling plan|Plan sampling|New plan")).first.click()
    assert_accessible(page)

    page.get_by_label("Plan title").fill("Summative sampling, winter term")
    page.get_by_role("radio", name=re.compile("Summative")).check()
    page.get_by_label("Target rate for each assessor (%)").fill("50")
    page.get_by_role("button", name="Save the plan").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Summative sampling, winter term")
    assert_accessible(page)
    page.get_by_role("button", name=re.compile(f"Add to sample.*{SIGNED_OFF}.*Priya Shah")).click()
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("Review", re.IGNORECASE)).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"IQA sample: “{SIGNED_OFF}” for Priya Shah")
    expect(page.get_by_text("your account and the photo show").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("radio", name=re.compile("Agree")).check()
    page.get_by_label("Comments on the assessor's decisions").fill(
        "Decisions are well evidenced; feedback is specific to each criterion."
    )
    page.get_by_label("Your password, to sign").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign the review").click()

    expect(page.get_by_text("feedback is specific to each criterion").first).to_be_visible()
    expect(page.get_by_text(re.compile("Ready to claim")).first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Log out").click()
    log_in_with_the_keyboard(page, demo_portfolio_site, "assessor")
    expect(page.get_by_text(re.compile("Helen Marsh reviewed the decisions on “Plan, organise")).first).to_be_visible()
    expect(page.get_by_text("feedback is specific to each criterion").first).to_be_visible()
    assert_accessible(page)
