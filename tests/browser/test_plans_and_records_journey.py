"""The assessor's plans and records in real Chromium, with axe (WCAG 2.2 A/AA) on every page.

The assessor writes and signs a plan and a review, and the learner signs them; the assessor writes a
witness testimony (the witness fields swap in when the kind changes) and the learner confirms it.
Service and page rules are tested in tests/assessments/test_plans.py and test_records.py.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from assessments.services.records import RECORD_CONFIRMATION_STATEMENT
from portfolio.demo import DEMO_PASSWORD
from portfolio.models import Enrolment
from tests.browser.conftest import assert_accessible
from tests.browser.test_learner_reads_a_unit import log_in_with_the_keyboard

pytestmark = pytest.mark.browser


def open_portfolio(page: Page, base_url: str) -> None:
    enrolment = Enrolment.objects.get(learner__username="learner")
    page.goto(f"{base_url}/portfolios/{enrolment.uuid}/")


def test_assessor_and_learner_agree_a_plan_in_the_browser(page: Page, demo_site: str):
    log_in_with_the_keyboard(page, demo_site, "assessor")
    open_portfolio(page, demo_site)
    page.get_by_role("link", name="Write an assessment plan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("New assessment plan")
    assert_accessible(page)

    page.get_by_role("button", name="Save the plan").click()  # nothing filled in
    expect(page.get_by_text("The plan was not saved")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Plan title").fill("Autumn: planning and resources")
    first = page.get_by_role("group", name="Activity 1")
    first.get_by_label("What the learner will do").fill("Plan the December rota with the team leaders.")
    first.get_by_label("Assessment method").select_option(label="Work product")
    first.get_by_label("Target date").fill("2026-12-18")
    first.locator("summary", has_text="Plan, organise and control").click()  # opens the unit
    first.get_by_role("checkbox", name="1.1 analyse customer expectations").check()
    page.get_by_role("button", name="Save the plan").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Autumn: planning and resources")
    expect(page.get_by_text("0 of 1 criteria met")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Your password, to sign").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign this plan").click()
    expect(page.get_by_text("Awaiting the learner\u2019s signature")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Record a progress review").click()
    page.get_by_label("What has been achieved against the plan").fill("The rota is drafted.")
    page.get_by_role("button", name="Save the review").click()
    expect(page.get_by_role("heading", name=re.compile("^Review of"))).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Log out").click()
    log_in_with_the_keyboard(page, demo_site, "learner")
    page.get_by_role("link", name=re.compile("has written an assessment plan")).click()
    page.locator("#signatures").get_by_label("Your password, to sign").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign this plan").click()
    expect(page.get_by_text("Agreed: signed by both")).to_be_visible()
    page.get_by_label("Your password, to sign").fill("wrong password")
    page.get_by_role("button", name="Sign this review").click()
    expect(page.get_by_text("That is not your password. Nothing was signed.")).to_be_visible()
    assert_accessible(page)


def test_witness_testimony_written_and_confirmed_in_the_browser(page: Page, demo_site: str):
    log_in_with_the_keyboard(page, demo_site, "assessor")
    open_portfolio(page, demo_site)
    assert_accessible(page)
    page.get_by_role("link", name="Add an observation").click()
    expect(page.get_by_label("Kind of record")).to_have_value("observation")
    expect(page.get_by_role("group", name="The witness")).to_have_count(0)
    assert_accessible(page)

    page.get_by_label("Kind of record").select_option(label="Witness testimony")  # htmx swaps the fields in
    witness = page.get_by_role("group", name="The witness")
    expect(witness).to_be_visible()
    page.get_by_role("textbox", name=re.compile("^Title")).fill("Witness: handling a complaint")
    page.get_by_label("Date of the activity").fill("2026-10-06")
    page.get_by_role("textbox", name=re.compile("^The record")).fill(
        "Priya resolved a customer's complaint about a late delivery."
    )
    witness.get_by_label("Witness's job title").fill("Store manager")
    witness.get_by_label("The witness's statement").fill("I saw Priya calm the customer down.")
    plan_unit = page.get_by_role("group", name="Plan, organise and control customer service operations")
    plan_unit.get_by_role("checkbox", name=re.compile(r"^1\.1 ")).check()
    plan_unit.get_by_label("How does this record show 1.1?").fill("She explained what the service offers.")
    page.get_by_role("button", name="Save and ask the learner to confirm").click()

    expect(page.get_by_text("The record was not saved")).to_be_visible()  # no witness name
    expect(page.get_by_text("Give the witness's name.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Witness's name").fill("Sam Patel")
    page.get_by_role("button", name="Save and ask the learner to confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Witness: handling a complaint")

    page.get_by_role("button", name="Log out").click()
    log_in_with_the_keyboard(page, demo_site, "learner")
    page.get_by_role("link", name=re.compile("Witness testimony, .Witness: handling a complaint.")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Confirm")
    expect(page.get_by_text("I saw Priya calm the customer down.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm the record").click()
    expect(page.get_by_text("Tick the box to confirm the record is accurate.").first).to_be_visible()
    assert_accessible(page)
    page.get_by_label(RECORD_CONFIRMATION_STATEMENT).check()
    page.get_by_role("button", name="Confirm the record").click()
    expect(page.get_by_text("The record is confirmed")).to_be_visible()
    expect(page.get_by_text("Submitted", exact=False).first).to_be_visible()
