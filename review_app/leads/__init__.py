"""Running an area: the lead's queue and bulk decisions, assignment, progress; reviewers'
"my work" and "claim next"."""

from flask import Flask
from flask_login import current_user

from review_app import permissions
from review_app.leads.routes import bp


def _navigation() -> dict[str, bool]:
    """Which of this feature's pages the signed-in user has a use for."""
    if not current_user.is_authenticated:
        return {}
    leads = permissions.lead_area_ids(current_user)
    return {"nav_my_work": bool(permissions.proposing_area_ids(current_user)),
            "nav_queue": permissions.can_use_queue(current_user),
            "nav_areas": bool(leads) or current_user.sees_all_areas}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(_navigation)
