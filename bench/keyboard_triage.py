"""Triage requirements in review mode from the keyboard alone, counting key presses.

A decision with a standard justification takes, in review mode: the three tests (one key
each: Q/A, W/S, E/D -- the decision follows the tests), a standard justification (a digit, or
T then a digit), and Ctrl+Enter (counted as one press, a chord). No mouse, no Tab. Free text
(a justification typed by hand, new wording) is not counted; this script types none.

Rerun (seeds a fresh SQLite database with the demo data, serves it with gunicorn, drives
Debian's Chromium): ``.venv/bin/python bench/keyboard_triage.py [--count 20]``. Prints JSON.
The browser test ``tests/test_browser_review_mode.py`` runs :func:`triage` on its own data.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The key sequences of three kinds of decision, in turn; each ends with Ctrl+Enter.
PLANS = (
    ("KeyQ", "KeyW", "KeyE", "Digit1"),          # keep: passes all three tests
    ("KeyA", "KeyW", "KeyE", "Digit2"),          # cancel: not legal
    ("KeyQ", "KeyS", "KeyE", "KeyT", "Digit2"),  # cancel: not necessary; via the template list
)
SUBMIT = "Control+Enter"


def triage(page, count: int) -> list[dict]:
    """Decide ``count`` requirements in the review mode open in ``page`` with keys only.
    Returns, per decision, the keys pressed and the time from Ctrl+Enter to the next item
    shown (ms)."""
    done = []
    for i in range(count):
        if not page.locator("#req-title").count():
            raise RuntimeError(f"no item to decide at {page.url}: "
                               + page.inner_text("main")[:300])
        title = page.locator("#req-title").inner_text()
        keys = [*PLANS[i % len(PLANS)], SUBMIT]
        for key in keys[:-1]:
            page.keyboard.press(key)
        started = time.perf_counter()
        page.keyboard.press(SUBMIT)
        page.wait_for_function(
            "old => { const t = document.getElementById('req-title');"
            " return document.documentElement.dataset.keys === 'ready'"
            " && (t ? t.textContent !== old"
            " : Boolean(document.querySelector('[data-testid=review-end]'))); }",
            arg=title, timeout=10_000)
        done.append({"keys": keys, "presses": len(keys),
                     "next_ms": round((time.perf_counter() - started) * 1000, 1)})
    return done


SEED_TEMPLATES = """
import sqlalchemy as sa
from review_app import create_app
from review_app.extensions import db
from review_app.justifications.models import JustificationTemplate
from review_app.requirements.models import Area
app = create_app()
with app.app_context():
    area = db.session.scalar(sa.select(Area).where(Area.code == "01"))
    for area_id, kk, ru, en in (
        (area.id, "Тәуекел жалпы қауіпсіздік қағидаларымен жабылған.",
         "Риск покрыт общими правилами безопасности.",
         "The risk is covered by the general safety rules."),
        (None, "Заңда құқықтық негіз жоқ.", "Нет правового основания в законе.",
         "No legal basis in a law.")):
        db.session.add(JustificationTemplate(area_id=area_id, text_kk=kk, text_ru=ru,
                                             text_en=en))
    db.session.commit()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--requirements", type=int, default=10_000)
    parser.add_argument("--reviewer", default="reviewer01a@demo.kz")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from http_bench import BIN, ROOT, run, start_gunicorn, stop  # noqa: I001 - a sibling script
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="review-keys-"))
    env = {**os.environ, "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING",
           "DATABASE_URL": f"sqlite:///{workdir}/bench.db",
           "REDIS_URL": os.environ.get("REDIS_URL", "")}
    server = None
    try:
        run([str(BIN / "flask"), "db", "upgrade"], env)
        run([str(BIN / "flask"), "seed-demo", "--requirements", str(args.requirements)], env)
        subprocess.run([str(BIN / "python"), "-c", SEED_TEMPLATES], cwd=ROOT, env=env,
                       check=True)
        server, client = start_gunicorn(env, 2)
        base = f"http://127.0.0.1:{client.port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--headless", "--no-sandbox"])
            page = browser.new_page(base_url=base, locale="ru-RU")
            page.goto("/login")
            page.fill("#email", args.reviewer)
            page.fill("#password", "demo12345")
            page.keyboard.press("Enter")
            page.wait_for_url("**/requirements/**")
            page.goto("/review?start=1&from=" + "list%3Farea%3D01%26state%3Dunreviewed")
            if not page.locator("#req-title").count():
                raise SystemExit(f"review mode did not open: {page.url}\n"
                                 + page.inner_text("main")[:500])
            decisions = triage(page, args.count)
            browser.close()
        presses = [d["presses"] for d in decisions]
        times = [d["next_ms"] for d in decisions]
        print(json.dumps({
            "decisions": len(decisions), "max_presses": max(presses),
            "mean_presses": round(statistics.mean(presses), 2),
            "browser_submit_to_next_p50_ms": round(statistics.median(times), 1),
            "browser_submit_to_next_max_ms": max(times)}, indent=2))
    finally:
        stop(server)


if __name__ == "__main__":
    main()
