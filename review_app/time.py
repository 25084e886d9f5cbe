"""Timestamps are stored as naive UTC everywhere, so SQLite and PostgreSQL agree."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current moment as a naive UTC datetime (what the columns store)."""
    return datetime.now(UTC).replace(tzinfo=None)
