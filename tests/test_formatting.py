"""Numbers and dates read the way each language writes them, in every file the app makes."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from review_app import formatting

ALMATY = ZoneInfo("Asia/Almaty")


def test_russian_and_kazakh_group_digits_with_a_no_break_space_and_use_decimal_commas():
    for language in ("ru", "kk"):
        assert formatting.number(1_234_567, language) == "1\u00a0234\u00a0567"
        assert formatting.money(1_500_000, language) == "1\u00a0500\u00a0000\u00a0₸"
        assert formatting.percent(0.4567, language) == "45,7"
        assert formatting.percent(0, language) == "0,0"
    assert formatting.number(1_234_567, "en") == "1,234,567"
    assert formatting.percent(0.4567, "en") == "45.7"
    assert formatting.percent(1, "en") == "100.0"
    assert formatting.money(None, "ru") == formatting.number(None, "ru") == "—"


def test_times_are_stored_in_utc_and_shown_on_the_local_clock():
    stored = datetime(2026, 11, 26, 10, 30)  # naive UTC, as the columns hold it
    assert formatting.when(stored, zone=ALMATY) == "26.11.2026 15:30"
    assert formatting.when(stored) == "26.11.2026 10:30"  # already local: shown as it is
    assert formatting.when(stored, formatting.DATE_TIME_SECONDS, zone=ALMATY) == \
        "26.11.2026 15:30:00"
    assert formatting.when(None) == ""
    assert formatting.file_stamp(stored, ALMATY) == "20261126-1530"


def test_a_summarys_file_name_says_the_local_time_its_content_says(app):
    from review_app.summaries.routes import file_name

    summary = SimpleNamespace(area=SimpleNamespace(code="07"), format=SimpleNamespace(
        value="pdf"), as_of=datetime(2026, 11, 26, 21, 5),  # 02:05 next day in Almaty
        is_package=False)
    with app.app_context():
        assert file_name(summary) == "summary-area-07-20261127-0205.pdf"
        summary.area, summary.as_of = None, None
        assert file_name(summary) == "summary-all-areas.pdf"
