"""User stories in a real Chromium: sign in, propose, approve, languages, stale edits.

Each test serves its own migrated, empty database over HTTP (werkzeug, in a thread) and drives
Debian's Chromium through Playwright. The people and requirements a story needs are created with
``world`` beforehand; what the browser did is checked in the database with ``reload`` afterwards.

Without Playwright or /usr/bin/chromium the tests are skipped with the reason, except in CI
(``CI=true``), where they fail: CI must never pass by silently not running them.

Screenshots of the main pages are saved in the test's tmp dir and, when ``SCREENSHOT_DIR`` is
set, copied there for a person to look at.
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from review_app.auth.models import User
from review_app.extensions import db
from review_app.requirements.models import Decision, State
from tests.conftest import PASSWORD, World, events, reload

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking",
                 "--disable-gpu", "--no-first-run", "--disable-component-update",
                 "--disable-sync"]
IN_CI = os.environ.get("CI") == "true"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "review_app" / "translations"
TIMEOUT_MS = 5_000

try:
    from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
except ImportError:
    MISSING: str | None = ("Playwright for Python is not installed: "
                           ".venv/bin/pip install -e '.[dev]'")
else:
    MISSING = None
if MISSING is None and not os.access(CHROMIUM, os.X_OK):
    MISSING = f"Chromium not installed at {CHROMIUM}: apt-get install -y chromium"

# Outside CI a missing browser skips (with the reason in the summary); in CI the `browser`
# fixture fails every test instead.
pytestmark = pytest.mark.skipif(MISSING is not None and not IN_CI, reason=MISSING or "")

NEW_WORDING = "Субъекты обязаны обеспечить наличие огнетушителей и планов эвакуации на объекте."


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


# Stories --------------------------------------------------------------------------------------

@pytest.mark.browser
def test_reviewer_proposes_a_revision_and_the_lead_approves_it(page: Page, world: World,
                                                                screenshot):
    area = world.area()
    rita = world.user("rita", reviewer_in=(area,))
    leo = world.user("leo", lead_in=(area,))
    req = world.requirement(area)
    world.requirement(area, title="Требование о санитарных нормах")
    # Matches the search too, but in an area Rita does not work in.
    world.requirement(world.area("11", "Лицензирование"), title="Лицензия пожарного аудитора")

    page.goto("/login")
    screenshot(page, "01-login")
    sign_in(page, rita)

    # The list, searched.
    page.get_by_role("link", name="Requirements", exact=True).click()
    page.get_by_label("Search in code, title and text").fill("пожар")
    page.get_by_role("button", name="Apply").click()
    rows = page.get_by_test_id("requirements").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("total")).to_contain_text("1 requirement")
    screenshot(page, "02-requirements-list")
    rows.get_by_role("link", name=req.title).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(req.code)
    expect(status(page)).to_contain_text("unreviewed")

    # The proposal form: the tests, the decision, the reasons, the new wording.
    answer(page, "legal", "Yes")
    answer(page, "necessary", "Yes")
    answer(page, "business_friendly", "No")
    expect(page.locator("#suggestion")).to_contain_text("The tests suggest")
    expect(page.locator("#suggestion")).to_contain_text("revise")
    choose(page, "Revise")
    expect(page.locator("#deviation-note")).to_be_hidden()
    page.get_by_label("Justification").fill("Достаточно одного огнетушителя на объект.")
    page.get_by_label("Proposed new wording").fill(NEW_WORDING)
    preview = page.locator("#wording-preview")
    expect(preview.locator("ins", has_text="эвакуации")).to_be_visible()
    expect(preview.locator("del", has_text="предпринимательства")).to_be_visible()
    screenshot(page, "03-requirement-proposal-form")
    submit_proposal(page)

    expect(page.get_by_role("status")).to_contain_text("Your proposal was recorded")
    # Opened from the searched list, whose only item this was: back to that list.
    expect(page.get_by_role("status")).to_contain_text("Nothing more in this list")
    expect(page).to_have_url(re.compile(r"/requirements/\?q="))
    page.goto(f"/requirements/{req.id}")
    expect(status(page)).to_contain_text("proposed")
    history = page.get_by_test_id("history")
    expect(history.locator("li")).to_have_count(1)
    expect(history).to_contain_text("Rita proposed")
    expect(page.get_by_test_id("wording-diff").locator("ins").first).to_be_visible()
    expect(page.get_by_test_id("proposal-form")).to_have_count(0)

    # The lead approves.
    sign_out(page)
    sign_in(page, leo)
    page.goto(f"/requirements/{req.id}")
    expect(status(page)).to_contain_text("proposed")
    page.get_by_label("Comment for the reviewers").fill("Согласен.")
    page.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("status")).to_contain_text("Approved")
    expect(status(page)).to_contain_text("approved")
    expect(history.locator("li")).to_have_count(2)
    expect(history.locator("li").nth(0)).to_contain_text("Leo approved")
    expect(history.locator("li").nth(0)).to_contain_text("Согласен.")
    expect(history.locator("li").nth(1)).to_contain_text("Rita proposed")
    expect(page.get_by_test_id("current-proposal")).to_contain_text("Approved by")
    screenshot(page, "04-requirement-approved")

    saved = reload(req)
    assert saved.state == State.APPROVED
    assert saved.decision == Decision.REVISE
    assert (saved.test_legal, saved.test_necessary, saved.test_business_friendly) == (
        True, True, False)
    assert saved.new_wording == NEW_WORDING
    assert saved.justification == "Достаточно одного огнетушителя на объект."
    assert saved.deviation_reason is None
    assert (saved.proposed_by_id, saved.decided_by_id) == (rita.id, leo.id)
    assert saved.version == 3
    assert [(e.action.value, e.actor_id) for e in events(req)] == [
        ("propose", rita.id), ("approve", leo.id)]


@pytest.mark.browser
def test_a_decision_against_the_tests_needs_a_reason(page: Page, world: World):
    area = world.area()
    rita = world.user("rita", reviewer_in=(area,))
    req = world.requirement(area)
    sign_in(page, rita)
    page.goto(f"/requirements/{req.id}")

    note = page.locator("#deviation-note")
    answer(page, "legal", "Yes")
    answer(page, "necessary", "No")
    answer(page, "business_friendly", "Yes")
    expect(page.locator("#suggestion")).to_contain_text("cancel")
    expect(note).to_be_hidden()
    choose(page, "Keep")
    expect(note).to_be_visible()
    expect(page.locator("#deviation")).to_have_class(re.compile(r"\battention\b"))
    expect(page.locator("#wording")).to_be_hidden()  # only a revision has new wording
    page.get_by_label("Justification").fill("Огнетушители спасают жизни.")
    submit_proposal(page)

    error = page.get_by_test_id("error")
    expect(error).to_contain_text("The tests suggest")
    expect(error).to_contain_text("Explain why")
    saved = reload(req)
    assert saved.state == State.UNREVIEWED
    assert saved.decision is None
    assert events(req) == []

    # What was entered is still there; add the reason and send it again.
    expect(page.get_by_label("Justification")).to_have_value("Огнетушители спасают жизни.")
    expect(page.get_by_role("group", name="Decision").get_by_label("Keep")).to_be_checked()
    expect(note).to_be_visible()
    page.get_by_label("Why the decision differs").fill("Необходимость подтверждена МЧС.")
    submit_proposal(page)

    expect(status(page)).to_contain_text("proposed")
    expect(page.get_by_test_id("error")).to_have_count(0)
    expect(page.get_by_test_id("current-proposal")).to_contain_text(
        "Необходимость подтверждена МЧС.")
    saved = reload(req)
    assert saved.state == State.PROPOSED
    assert saved.decision == Decision.KEEP
    assert saved.test_necessary is False
    assert saved.deviation_reason == "Необходимость подтверждена МЧС."
    assert len(events(req)) == 1


@pytest.mark.browser
def test_the_chosen_language_sticks(page: Page, world: World):
    area = world.area()
    rita = world.user("rita", reviewer_in=(area,))
    req = world.requirement(area)
    sign_in(page, rita)
    expect(html_lang(page)).to_have_attribute("lang", "en")

    for language, button in (("ru", "Русский"), ("kk", "Қазақша")):
        page.goto("/requirements/")
        page.get_by_role("button", name=button).click()
        expect(html_lang(page)).to_have_attribute("lang", language)
        expect(page.get_by_role("button", name=button)).to_have_attribute("aria-pressed", "true")
        expect(page).to_have_url(re.compile(r"/requirements/"))  # back where they were

        # Another page, reached by a link: still the chosen language.
        page.locator(f'a[href="/requirements/{req.id}?from=list"]').first.click()
        expect(page.get_by_test_id("status")).to_be_visible()
        expect(html_lang(page)).to_have_attribute("lang", language)

        translated = compiled_translation(language, "Requirements")
        if translated is not None:  # only once the catalog is compiled and has the word
            expect(page.locator(".mainnav a").first).not_to_have_text("Requirements")

        db.session.expire_all()
        assert db.session.get(User, rita.id).language == language  # on the account, too


@pytest.mark.browser
def test_a_stale_proposal_is_refused_and_shows_what_changed(new_context, world: World):
    area = world.area()
    anna = world.user("anna", reviewer_in=(area,))
    boris = world.user("boris", reviewer_in=(area,))
    req = world.requirement(area)
    a, b = new_context().new_page(), new_context().new_page()
    for page, person in ((a, anna), (b, boris)):
        sign_in(page, person)
        page.goto(f"/requirements/{req.id}")
        expect(status(page)).to_contain_text("unreviewed")

    # Anna proposes to cancel.
    answer(a, "legal", "No")
    answer(a, "necessary", "Yes")
    answer(a, "business_friendly", "Yes")
    choose(a, "Cancel")
    a.get_by_label("Justification").fill("Нет правового основания.")
    submit_proposal(a)
    expect(status(a)).to_contain_text("proposed")

    # Boris, still looking at the old page, proposes to keep.
    answer(b, "legal", "Yes")
    answer(b, "necessary", "Yes")
    answer(b, "business_friendly", "Yes")
    choose(b, "Keep")
    b.get_by_label("Justification").fill("Требование обосновано.")
    submit_proposal(b)

    expect(b.get_by_test_id("error")).to_contain_text(
        "Someone else changed this requirement")
    expect(status(b)).to_contain_text("proposed")
    current = b.get_by_test_id("current-proposal")
    expect(current).to_contain_text("cancel")
    expect(current).to_contain_text("Нет правового основания.")
    expect(current).to_contain_text("Anna")
    expect(b.get_by_test_id("proposal-form")).to_have_count(0)

    saved = reload(req)
    assert (saved.decision, saved.proposed_by_id) == (Decision.CANCEL, anna.id)
    assert [e.actor_id for e in events(req)] == [anna.id]
