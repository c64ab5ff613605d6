"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, plus screenshots."""

import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import sync_playwright

from tests.sandbox_process import ARTIFACTS

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around
# it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ARTIFACTS / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _page(browser, viewport, **options):
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    console_errors = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.console_errors = console_errors
    return context, page


@pytest.fixture
def page(browser):
    context, page = _page(browser, DESKTOP)
    yield page
    context.close()
    assert_no_csp_violation(page)


@pytest.fixture
def phone_page(browser):
    context, page = _page(browser, PHONE, is_mobile=True, has_touch=True)
    yield page
    context.close()
    assert_no_csp_violation(page)


@pytest.fixture
def axe_pages(browser):
    """A desktop and a phone page for axe-core, which sets inline styles as it measures (so
    these two do not enforce the CSP; every other browser test does)."""
    desktop, desktop_page = _page(browser, DESKTOP, bypass_csp=True)
    phone, phone_page = _page(browser, PHONE, is_mobile=True, has_touch=True, bypass_csp=True)
    yield desktop_page, phone_page
    desktop.close()
    phone.close()


def assert_no_csp_violation(page):
    """Every browser test also checks the Content-Security-Policy: Chromium reports each thing
    it refused on the console."""
    refused = [e for e in page.console_errors if "Content Security Policy" in e]
    assert refused == [], refused


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under test-artifacts/screenshots/ for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="session")
def harness_url():
    """A static page on localhost that loads the Stripe.js stand-in, like a product page would."""

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = partial(QuietHandler, directory=str(Path(__file__).parent / "harness"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()


@pytest.fixture
def app(live_server, transactional_db, sandbox_settings, sandbox):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return live_server.url
