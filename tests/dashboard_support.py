"""Helpers for the dashboard's stories: a few requirements moved through the real workflow."""

from __future__ import annotations

from review_app.dashboard import rollups
from review_app.extensions import db
from review_app.requirements import cost_order
from tests.conftest import decide, login_as, propose


def rollups_agree() -> list[str]:
    """The stored rollups, and the list's cost order, against a recount from requirements,
    costs and events (empty: they agree)."""
    db.session.expire_all()
    return rollups.differences(db.session) + cost_order.differences(db.session)


def proposed_by(client, reviewer, reqs, decision="cancel"):
    login_as(client, reviewer)
    for req in reqs:
        assert propose(client, req, decision).status_code in (302, 303)


def decided_by(client, lead, reqs, action="approve", comment="Согласовано."):
    login_as(client, lead)
    for req in reqs:
        assert decide(client, req, action, comment).status_code in (302, 303)
