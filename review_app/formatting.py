"""Numbers and dates as people read them, in one place, on Babel's locale data.

Pure (no Flask): the summary writers, which run in workers, call it with the summary's language;
exports and views call it with the current one. Kazakh and Russian group digits with a no-break
space and write decimals with a comma ("45,7"), English with "," and "." ("45.7"); every
language here writes dates day first, as the forms on the screens do.

Times are stored as naive UTC; :func:`local` turns them into the installation's time zone
before they are shown or put into a file name, so a file's name and its content agree.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, tzinfo

from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal as _babel_decimal
from babel.numbers import get_group_symbol, get_minus_sign_symbol

#: The patterns every file and page uses (Unicode/CLDR patterns, as Babel takes them).
DATE = "dd.MM.yyyy"
DATE_TIME = "dd.MM.yyyy HH:mm"
DATE_TIME_SECONDS = "dd.MM.yyyy HH:mm:ss"
FILE_STAMP = "yyyyMMdd-HHmm"


def number(value: int | float | None, language: str) -> str:
    """12345 -> "12 345" (ru, kk) or "12,345" (en); None -> "—"."""
    if value is None:
        return "—"
    if type(value) is int and (signs := _integer_signs(language)) is not None:
        group, minus = signs
        text = f"{abs(value):,}".replace(",", group)
        return minus + text if value < 0 else text
    return _babel_decimal(value, locale=language)


#: Whole numbers :func:`_integer_signs` checks the quick way against Babel with.
_PROBES = (0, 7, 999, 1000, 1234, 12345, 999999, 1234567, 10**15 + 1, -1, -1234, -1234567)


@functools.cache
def _integer_signs(language: str) -> tuple[str, str] | None:
    """The digit-group separator and minus sign of ``language``, when grouping whole numbers by
    three with them gives exactly what Babel gives (checked once per language); else None.

    Babel parses the locale and its pattern on every call: ~40 µs a number, and a list page
    shows about a hundred of them.
    """
    try:
        group, minus = get_group_symbol(language), get_minus_sign_symbol(language)
    except (ValueError, LookupError):
        return None
    for value in _PROBES:
        text = f"{abs(value):,}".replace(",", group)
        if (minus + text if value < 0 else text) != _babel_decimal(value, locale=language):
            return None
    return group, minus


def money(value: int | None, language: str) -> str:
    """An amount in tenge: "1 500 000 ₸"; None -> "—" (no estimate)."""
    return "—" if value is None else number(value, language) + "\u00a0₸"


def percent(fraction: float, language: str) -> str:
    """0.4567 -> "45,7" (ru, kk) or "45.7" (en): one decimal, as the reports print shares."""
    return _babel_decimal(round(fraction * 100, 1), format="0.0", locale=language)


def local(moment: datetime, zone: tzinfo) -> datetime:
    """A stored naive-UTC ``moment`` (or an aware one) as the wall-clock time in ``zone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def when(moment: datetime | date | None, pattern: str = DATE_TIME, *,
         zone: tzinfo | None = None) -> str:
    """``moment`` as ``pattern`` shows it ("" for None). With ``zone``, ``moment`` is taken as
    stored (UTC) and shown in ``zone``; without it, it is shown as it is."""
    if moment is None:
        return ""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    if zone is not None:
        moment = local(moment, zone)
    # Babel would convert an aware or naive time to UTC first: give it the wall-clock digits.
    return _babel_datetime(moment.replace(tzinfo=None), pattern, locale="en")


def file_stamp(moment: datetime, zone: tzinfo) -> str:
    """"20261126-1530" for a file name, in ``zone``'s wall-clock time (what the file says)."""
    return when(moment, FILE_STAMP, zone=zone)
