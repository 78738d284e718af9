"""Browser fixtures: Playwright driving Debian's chromium against a live server (used by tests/e2e and the apps).

The live server runs in the test process (pytest-django's ``live_server``) on the test database; a
real Celery worker reads the same database. Screenshots go to tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TABLET = {"width": 1024, "height": 768}

@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed; `make test` installs Debian's chromium (assbtrack/scripts/services.sh)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make are still
    # synchronous and safe. Only while the browser lives: no other test (or subprocess) inherits it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Journey:
    """A browser tab at tablet size with helpers: log in, go to a path, screenshot a step."""

    def __init__(self, browser, base_url: str, name: str):
        self.context = browser.new_context(viewport=TABLET, base_url=base_url)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.name = name
        self.step = 0
        ARTIFACTS.mkdir(exist_ok=True)

    def go(self, path: str):
        self.page.goto(path)
        return self.page

    def login(self, username: str, password: str) -> None:
        self.go("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)

    def shot(self, label: str) -> Path:
        """A full-page screenshot of the step. Chromium's full-page capture leaves a tall page with a stale
        hit-test (the next click may land nowhere) until the page scrolls again, so the scroll position is
        set again afterwards (by script: a wheel event would change a focused number field)."""
        from playwright.sync_api import Error as PlaywrightError

        self.step += 1
        path = ARTIFACTS / f"{self.name}-{self.step:02d}-{label}.png"
        try:
            scroll_y = self.page.evaluate("window.scrollY")
        except PlaywrightError:  # a page reloading itself (a job's page) is between two loads: top of the page
            scroll_y = 0
        self.page.screenshot(path=str(path), full_page=True)
        try:
            self.page.evaluate("y => { window.scrollTo(0, y + 1); window.scrollTo(0, y); }", scroll_y)
        except PlaywrightError:
            pass  # the page went on to load another (a job page reloading itself): nothing left to scroll
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def journey(browser, live_server, request):
    opened: list[Journey] = []

    def open_journey(name: str | None = None) -> Journey:
        tab = Journey(browser, live_server.url, name or request.node.name)
        opened.append(tab)
        return tab

    yield open_journey
    for tab in opened:
        tab.close()


@pytest.fixture
def demo(transactional_db):
    """The demo project, users and chain, loaded through the services as `make run` does."""
    from assbtrack.tracing.demo import demo_load

    return demo_load()
