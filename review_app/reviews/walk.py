"""Review mode: one list (My work, the lead's queue, a filtered requirements list), walked
item by item in the list's own filter and order.

Where the person stands is a keyset cursor (``review_app.keyset``: the row's sort values),
never an offset: "the first row at or after this place" still answers when the row itself has
left the list meanwhile (approved by someone else, say), and costs one indexed lookup on late
items as on the first. The place is kept per person and list in Redis, so leaving review mode
and coming back resumes there.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import redis
import sqlalchemy as sa

from review_app import keyset
from review_app.auth.models import User
from review_app.extensions import db
from review_app.redis_conn import get_redis
from review_app.requirements.models import Requirement
from review_app.reviews import lists

log = logging.getLogger("review_app.reviews")

#: How long a place in a list is remembered without being used.
RESUME_TTL_SECONDS = 30 * 24 * 3600

BadCursor = keyset.BadCursor


class Walk:
    """``origin`` as ``user`` may read it, walked one row at a time."""

    def __init__(self, origin: lists.Origin, user: User, found: lists.Scope):
        self.origin, self.user, self.scope = origin, user, found
        #: The place as last kept (read by :meth:`resumed`), so keeping it again is skipped.
        self._kept: str | None = None

    @classmethod
    def of(cls, origin: lists.Origin | None, user: User) -> Walk | None:
        """The walk over ``origin``; None when it is not a list ``user`` may read."""
        origin = lists.usable(origin, user)
        found = lists.scope(origin, user) if origin is not None else None
        return cls(origin, user, found) if found is not None else None

    # Cursors -----------------------------------------------------------------------------------

    def cursor(self, req: Requirement) -> str:
        """``req``'s place in this list, as a cursor for the address bar."""
        return keyset.encode(*self.scope.values(req))

    def decode(self, token: str) -> tuple[Any, ...]:
        """:raise BadCursor: when ``token`` is not a place in a list of this kind."""
        return keyset.decode(token, *self.scope.kinds)

    # Rows --------------------------------------------------------------------------------------

    def _here(self) -> Any:
        return sa.tuple_(*self.scope.columns)

    def _there(self, values: tuple[Any, ...]) -> Any:
        # Typed like the columns: PostgreSQL would take a bare int for ``integer`` and a cost
        # past 2^31 would fail.
        return sa.tuple_(*(sa.literal(v, getattr(c, "type", None))
                           for c, v in zip(self.scope.columns, values, strict=True)))

    def _seek(self, values: tuple[Any, ...] | None, *, forward: bool, inclusive: bool,
              extra: tuple[Any, ...] = ()) -> Requirement | None:
        later = forward != self.scope.descending  # "later in the list" is "greater" ascending
        stmt = sa.select(Requirement).where(*self.scope.where, *extra)
        if values is not None:
            here, there = self._here(), self._there(values)
            if later:
                stmt = stmt.where(here >= there if inclusive else here > there)
            else:
                stmt = stmt.where(here <= there if inclusive else here < there)
        order = [c.asc() if later else c.desc() for c in self.scope.columns]
        return db.session.scalar(stmt.order_by(*order).limit(1))

    def at(self, values: tuple[Any, ...] | None) -> Requirement | None:
        """The first row at or after ``values`` (the list's first row for None)."""
        return self._seek(values, forward=True, inclusive=True)

    def after(self, req: Requirement) -> Requirement | None:
        return self._seek(self.scope.values(req), forward=True, inclusive=False)

    def before(self, req: Requirement) -> Requirement | None:
        return self._seek(self.scope.values(req), forward=False, inclusive=False)

    def next_waiting(self, values: tuple[Any, ...]) -> Requirement | None:
        """The next row after ``values`` that the person can act on now (skip over the rest);
        past the end, the first such row from the list's start (work left behind earlier)."""
        waiting = (lists.actionable(self.user),)
        found = self._seek(values, forward=True, inclusive=False, extra=waiting)
        if found is None:
            found = self._seek(None, forward=True, inclusive=True, extra=waiting)
            if found is not None and self.scope.values(found) == tuple(values):
                return None  # only the row we are on
        return found

    def position(self, req: Requirement) -> tuple[int, int]:
        """(``req``'s 1-based place, rows in the list): "12 of 250", in one counting query."""
        here, there = self._here(), self._there(self.scope.values(req))
        earlier = here > there if self.scope.descending else here < there
        before, total = db.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(sa.case((earlier, 1), else_=0)), 0),
                      sa.func.count())
            .select_from(Requirement).where(*self.scope.where)).one()
        return int(before) + 1, max(int(total), int(before) + 1)

    # Resuming ----------------------------------------------------------------------------------

    def _resume_key(self) -> str:
        digest = hashlib.sha256(self.origin.token.encode()).hexdigest()[:24]
        return f"review-mode:{self.user.id}:{digest}"

    def remember(self, req: Requirement) -> None:
        """Keep ``req`` as where this person stands in this list."""
        cursor = self.cursor(req)
        if cursor == self._kept:
            return
        try:
            get_redis().set(self._resume_key(), cursor, ex=RESUME_TTL_SECONDS)
        except redis.RedisError:
            log.warning("could not keep the place in review mode", exc_info=True)

    def resumed(self) -> tuple[Any, ...] | None:
        """Where this person stood in this list last time, if known."""
        try:
            raw = get_redis().get(self._resume_key())
        except redis.RedisError:
            log.warning("could not read the place in review mode", exc_info=True)
            return None
        if raw is None:
            return None
        self._kept = raw.decode() if isinstance(raw, bytes) else raw
        try:
            return self.decode(self._kept)
        except BadCursor:
            return None
