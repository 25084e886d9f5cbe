"""Standard justifications: a library per area (kept by its leads) and a national one (kept by
admins), each text in Kazakh, Russian and English, inserted by reviewers with a key or a click."""

from flask import Flask
from flask_login import current_user

from review_app import permissions
from review_app.justifications.routes import bp


def _navigation() -> dict[str, bool]:
    if not current_user.is_authenticated:
        return {}
    return {"nav_justifications": permissions.can_keep_justifications(current_user)}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(_navigation)
