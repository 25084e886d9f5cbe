"""Does every requirement's cached review data say what its history says?

A requirement row caches its review events: state, decision, the proposal, who decided and
when, the assignee, the review round and the version. reviews/workflow.py keeps the two in
step; anything that writes review data beside it (a demo seed, a data fix, a script) can
silently break that. :func:`replay` rebuilds the cache from the events alone, and
:func:`check` compares it with the rows — ``flask check-history`` and the demo tests use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.requirements.models import Requirement, State
from review_app.reviews.models import Action, ReviewEvent

#: The requirement columns that are a cache of its events.
CACHED = ("state", "decision", "justification", "test_legal", "test_necessary",
          "test_business_friendly", "deviation_reason", "new_wording", "proposed_by_id",
          "proposed_at", "decided_by_id", "decided_at", "assignee_id", "review_round",
          "version", "text")
_PROPOSAL = ("decision", "justification", "test_legal", "test_necessary",
             "test_business_friendly", "deviation_reason", "new_wording", "proposed_by_id")
_EVENT_COLUMNS = ("requirement_id", "actor_id", "action", "to_state", "decision", "text",
                  "new_wording", "test_legal", "test_necessary", "test_business_friendly",
                  "deviation_reason", "assignee_id", "version", "created_at")

#: The workflow stamps the requirement and its event with two calls of the clock, a few
#: milliseconds apart (the event's when the session flushes), so times agree only this closely.
TIME_TOLERANCE = timedelta(seconds=60)


class _Unknown:
    """What the events cannot tell (see :func:`replay`); equal to anything."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "<not in the events>"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Mismatch:
    """One cached column that disagrees with the requirement's history."""

    requirement_id: int
    code: str
    column: str
    cached: Any
    replayed: Any

    def __str__(self) -> str:
        return (f"{self.code} (id {self.requirement_id}): {self.column} is {self.cached!r}, "
                f"its events say {self.replayed!r}")


def replay(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The cached columns a requirement must hold after ``events`` (oldest first).

    Under dual review the lead may approve either of the round's two independent proposals,
    which live in their own table, not in an event: after such an approval the proposal's
    fields (but the decision) are :data:`UNKNOWN`, as is the text of a requirement whose
    wording no import ever changed.
    """
    cache: dict[str, Any] = dict.fromkeys(CACHED)
    cache.update(state=State.UNREVIEWED, review_round=1, version=1, text=UNKNOWN)
    dual_round = False  # this round had an independent (dual-review) proposal
    for e in events:
        action = Action(e["action"])
        if e["to_state"] is not None:
            cache["state"] = State(e["to_state"])
        if e["version"] is not None:
            cache["version"] = max(cache["version"], e["version"])
        at = e["created_at"]
        if action in (Action.RETURN, Action.REOPEN, Action.WORDING_CHANGED):
            dual_round = False
        if action == Action.PROPOSE and e["to_state"] != State.PROPOSED:
            dual_round = True
        elif action == Action.PROPOSE:
            cache.update(decision=e["decision"], justification=e["text"],
                         new_wording=e["new_wording"], deviation_reason=e["deviation_reason"],
                         test_legal=e["test_legal"], test_necessary=e["test_necessary"],
                         test_business_friendly=e["test_business_friendly"],
                         proposed_by_id=e["actor_id"], proposed_at=at,
                         decided_by_id=None, decided_at=None)
        elif action == Action.APPROVE:
            if dual_round or e["decision"] != cache["decision"]:
                cache.update(dict.fromkeys(_PROPOSAL, UNKNOWN), decision=e["decision"])
            cache.update(decided_by_id=e["actor_id"], decided_at=at)
        elif action == Action.RETURN:
            cache.update(decided_by_id=e["actor_id"], decided_at=at,
                         review_round=cache["review_round"] + 1)
        elif action == Action.REOPEN:
            cache["review_round"] += 1
        elif action == Action.WORDING_CHANGED:
            cache["text"] = e["new_wording"]
            if e["to_state"] == State.RETURNED:
                cache.update(decided_by_id=None, decided_at=None,
                             review_round=cache["review_round"] + 1)
        elif action in (Action.ASSIGN, Action.UNASSIGN):
            cache["assignee_id"] = e["assignee_id"]
    return cache


def _same(column: str, cached: Any, replayed: Any) -> bool:
    if isinstance(cached, datetime) and isinstance(replayed, datetime):
        return abs(cached - replayed) <= TIME_TOLERANCE
    return replayed == cached


def check(session: so.Session, requirement_ids: Iterable[int] | None = None) -> list[Mismatch]:
    """Every disagreement between requirements' cached review data and their events.

    Two queries whatever the number of requirements (10,000 take about a second), so it
    can run after a seed or an import. ``requirement_ids`` limits it to some requirements.
    """
    reqs = sa.select(Requirement.id, Requirement.code,
                     *(getattr(Requirement, c) for c in CACHED)).order_by(Requirement.id)
    evts = (sa.select(*(getattr(ReviewEvent, c) for c in _EVENT_COLUMNS))
            .order_by(ReviewEvent.requirement_id, ReviewEvent.id))
    if requirement_ids is not None:
        ids = list(requirement_ids)
        reqs, evts = reqs.where(Requirement.id.in_(ids)), evts.where(
            ReviewEvent.requirement_id.in_(ids))
    history = {req_id: list(rows) for req_id, rows in groupby(
        session.execute(evts).mappings(), key=lambda e: e["requirement_id"])}
    found: list[Mismatch] = []
    for row in session.execute(reqs).mappings():
        replayed = replay(history.get(row["id"], ()))
        found += [Mismatch(row["id"], row["code"], column, row[column], replayed[column])
                  for column in CACHED if not _same(column, row[column], replayed[column])]
    return found
