"""The demo centre admin imports a unit from the awarding body's document, corrects it beside the
source, publishes it as a new version, publishes a changed version, and reads what changed."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible
from tests.browser.test_learner_reads_a_unit import log_in_with_the_keyboard
from units.importer.fixtures import seeds_dir

pytestmark = pytest.mark.browser

SEED = "001_20fa24159994ef5d.txt"  # OCR M/506/2898, Manage customer service operations
OLD_1_1 = "Explain the basis for allocating resources"
NEW_1_1 = "Explain the basis on which resources are allocated"
NEW_2_1 = "Identify and agree the service offer with senior managers"


def test_centre_admin_imports_corrects_and_publishes_a_unit_then_compares_versions(page: Page, demo_site: str):
    log_in_with_the_keyboard(page, demo_site, "centreadmin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Units").click()
    page.get_by_role("link", name="Import a unit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import a unit specification")
    assert_accessible(page)

    # Nothing chosen: the page says what to do, and nothing is read.
    page.get_by_role("button", name="Read the specification").click()
    expect(page.get_by_text("Choose a file to upload, or paste the text of the specification.")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Specification file").set_input_files(str(seeds_dir() / SEED))
    page.get_by_role("button", name="Read the specification").click()

    # The review: the parsed unit on the left, the source with line numbers on the right.
    expect(page.get_by_role("heading", level=1)).to_have_text("Review “Manage customer service operations”")
    expect(page.get_by_test_id("becomes")).to_contain_text("version 2")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Manage customer service operations")
    expect(page.get_by_label("Level", exact=True)).to_have_value("4")
    expect(page.get_by_label("Unit reference number")).to_have_value("M/506/2898")
    source = page.get_by_role("region", name=re.compile("Source text"))
    expect(source).to_contain_text("Unit Title:  Manage customer service operations")
    text_1_1 = page.get_by_label("Criterion 1.1 text")
    expect(text_1_1).to_have_value(OLD_1_1)
    assert_accessible(page)

    # Each field says where it came from: following the link (from the keyboard) marks the line.
    where = page.locator("#row-outcomes-0-criteria-0 .from-lines a").first
    line = where.get_attribute("href").removeprefix("#")
    where.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"#{line}$"))
    expect(page.locator(f"#{line}")).to_contain_text("1.1 Explain the basis for")
    assert page.evaluate("document.querySelector(':target').id") == line

    text_1_1.fill(NEW_1_1)
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_text("Your corrections are saved.")).to_be_visible()
    expect(page.get_by_label("Criterion 1.1 text")).to_have_value(NEW_1_1)
    assert_accessible(page)

    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_test_id("publish-summary")).to_contain_text("version 2")
    expect(page.get_by_test_id("enrolled-stay")).to_have_text(
        "1 learner enrolled on version 1 stays on it until moved."
    )
    assert_accessible(page)
    page.get_by_role("button", name="Publish version 2").click()

    expect(page.get_by_text("Version 2 of Manage customer service operations is published.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage customer service operations")
    expect(page.locator("#ac-11")).to_contain_text(NEW_1_1)
    expect(page.get_by_role("link", name="what changed since version 1")).to_be_visible()
    assert_accessible(page)

    # A changed version, pasted this time: version 3 takes the document's own 1.1 back and rewords 2.1.
    page.goto(f"{demo_site}/units/import/")
    page.get_by_label("Or paste the text of the specification").fill((seeds_dir() / SEED).read_text(encoding="utf-8"))
    page.get_by_role("button", name="Read the specification").click()
    expect(page.get_by_test_id("becomes")).to_contain_text("version 3")
    page.get_by_label("Criterion 2.1 text").fill(NEW_2_1)
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_text("Your corrections are saved.")).to_be_visible()
    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_test_id("enrolled-stay")).to_have_text("No learner is enrolled on version 2.")
    page.get_by_role("button", name="Publish version 3").click()
    expect(page.get_by_text("Version 3 of Manage customer service operations is published.")).to_be_visible()

    page.get_by_role("link", name="what changed since version 2").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "What changed in version 3 of Manage customer service operations"
    )
    expect(page.get_by_test_id("diff-summary")).to_contain_text("0 added, 0 removed, 2 changed, 26 unchanged")
    row_1_1 = page.locator("#ac-11")
    expect(row_1_1).to_contain_text("Changed")
    expect(row_1_1.locator(".diff-old")).to_contain_text(NEW_1_1)
    expect(row_1_1.locator(".diff-new")).to_contain_text(OLD_1_1)
    expect(page.locator("#ac-21")).to_contain_text(NEW_2_1)
    expect(page.locator("#ac-13")).to_contain_text("Unchanged")
    assert_accessible(page)

    # The demo learner is still on version 1, with nothing recorded against it: move her on.
    move = page.get_by_role("button", name="Move Priya Shah to version 3")
    move.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Priya Shah is now on version 3 of Manage customer service operations.")).to_be_visible()
    expect(page.get_by_text("None: every learner at your centre on this unit is on version 3.")).to_be_visible()
    assert_accessible(page)
