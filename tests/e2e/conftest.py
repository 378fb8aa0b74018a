"""Fixtures of the end-to-end browser tests (helpers: tests/e2e/browser_support.py).

``browser`` Debian's /usr/bin/chromium, headless, launched by Playwright once per module.
``page``    a new English tab (1400x1000, default timeout ``WAIT_MS``) in its own context.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.browser_support import CHROMIUM, CHROMIUM_ARGS, new_page


@pytest.fixture(scope="module")
def browser() -> Iterator:
    # imported here, not at the top: without Playwright the test modules skip (require_browser)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator:
    tab = new_page(browser)
    yield tab
    tab.context.close()
