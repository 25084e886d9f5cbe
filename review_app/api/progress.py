"""Areas as the API shows them: counts by state for those who may follow the area's progress
(its lead, managers, admins), as on the Areas page; the total alone for its reviewers."""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user

from review_app import permissions
from review_app.extensions import db
from review_app.i18n import current_language
from review_app.requirements.models import Area, Requirement, State


def area_items(visible: list[Area]) -> list[dict]:
    language = current_language()
    progress_ids = [a.id for a in visible if permissions.can_view_progress(current_user, a.id)]
    counts: dict[int, dict[str, int]] = {}
    totals: dict[int, int] = dict(db.session.execute(
        sa.select(Requirement.area_id, sa.func.count())
        .where(Requirement.area_id.in_([a.id for a in visible]))
        .group_by(Requirement.area_id)).all()) if visible else {}
    if progress_ids:
        for area_id, state, n in db.session.execute(
                sa.select(Requirement.area_id, Requirement.state, sa.func.count())
                .where(Requirement.area_id.in_(progress_ids))
                .group_by(Requirement.area_id, Requirement.state)):
            counts.setdefault(area_id, {})[State(state).value] = n
    items = []
    for area in visible:
        total = totals.get(area.id, 0)
        by_state = None
        done = None
        if area.id in progress_ids:
            by_state = {s.value: counts.get(area.id, {}).get(s.value, 0) for s in State}
            done = round(100 * by_state["approved"] / total, 1) if total else 0.0
        items.append({"code": area.code, "name": area.name(language), "total": total,
                      "by_state": by_state, "percent_done": done,
                      "published": area.published_at is not None})
    return items
