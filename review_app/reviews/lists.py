"""The list a requirement page was opened from, and the next item of it to work on.

A page opened from the requirements list, the lead's queue or "My work" carries that list as
``from`` (its kind and its filter and sort, never a page cursor); the forms pass it on as a
hidden field. After a proposal or decision the person goes on to the next requirement of the
same list, in the same order, that they can still act on -- found by keyset, the row after
this one, like the list's own pages -- instead of being left on the item they just finished.

``from`` is user input: anything that is not a list this user may read is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask import g, has_request_context, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from review_app import permissions
from review_app.auth.models import User
from review_app.extensions import db
from review_app.requirements import listing
from review_app.requirements.forms import parse_filters
from review_app.requirements.models import Requirement, State
from review_app.requirements.queries import assignable_people, visible_areas
from review_app.reviews.models import IndependentProposal

#: List kinds, and the page each one is.
ENDPOINTS = {"list": "requirements.index", "queue": "leads.queue", "my-work": "leads.my_work"}
#: The query string keys a list's order depends on: its filters and its sort.
KEYS = ("area", "state", "decision", "assignee", "body", "q", "sort")
MAX_LENGTH = 600

#: My work's order. migrations/versions/0008_lists1m.py indexes exactly this expression: change
#: both or the index is no longer used.
_my_work_rank = sa.case((Requirement.state == State.RETURNED, 0),
                        (Requirement.state == State.UNREVIEWED, 1), else_=2)


def _rank_of(req: Requirement) -> int:
    return {State.RETURNED: 0, State.UNREVIEWED: 1}.get(req.state, 2)


@dataclass(frozen=True)
class Origin:
    """A list, as the ``from`` parameter names it: ``queue?area=07&q=огнетушители``."""

    kind: str
    args: tuple[tuple[str, str], ...]

    @property
    def token(self) -> str:
        return self.kind + ("?" + urlencode(self.args) if self.args else "")

    def url(self) -> str:
        """Back to the list itself (its first page)."""
        return url_for(ENDPOINTS[self.kind], **dict(self.args))


def origin_from(endpoint: str | None, args) -> Origin | None:
    """The origin for a list page being shown (``request.endpoint``, ``request.args``)."""
    kind = next((k for k, e in ENDPOINTS.items() if e == endpoint), None)
    if kind is None:
        return None
    return Origin(kind, tuple((k, args[k]) for k in KEYS if args.get(k)))


def parse(raw: str | None) -> Origin | None:
    """Read ``from``; None for anything that is not one of our lists with known keys."""
    if not raw or len(raw) > MAX_LENGTH:
        return None
    kind, _sep, query = raw.partition("?")
    if kind not in ENDPOINTS:
        return None
    try:
        pairs = parse_qsl(query, strict_parsing=bool(query))
    except ValueError:
        return None
    if any(k not in KEYS for k, _v in pairs) or len({k for k, _v in pairs}) != len(pairs):
        return None
    return Origin(kind, tuple((k, v) for k, v in pairs if v))


def usable(origin: Origin | None, user: User) -> Origin | None:
    """``origin`` if it is a list ``user`` may open with these filters, else None (a link
    back to it would only show an error)."""
    if origin is None:
        return None
    if origin.kind == "queue" and not permissions.can_use_queue(user):
        return None
    if origin.kind == "my-work":
        return origin if permissions.proposing_area_ids(user) else None
    return origin if _filters(origin, user) is not None else None


def _filters(origin: Origin, user: User) -> listing.Filters | None:
    """The origin's filters, parsed once per request (a review-mode answer asks for them
    four times: is the list usable, its order, the page's origin, the next item)."""
    memo = g.setdefault("list_filters", {}) if has_request_context() else {}
    key = (origin, user.id)
    if key not in memo:
        args = dict(origin.args)
        # The areas and people are only there to check an area or assignee filter: not
        # loaded for a list without one (a few ms of every review-mode answer).
        filters = parse_filters(
            MultiDict(origin.args), visible_areas() if "area" in args else [],
            assignable_people(permissions.visible_area_ids(user)) if "assignee" in args
            else [])
        memo[key] = None if filters.errors else filters
    return memo[key]


def from_request() -> Origin | None:
    """The list the current page was opened from (``from``, in the form or the address), if
    it is one the current user may read."""
    return usable(parse(request.values.get("from")), current_user)


#: Stands for the id while a list page's link pattern is built once (``_detail_pattern``).
_ID_MARK = 2147483647


def detail_url(requirement_id: int, origin: Origin | None = None, **extra: Any) -> str:
    """A requirement's page, carrying the list it is opened from (the current list page's
    when not given) so that its forms can go on to the next item."""
    if origin is None and has_request_context():
        if not extra:  # a list page's rows: two links each, built from one pattern
            head, tail = _detail_pattern()
            return f"{head}{int(requirement_id)}{tail}"
        origin = origin_from(request.endpoint, request.args)
    if origin is not None:
        extra["from"] = origin.token
    return url_for("requirements.detail", requirement_id=requirement_id, **extra)


def _detail_pattern() -> tuple[str, str]:
    """What comes before and after the id in the current list page's requirement links,
    made by ``url_for`` once per request: a 50-row page asked it 100 times (~4 ms of a list
    page's ~20 ms of CPU)."""
    this = request._get_current_object()  # g may outlive one request (an app context held)
    memo = g.get("detail_url_pattern")
    if memo is None or memo[0] is not this:
        origin = origin_from(request.endpoint, request.args)
        url = url_for("requirements.detail", requirement_id=_ID_MARK,
                      **({"from": origin.token} if origin is not None else {}))
        path, mark, query = url.partition("?")
        memo = g.detail_url_pattern = (this, (path.removesuffix(str(_ID_MARK)), mark + query))
    return memo[1]


def review_url(origin: Origin | None = None, **extra: Any) -> str:
    """Review mode over ``origin`` (the list page being shown when not given); ``at``: a
    place in it (a cursor), ``item``: one requirement's id."""
    if origin is None and has_request_context():
        origin = origin_from(request.endpoint, request.args)
    if origin is not None:
        extra["from"] = origin.token
    return url_for("reviews.review_mode", **extra)


@dataclass(frozen=True)
class Scope:
    """A list's rows and order, independent of any row: what review mode walks through."""

    where: list[sa.ColumnElement[bool]]
    columns: tuple[Any, ...]
    descending: bool
    #: How each column's value travels in a keyset cursor (``keyset.decode`` kinds).
    kinds: tuple[Any, ...]
    #: A row's values of ``columns``, as the database compares them.
    values: Any


def scope(origin: Origin, user: User) -> Scope | None:
    """The list's filter and order for ``user``; None when the filters are not valid for
    them (then there is no "next", only the list)."""
    if origin.kind == "my-work":
        return Scope([Requirement.assignee_id == user.id, Requirement.state != State.APPROVED],
                     (_my_work_rank, Requirement.code), False, ("int", "str"),
                     lambda r: (_rank_of(r), r.code))
    filters = _filters(origin, user)
    if filters is None:
        return None
    if origin.kind == "queue":
        key = listing.SORTS["waiting"]
        where = [permissions.decidable_filter(user), Requirement.state == State.PROPOSED]
    else:
        key = listing.SORTS[filters.sort]
        where = [permissions.visible_area_filter(user)]
    return Scope([*where, *filters.where(user.id), *key.joins], (key.column, key.row_key),
                 key.descending, (key.kind, "id"), lambda r: (key.value(r), r.id))


@dataclass(frozen=True)
class _Order:
    where: list[sa.ColumnElement[bool]]
    columns: tuple[Any, ...]
    descending: bool
    values: tuple[Any, ...]


def _order(origin: Origin, user: User, req: Requirement) -> _Order | None:
    """The list's filter and order, and ``req``'s place in it."""
    found = scope(origin, user)
    if found is None:
        return None
    return _Order(found.where, found.columns, found.descending, found.values(req))


def actionable(user: User) -> sa.ColumnElement[bool]:
    """Requirements ``user`` can do something with now: propose on (not waiting for their own
    independent proposal's partner), or decide (not their own proposal)."""
    mine_this_round = sa.exists().where(
        IndependentProposal.requirement_id == Requirement.id,
        IndependentProposal.review_round == Requirement.review_round,
        IndependentProposal.reviewer_id == user.id)
    areas = permissions.proposing_area_ids(user)
    to_propose = (sa.and_(Requirement.area_id.in_(areas),
                          Requirement.state.in_((State.UNREVIEWED, State.RETURNED)))
                  if areas else sa.false())
    to_decide = sa.and_(Requirement.state == State.PROPOSED, permissions.decidable_filter(user),
                        sa.func.coalesce(Requirement.proposed_by_id, 0) != user.id)
    return sa.and_(sa.or_(to_propose, to_decide), ~mine_this_round)


class Place:
    """Where ``req`` stood in ``origin`` before the person acted on it (acting changes the
    very values the list is sorted by, like the time of the last change)."""

    def __init__(self, origin: Origin, user: User, req: Requirement):
        self.origin, self.user = origin, user
        self.order = _order(origin, user, req)

    def next(self) -> Requirement | None:
        """The next requirement of the list after this place that the user can act on."""
        if self.order is None:
            return None
        o = self.order
        here = sa.tuple_(*o.columns)
        there = sa.tuple_(*(sa.literal(v) for v in o.values))
        stmt = (sa.select(Requirement)
                .where(*o.where, actionable(self.user), here < there if o.descending
                       else here > there)
                .order_by(*(c.desc() if o.descending else c.asc() for c in o.columns))
                .limit(1))
        return db.session.scalar(stmt)
