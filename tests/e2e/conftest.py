"""Browser fixtures: Playwright (from PyPI) driving Debian's Chromium, never a downloaded one."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from campaigns.audience_import import run_import
from campaigns.tasks import import_audience

CHROMIUM = Path(os.environ.get("PUSHDECK_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Chromium's own traffic is refused on a closed network; these flags keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: object, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context on the live server, in a Shanghai time zone; the test fails
    if the page logs an error (a CSP violation, a missing file, a script error) other than
    the HTTP statuses it declares with ``@pytest.mark.expected_http_errors(403, ...)``."""
    context = browser.new_context(
        base_url=str(live_server),
        timezone_id="Asia/Shanghai",
        viewport={"width": 1360, "height": 860},
    )
    page = context.new_page()
    errors: list[str] = []

    def keep_error(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", keep_error)
    yield page
    context.close()
    marker = request.node.get_closest_marker("expected_http_errors")
    expected = tuple(f"status of {status} " for status in (marker.args if marker else ()))
    unexpected = [error for error in errors if not any(status in error for status in expected)]
    assert unexpected == [], f"the page logged errors: {unexpected}"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The import runs in a thread, as on a Celery worker, once the test sets the event:
    the page is seen waiting first, then following the import to its end."""
    go = threading.Event()
    threads: list[threading.Thread] = []

    def work(import_id: int) -> None:
        go.wait(timeout=30)
        try:
            run_import(import_id)
        finally:
            connection.close()

    def delay(import_id: int) -> None:
        threads.append(threading.Thread(target=work, args=(import_id,)))
        threads[-1].start()

    monkeypatch.setattr(import_audience, "delay", delay)
    yield go
    go.set()
    for thread in threads:
        thread.join(timeout=30)
