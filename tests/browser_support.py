"""What the browser tests share, registered as a pytest plugin (``tests/conftest.py``): the
fixtures (``browser``, ``live_server``, ``new_context``, ``page``, ``screenshot``) reach every
test by name, and the steps a person takes (``sign_in`` ...) are imported from here.

Each test serves its own migrated, empty database over HTTP (werkzeug, in a thread) and drives
Debian's Chromium through Playwright. The people and requirements a story needs are created with
``world`` beforehand; what the browser did is checked in the database with ``reload`` afterwards.

Without Playwright or /usr/bin/chromium the tests are skipped with the reason, except in CI
(``CI=true``), where they fail: CI must never pass by silently not running them. A browser test
module takes the skip with ``from tests.browser_support import pytestmark``.

Screenshots of the main pages are saved in the test's tmp dir and, when ``SCREENSHOT_DIR`` is
set, copied there for a person to look at.
"""

from __future__ import annotations

import gettext
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from review_app.auth.models import User
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking",
                 "--disable-gpu", "--no-first-run", "--disable-component-update",
                 "--disable-sync"]
IN_CI = os.environ.get("CI") == "true"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "review_app" / "translations"
TIMEOUT_MS = 5_000

try:
    from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
except ImportError:  # the modules still import (and then skip, or fail in CI)
    BrowserContext = Page = expect = sync_playwright = None  # type: ignore[assignment,misc]
    MISSING: str | None = ("Playwright for Python is not installed: "
                           ".venv/bin/pip install -e '.[dev]'")
else:
    MISSING = None
if MISSING is None and not os.access(CHROMIUM, os.X_OK):
    MISSING = f"Chromium not installed at {CHROMIUM}: apt-get install -y chromium"

# Outside CI a missing browser skips (with the reason in the summary); in CI the `browser`
# fixture fails every test instead.
pytestmark = pytest.mark.skipif(MISSING is not None and not IN_CI, reason=MISSING or "")


# Fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if MISSING is not None:
        pytest.fail(f"CI=true and browser tests cannot run: {MISSING}", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class _RequestHandler(WSGIRequestHandler):
    #: An idle keep-alive connection gives up its thread after this long, so stopping the
    #: server can never wait for a browser that still holds a connection open.
    timeout = 10


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The ``app`` fixture's Flask app on http://127.0.0.1:<free port>, for this test only."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_RequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()  # joins the request threads and closes the listening socket
        thread.join(timeout=5)


@pytest.fixture
def new_context(browser, live_server) -> Iterator[Callable[[], BrowserContext]]:
    """Make fresh browser contexts (separate cookies: separate people), English by default.

    A response with status 500 or more (the server crashed), an uncaught JavaScript error or
    anything the Content-Security-Policy blocked fails the test.
    """
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def make() -> BrowserContext:
        context = browser.new_context(base_url=live_server, locale="en-US",
                                      viewport={"width": 1366, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}")
                   if r.status >= 500 else None)
        context.on("weberror", lambda e: problems.append(f"JavaScript: {e.error}"))
        # The strict Content-Security-Policy must block nothing our own pages do.
        context.on("console", lambda m: problems.append(f"CSP: {m.text}")
                   if "Content Security Policy" in m.text else None)
        contexts.append(context)
        return context

    yield make
    # Close before the server stops, so no keep-alive connection holds a request thread open.
    for context in contexts:
        context.close()
    assert not problems, f"the pages went wrong: {problems}"


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()


@pytest.fixture
def screenshot(tmp_path) -> Callable[[Page, str], Path]:
    """Save a full-page screenshot in the tmp dir, and copy it to $SCREENSHOT_DIR if set."""
    shots = tmp_path / "screenshots"
    shots.mkdir()
    target = os.environ.get("SCREENSHOT_DIR")

    def take(page: Page, name: str) -> Path:
        path = shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(target) / path.name)
        return path

    return take


# Steps a person takes -------------------------------------------------------------------------

def sign_in(page: Page, user: User) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def answer(page: Page, question: str, value: str) -> None:
    """Tick Yes/No for one of the three tests (legal, necessary, business_friendly)."""
    page.locator(f'fieldset[data-question="{question}"]').get_by_label(value, exact=True).check()


def choose(page: Page, decision: str) -> None:
    page.get_by_role("group", name="Decision").get_by_label(decision, exact=True).check()


def submit_proposal(page: Page) -> None:
    page.get_by_role("button", name="Submit proposal").click()


def status(page: Page):
    return page.get_by_test_id("status")


def html_lang(page: Page):
    return page.locator("html")


def compiled_translation(language: str, msgid: str) -> str | None:
    """``msgid`` in the compiled catalog of ``language``; None if not compiled or translated."""
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo"
    if not path.exists():
        return None
    with path.open("rb") as f:
        text = gettext.GNUTranslations(f).gettext(msgid)
    return text if text != msgid else None
