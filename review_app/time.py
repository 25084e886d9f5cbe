"""Timestamps are stored as naive UTC everywhere, so SQLite and PostgreSQL agree; people see
them in the installation's time zone (``TIMEZONE``, Asia/Almaty by default)."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """The current moment as a naive UTC datetime (what the columns store)."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_zone(config: Mapping[str, Any] | None = None) -> ZoneInfo:
    """The time zone times are shown in (the current app's, or that of ``config``)."""
    if config is None:
        config = current_app.config
    return ZoneInfo(config["BABEL_DEFAULT_TIMEZONE"])
