"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against the live test server."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from portfolio.demo import demo_data_ensure
from units.services import specification_files, specifications_load

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
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
    """The live server with the real fixtures and the demo people, as `make run` sets them up."""
    specifications_load(paths=specification_files(Path(__file__).resolve().parents[2] / "fixtures"))
    demo_data_ensure()
    return live_server.url


def assert_accessible(page: Page) -> None:
    """axe-core (all WCAG 2.2 A/AA rules and best practices) finds nothing on the current page."""
    page.add_script_tag(content=AXE_SCRIPT)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
    ]
    assert not violations, f"axe violations on {page.url}:\n{json.dumps(violations, indent=2)}"
