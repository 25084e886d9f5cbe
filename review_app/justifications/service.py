"""The one writer of standard justifications: every change is checked and audited here, and
the choice offered to a reviewer is read here."""

from __future__ import annotations

import sqlalchemy as sa

from review_app import audit, permissions
from review_app.audit import AuditAction
from review_app.auth.models import User
from review_app.extensions import db
from review_app.justifications.models import JustificationTemplate
from review_app.requirements.models import Requirement

LANGUAGES = ("kk", "ru", "en")


class NotAllowed(Exception):
    """The person may not keep standard justifications of that area."""


def _require(user: User, area_id: int | None, target: object) -> None:
    if not permissions.can_manage_justification(user, area_id):
        permissions.log_denied(user, "justification", target)
        raise NotAllowed


def create(user: User, area_id: int | None, texts: dict[str, str]) -> JustificationTemplate:
    """A new standard justification of ``area_id`` (None: national); the caller commits."""
    _require(user, area_id, "justification")
    template = JustificationTemplate(area_id=area_id, created_by_id=user.id,
                                     **{f"text_{k}": texts[k].strip() for k in LANGUAGES})
    db.session.add(template)
    db.session.flush()
    audit.record(AuditAction.JUSTIFICATION_CREATED, actor=user, target=template,
                 details={"area_id": area_id})
    return template


def update(user: User, template: JustificationTemplate, texts: dict[str, str]) -> None:
    """New texts; the audit entry keeps what each changed text said before."""
    _require(user, template.area_id, template)
    before = {k: getattr(template, f"text_{k}") for k in LANGUAGES}
    changed = {k: before[k] for k in LANGUAGES if texts[k].strip() != before[k]}
    for k in LANGUAGES:
        setattr(template, f"text_{k}", texts[k].strip())
    if changed:
        audit.record(AuditAction.JUSTIFICATION_UPDATED, actor=user, target=template,
                     details={"before": changed})


def set_active(user: User, template: JustificationTemplate, active: bool) -> None:
    """Retire (no longer offered; its history stays) or restore."""
    _require(user, template.area_id, template)
    if template.active == active:
        return
    template.active = active
    audit.record(AuditAction.JUSTIFICATION_RESTORED if active
                 else AuditAction.JUSTIFICATION_RETIRED, actor=user, target=template)


def manageable(user: User) -> list[JustificationTemplate]:
    """What the library page lists for ``user``: every one for admins; for leads their areas'
    and the national ones (read-only to them). Most used first."""
    stmt = sa.select(JustificationTemplate)
    if not user.is_admin:
        areas = permissions.lead_area_ids(user)
        stmt = stmt.where(sa.or_(JustificationTemplate.area_id.is_(None),
                                 JustificationTemplate.area_id.in_(areas)))
    return list(db.session.scalars(stmt.order_by(
        JustificationTemplate.active.desc(), JustificationTemplate.area_id.is_not(None),
        JustificationTemplate.area_id, JustificationTemplate.usage_count.desc(),
        JustificationTemplate.id)))


def choices(req: Requirement) -> list[JustificationTemplate]:
    """What a reviewer is offered on ``req``: its area's and the national ones, in use, the
    area's first, most used first (the keys 1-9 go to the first nine)."""
    return choices_in({req.area_id})


def choices_in(area_ids: set[int]) -> list[JustificationTemplate]:
    """What one proposal for requirements of ``area_ids`` is offered: as :func:`choices` for a
    single area; the national ones only when they span several (an area's standard text is
    not written for another area's requirements)."""
    area_id = next(iter(area_ids)) if len(area_ids) == 1 else None
    return list(db.session.scalars(
        sa.select(JustificationTemplate)
        .where(JustificationTemplate.active,
               sa.or_(JustificationTemplate.area_id == area_id,
                      JustificationTemplate.area_id.is_(None)))
        .order_by(JustificationTemplate.area_id.is_(None),
                  JustificationTemplate.usage_count.desc(), JustificationTemplate.id)
        .limit(20)))


def count_use(template_id: int | None, req: Requirement) -> None:
    """A proposal on ``req`` was saved starting from this template: count it, if it is one
    offered there (anything else the form carried is ignored). One conditional UPDATE."""
    if template_id is None:
        return
    db.session.execute(
        sa.update(JustificationTemplate)
        .where(JustificationTemplate.id == template_id, JustificationTemplate.active,
               sa.or_(JustificationTemplate.area_id == req.area_id,
                      JustificationTemplate.area_id.is_(None)))
        .values(usage_count=JustificationTemplate.usage_count + 1)
        .execution_options(synchronize_session=False))
