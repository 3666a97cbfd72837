"""Browser-test helpers. The fixtures (browser, page, demo_site) live in tests/conftest.py so that any
test module can use them without importing them: an imported session fixture would start a second
Playwright and break every other browser test. The one fixture here applies by itself to every test in
this folder: it fails the test if the Content Security Policy refuses anything on a page it drives."""

import json
from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import Page

AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")

CSP = "Content Security Policy"
# Chromium logs what the policy refuses; this listener, installed before any script of the page, logs it too.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  `Content Security Policy violation: ${e.violatedDirective} refused ${e.blockedURI || "inline"}`));
"""


def csp_violations(page: Page) -> list[str]:
    """From now on, every console message about the Content Security Policy on `page`."""
    found: list[str] = []
    page.add_init_script(REPORT_CSP_VIOLATIONS)
    page.on("console", lambda message: found.append(f"{page.url}: {message.text}") if CSP in message.text else None)
    return found


@pytest.fixture(autouse=True)
def no_csp_violations(page: Page):
    """Every browser test also proves the pages it drives break no rule of the Content Security Policy."""
    found = csp_violations(page)
    yield
    assert not found, "\n".join(found)


def assert_accessible(page: Page) -> None:
    """axe-core (all WCAG 2.2 A/AA rules and best practices) finds nothing on the current page."""
    page.evaluate(AXE_SCRIPT)  # not add_script_tag: the Content Security Policy refuses inline scripts
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
    ]
    assert not violations, f"axe violations on {page.url}:\n{json.dumps(violations, indent=2)}"
