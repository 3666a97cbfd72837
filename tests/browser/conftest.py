"""Browser-test helpers. The fixtures (browser, page, demo_site) live in tests/conftest.py so that any
test module can use them without importing them: an imported session fixture would start a second
Playwright and break every other browser test."""

import json
from pathlib import Path

import axe_playwright_python
from playwright.sync_api import Page

AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def assert_accessible(page: Page) -> None:
    """axe-core (all WCAG 2.2 A/AA rules and best practices) finds nothing on the current page."""
    page.add_script_tag(content=AXE_SCRIPT)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
    ]
    assert not violations, f"axe violations on {page.url}:\n{json.dumps(violations, indent=2)}"
