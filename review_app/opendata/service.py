"""Open data of final decisions: which areas are published, and their approved decisions.

Only what the issue allows leaves here: the requirement's code, area, legal basis, issuing
body, decision, old and new wording, justification and decision date. Never a person's name,
a comment, or anything not yet approved. Publishing and withdrawing are audited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa

from review_app import audit
from review_app.audit import AuditAction
from review_app.auth.models import User
from review_app.extensions import db
from review_app.requirements.models import Area, Requirement, State, search_key
from review_app.time import utcnow

#: The columns of the CSV and the keys of the JSON, in order: a stable schema for harvesters.
FIELDS = ("code", "area", "legal_act", "legal_act_ref", "article", "issuing_body", "decision",
          "old_wording", "new_wording", "justification", "decision_date")
LICENCE = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"
PAGE_SIZE = 50
#: Rows fetched per round trip while streaming.
CHUNK = 1000


def publish(actor: User, area: Area) -> None:
    """Publish ``area``'s final decisions (the caller checked the permission and commits)."""
    if area.published_at is None:
        area.published_at = utcnow()
        audit.record(AuditAction.AREA_PUBLISHED, actor=actor, target=area)


def unpublish(actor: User, area: Area) -> None:
    if area.published_at is not None:
        area.published_at = None
        audit.record(AuditAction.AREA_UNPUBLISHED, actor=actor, target=area)


def published_areas() -> list[Area]:
    return list(db.session.scalars(sa.select(Area).where(Area.published_at.is_not(None))
                                   .order_by(Area.code)))


def _where(area_ids: list[int], query: str = "") -> list[sa.ColumnElement[bool]]:
    clauses = [Requirement.area_id.in_(area_ids or [0]), Requirement.state == State.APPROVED]
    for word in search_key(query).split():
        clauses.append(Requirement.search_text.contains(word, autoescape=True))
    return clauses


_COLUMNS = (Requirement.id, Requirement.code, Requirement.area_id, Requirement.legal_act,
            Requirement.legal_act_ref, Requirement.article, Requirement.issuing_body,
            Requirement.decision, Requirement.text, Requirement.new_wording,
            Requirement.justification, Requirement.decided_at, Requirement.title)


def fingerprint(areas: list[Area]) -> tuple[str, datetime | None]:
    """An ETag and a Last-Modified for the published data: any approval, reopening or
    (un)publication changes the first; the second is the latest such moment."""
    ids = [a.id for a in areas]
    count, latest = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(Requirement.updated_at))
        .where(*_where(ids))).one()
    published = [a.published_at for a in areas if a.published_at]
    moments = [m for m in (latest, *published) if m is not None]
    seed = f"{count}|{latest}|" + ",".join(f"{a.id}:{a.published_at}" for a in areas)
    return hashlib.sha256(seed.encode()).hexdigest()[:32], max(moments) if moments else None


def page(areas: list[Area], *, query: str = "", after: str | None = None,
         size: int = PAGE_SIZE) -> tuple[list, int]:
    """One page of published decisions by code, after the code ``after``; and the total."""
    where = _where([a.id for a in areas], query)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Requirement).where(*where))
    stmt = sa.select(*_COLUMNS).where(*where)
    if after:
        stmt = stmt.where(Requirement.code > after)
    return list(db.session.execute(stmt.order_by(Requirement.code).limit(size))), total or 0


def rows(areas: list[Area]) -> Iterator[tuple]:
    """Every published decision, by code, as a tuple in :data:`FIELDS` order, in chunks of
    :data:`CHUNK` rows (bounded memory). Core rows, not ORM objects: the full file of 10,000
    decisions is written in well under a second."""
    codes = {a.id: a.code for a in areas}
    table = Requirement.__table__
    c = table.c
    where = [c.area_id.in_(list(codes) or [0]), c.state == State.APPROVED.value]
    columns = (c.code, c.area_id, c.legal_act, c.legal_act_ref, c.article, c.issuing_body,
               c.decision, c.text, c.new_wording, c.justification, c.decided_at)
    connection = db.session.connection()
    last = ""
    while True:
        chunk = connection.execute(sa.select(*columns).where(*where, c.code > last)
                                   .order_by(c.code).limit(CHUNK)).all()
        for (code, area_id, act, ref, article, body, decision, text, new_wording,
             justification, decided_at) in chunk:
            yield (code, codes[area_id], act, ref, article, body, decision, text,
                   new_wording if decision == "revise" else None, justification,
                   decided_at.date().isoformat() if decided_at else None)
        if len(chunk) < CHUNK:
            return
        last = chunk[-1][0]
