"""The demo EQA, given access by the centre, opens the learner's portfolio, exports it as a PDF
rendered by a real Celery worker, watches the progress bar finish and downloads the file."""

import hashlib
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible
from tests.browser.test_learner_reads_a_unit import log_in_with_the_keyboard
from tests.workers import celery_worker, needs_postgres

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_postgres]


def test_eqa_opens_the_portfolio_exports_it_and_downloads_the_pdf(page: Page, demo_portfolio_site: str, tmp_path):
    log_in_with_the_keyboard(page, demo_portfolio_site, "eqa")
    expect(page.get_by_test_id("who")).to_contain_text("External quality assurer")
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("Priya Shah")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Priya Shah")
    expect(page.get_by_role("link", name="Add evidence")).to_have_count(0)  # read-only
    assert_accessible(page)

    with celery_worker(tmp_path):
        page.get_by_role("button", name="Export PDF").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("PDF of Priya Shah")
        assert_accessible(page)
        seen = set()
        download_link = page.get_by_test_id("export-download")
        deadline = time.monotonic() + 120
        while not download_link.is_visible():
            assert time.monotonic() < deadline, page.locator("#export-status").inner_text()
            expect(page.get_by_text("The export failed.")).to_have_count(0)
            seen.add(int(page.locator("#export-progress").get_attribute("value")))
            page.wait_for_timeout(100)
        expect(page.locator("#export-progress")).to_have_attribute("value", "100")
        expect(page.get_by_role("status").filter(has_text="Ready")).to_be_visible()
        assert_accessible(page)

    assert len(seen | {100}) >= 2, "the bar moved while the worker rendered"
    with page.expect_download() as pending:
        download_link.click()
    content = Path(pending.value.path()).read_bytes()
    assert content.startswith(b"%PDF-")
    expect(page.get_by_text(hashlib.sha256(content).hexdigest())).to_be_visible()
