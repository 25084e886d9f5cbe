"""The one codec of keyset ("seek") page cursors: the requirements list, the lead's queue and
the audit log.

A cursor is the last row's sort values, as JSON in URL-safe base64. It comes back in a link
anyone can edit, so :func:`decode` checks every value against the kind its list expects and
refuses what a database would choke on: ids past ``integer``, numbers past ``bigint``,
non-dates, dates with a time zone (the columns are naive UTC), text with control characters.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from review_app.validation import MAX_INT32, MAX_INT64, has_control_characters

#: Longer than any cursor a page makes (a 500-character title is ~700 characters encoded).
MAX_TOKEN = 2000

#: What a position of a cursor holds: "id" (an ``integer`` id), "int" (a ``bigint``), "str",
#: "datetime", or one of a few fixed strings.
Kind = str | Collection[str]


class BadCursor(ValueError):
    """Not a cursor the page made (edited, truncated or from another list)."""


def encode(*values: Any) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values],
                     ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _checked(kind: Kind, value: Any) -> Any:
    if kind in ("id", "int"):
        # bool is an int to Python, never to a cursor.
        low, high = (0, MAX_INT32) if kind == "id" else (-MAX_INT64 - 1, MAX_INT64)
        if type(value) is not int or not low <= value <= high:
            raise BadCursor(value)
        return value
    if kind == "str":
        if not isinstance(value, str) or has_control_characters(value):
            raise BadCursor(value)
        return value
    if kind == "datetime":
        if not isinstance(value, str):
            raise BadCursor(value)
        when = datetime.fromisoformat(value)  # ValueError: caught by decode
        if when.tzinfo is not None:
            raise BadCursor(value)
        return when
    if not isinstance(value, str) or value not in kind:
        raise BadCursor(value)
    return value


def decode(token: str, *kinds: Kind) -> tuple[Any, ...]:
    """The values of ``token``, one per kind, checked.

    :raise BadCursor: when ``token`` is not a cursor of this shape.
    """
    if len(token) > MAX_TOKEN:
        raise BadCursor(token[:20])
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise BadCursor(token)
        return tuple(_checked(kind, value) for kind, value in zip(kinds, values, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        if isinstance(exc, BadCursor):
            raise
        raise BadCursor(token) from exc
