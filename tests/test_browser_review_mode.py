"""Review mode in a real Chromium, from the keyboard alone, in Russian and Kazakh: a reviewer
triages twenty requirements with at most six key presses each, a lead approves from the
queue, typed text never triggers a shortcut. Same set-up and skip/fail rules as
tests/browser_support.py."""

from __future__ import annotations

import pytest

from bench.keyboard_triage import triage
from review_app.extensions import db
from review_app.justifications.models import JustificationTemplate
from review_app.requirements.models import Decision, State
from review_app.reviews import workflow
from tests.browser_support import (
    expect,
    pytestmark,  # noqa: F401 - skips the module without a browser (fails in CI)
)
from tests.conftest import PASSWORD, World, reload

pytestmark = [pytestmark, pytest.mark.browser]  # noqa: F811


def keys_ready(page) -> None:
    """Wait until review.js (a deferred script) listens: a key pressed earlier is lost."""
    page.wait_for_selector("html[data-keys='ready']", state="attached")


def keyboard_sign_in(page, user) -> None:
    """Sign in with the keyboard: the e-mail field has the focus on arrival."""
    page.goto("/login")
    expect(page.locator("input[name=email]")).to_be_focused()  # typing before that is lost
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def templates(area) -> list[JustificationTemplate]:
    made = [JustificationTemplate(area_id=area.id, text_kk="Тәуекел жалпы қауіпсіздік "
                                  "қағидаларымен жабылған.",
                                  text_ru="Риск покрыт общими правилами безопасности.",
                                  text_en="The risk is covered by the general safety rules."),
            JustificationTemplate(area_id=None, text_kk="Заңда құқықтық негіз жоқ.",
                                  text_ru="Нет правового основания в законе.",
                                  text_en="No legal basis in a law.")]
    db.session.add_all(made)
    db.session.commit()
    return made


def test_a_reviewer_triages_twenty_requirements_from_the_keyboard_in_russian(
        new_context, world: World, screenshot):  # noqa: F811 - pytest fixtures
    area = world.area("07")
    reviewer = world.user("aigerim", reviewer_in=(area,), language="ru")
    reqs = [world.requirement(area, assignee_id=reviewer.id, title=f"Требование №{n:02d}")
            for n in range(20)]
    area_template, national = templates(area)

    page = new_context().new_page()
    keyboard_sign_in(page, reviewer)
    page.goto("/my-work")
    expect(page.get_by_test_id("review-these")).to_have_text("Рассмотреть по очереди")
    # From the list to review mode with the keyboard: Tab to "Review these", Enter.
    page.get_by_test_id("review-these").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("position")).to_contain_text("1 из 20")
    keys_ready(page)
    screenshot(page, "review-mode-ru")

    # "?" lists the keys; Esc closes the list.
    page.keyboard.press("Shift+Slash")
    expect(page.get_by_role("dialog")).to_contain_text("Клавиши быстрого доступа")
    screenshot(page, "review-mode-keys-ru")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()

    # Typing in the justification never fires a shortcut (q is "legal: yes" elsewhere).
    page.keyboard.press("KeyJ")
    page.keyboard.type("qwe")
    expect(page.locator('input[name="legal"]:checked')).to_have_count(0)
    for _ in "qwe":
        page.keyboard.press("Backspace")
    page.keyboard.press("Escape")  # leaves the field: the keys are shortcuts again

    decisions = triage(page, 20)
    assert max(d["presses"] for d in decisions) <= 6, decisions
    expect(page.get_by_test_id("review-end")).to_be_visible()
    expect(page.locator("#review-live")).to_contain_text("больше ничего не ждёт")

    rows = [reload(r) for r in reqs]
    assert all(r.state == State.PROPOSED for r in rows)
    assert sorted(r.decision.value for r in rows) == sorted(
        [Decision.KEEP] * 7 + [Decision.CANCEL] * 13)
    keep = next(r for r in rows if r.decision == Decision.KEEP)
    assert keep.justification == "Риск покрыт общими правилами безопасности."
    db.session.expire_all()
    assert area_template.usage_count == 7 and national.usage_count == 13


def test_the_live_region_announces_the_next_code_and_the_place_resumes_in_kazakh(
        new_context, world: World, screenshot):  # noqa: F811
    area = world.area("07")
    reviewer = world.user("bolat", reviewer_in=(area,), language="kk")
    reqs = sorted((world.requirement(area, assignee_id=reviewer.id) for _ in range(3)),
                  key=lambda r: r.code)
    templates(area)
    page = new_context().new_page()
    keyboard_sign_in(page, reviewer)
    page.goto("/review?from=my-work")
    expect(page.get_by_test_id("position")).to_contain_text("3 ішінен 1")
    keys_ready(page)
    screenshot(page, "review-mode-kk")
    for key in ("KeyQ", "KeyW", "KeyE", "Digit1", "Control+Enter"):
        page.keyboard.press(key)
    expect(page.locator("#review-live")).to_have_text(f"Сақталды — келесісі: {reqs[1].code}")
    keys_ready(page)
    page.keyboard.press("KeyN")  # on to the third, then away and back
    expect(page.locator("#req-title")).to_have_text(reqs[2].title)
    page.goto("/requirements/")
    page.goto("/review?from=my-work")
    expect(page.locator("#req-title")).to_have_text(reqs[2].title)
    keys_ready(page)
    page.keyboard.press("KeyP")
    expect(page.locator("#req-title")).to_have_text(reqs[1].title)


def test_a_lead_approves_and_returns_from_the_queue_with_the_keyboard(
        new_context, world: World, screenshot):  # noqa: F811
    area = world.area("07")
    reviewer = world.user("dana", reviewer_in=(area,))
    lead = world.user("erlan", lead_in=(area,), language="ru")
    reqs = sorted((world.requirement(area) for _ in range(2)), key=lambda r: r.code)
    for req in reqs:
        workflow.propose(req, reviewer, decision=Decision.CANCEL,
                         tests=workflow.Tests(legal=False, necessary=True,
                                              business_friendly=True),
                         justification="Нет правового основания.", seen_version=req.version)
        db.session.commit()
    page = new_context().new_page()
    keyboard_sign_in(page, lead)
    page.goto("/queue")
    page.get_by_test_id("review-these").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("decision-form")).to_be_visible()
    keys_ready(page)
    screenshot(page, "review-mode-lead-ru")
    first = page.locator("#req-title").inner_text()
    page.keyboard.press("KeyY")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#req-title")).not_to_have_text(first)
    keys_ready(page)
    page.keyboard.press("KeyU")
    page.keyboard.type("Уточните ссылку на закон.")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("review-end")).to_be_visible()
    states = sorted(reload(r).state.value for r in reqs)
    assert states == ["approved", "returned"]
