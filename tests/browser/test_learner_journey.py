"""The demo learner's whole journey: evidence, two files, three criteria in two units, submit, progress."""

import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from portfolio.services.evidence import DECLARATION_STATEMENT
from tests.browser.conftest import assert_accessible
from tests.browser.test_learner_reads_a_unit import log_in_with_the_keyboard
from tests.portfolio.test_hostile_uploads import photo

pytestmark = pytest.mark.browser

PLAN = "Plan, organise and control customer service operations"
MANAGE = "Manage customer service operations"


def sample_files(tmp_path):
    photo = tmp_path / "whiteboard.png"
    Image.new("RGB", (64, 48), "steelblue").save(photo, "PNG")
    pdf = tmp_path / "rota-plan.pdf"
    pdf.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return [photo, pdf]


def unit_summary(page: Page, title: str):
    return page.get_by_role("region", name=title)


def map_criterion(page: Page, unit: str, number: str, account: str) -> None:
    fieldset = page.get_by_role("group", name=unit)
    fieldset.get_by_role("checkbox", name=re.compile(rf"^{re.escape(number)} ")).check()
    fieldset.get_by_label(f"How does this evidence show {number}?").fill(account)


def test_learner_builds_and_submits_evidence_and_sees_progress(page: Page, demo_site: str, tmp_path):
    log_in_with_the_keyboard(page, demo_site, "learner")
    expect(unit_summary(page, PLAN)).to_contain_text("0 awaiting decision")
    assert_accessible(page)

    page.get_by_role("link", name="Add evidence").click()
    expect(page.get_by_role("heading", name="Add evidence")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Title").fill("December rota and team briefing")
    page.get_by_label("Assessment method").select_option(label="Work product")
    page.get_by_label("Description").fill("The staffing plan for December and the briefing I gave the team.")
    page.get_by_label("Date of the activity (or start date)").fill("2026-11-02")
    page.get_by_label("Where it happened").fill("Leeds contact centre")
    page.get_by_role("button", name="Create evidence").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("December rota and team briefing")
    page.get_by_label(re.compile("Choose files")).set_input_files(sample_files(tmp_path))
    page.get_by_role("button", name="Upload").click()
    files = page.locator("#evidence-files")
    expect(files).to_contain_text("whiteboard.png", timeout=20_000)
    expect(files).to_contain_text("rota-plan.pdf", timeout=20_000)
    assert_accessible(page)

    page.get_by_role("link", name="Map to criteria").first.click()
    assert_accessible(page)
    map_criterion(page, PLAN, "1.2", "The rota is my plan for consistent cover through December.")
    map_criterion(page, PLAN, "2.4", "The briefing notes show I set each person's targets.")
    map_criterion(page, MANAGE, "2.5", "I communicated the December objectives at the briefing.")
    page.get_by_role("checkbox", name=re.compile(r"^5c human resources")).check()
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Mapping saved: 3 criteria, 1 evidence-requirement items.")).to_be_visible()

    page.get_by_role("link", name="Declare and submit").first.click()
    assert_accessible(page)
    page.get_by_label(DECLARATION_STATEMENT).check()
    page.get_by_role("button", name="Submit to my assessor").click()
    expect(page.get_by_text("Submitted to your assessor.")).to_be_visible()
    expect(page.get_by_text("Awaiting decision").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(unit_summary(page, PLAN)).to_contain_text("2 awaiting decision")
    expect(unit_summary(page, PLAN)).to_contain_text("1 of 12 evidence-requirement items covered")
    expect(unit_summary(page, MANAGE)).to_contain_text("1 awaiting decision")
    assert_accessible(page)

    unit_summary(page, PLAN).get_by_role("link", name=PLAN).click()
    expect(page.locator("#criterion-12")).to_contain_text("Awaiting decision")
    expect(page.get_by_role("heading", name="Gaps")).to_be_visible()
    assert_accessible(page)


def test_a_photos_location_is_removed_unless_the_learner_keeps_it(page: Page, demo_site: str, tmp_path):
    """Through upload.js, which sends each file in its own request: the tick box must go with it."""
    log_in_with_the_keyboard(page, demo_site, "learner")
    page.get_by_role("link", name="Add evidence").click()
    page.get_by_label("Title").fill("Site visit photos")
    page.get_by_label("Assessment method").select_option(label="Work product")
    page.get_by_label("Date of the activity (or start date)").fill("2026-11-02")
    page.get_by_role("button", name="Create evidence").click()
    files = page.locator("#evidence-files")

    plain, kept = tmp_path / "office.jpg", tmp_path / "warehouse.jpg"
    plain.write_bytes(photo())
    kept.write_bytes(photo(size=(48, 64)))
    page.get_by_label(re.compile("Choose files")).set_input_files(plain)
    page.get_by_role("button", name="Upload").click()
    expect(files).to_contain_text("The location (GPS) recorded in “office.jpg” was removed.", timeout=20_000)

    page.get_by_label("Keep the location recorded in photos").check()
    page.get_by_label(re.compile("Choose files")).set_input_files(kept)
    page.get_by_role("button", name="Upload").click()
    expect(files).to_contain_text("“warehouse.jpg” was kept as you chose.", timeout=20_000)
    assert_accessible(page)
