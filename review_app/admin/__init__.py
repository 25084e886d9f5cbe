"""Running the system: people and their roles, areas and their settings, the audit log."""

from flask import Flask

from review_app import permissions
from review_app.admin.routes import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(can_manage_users=permissions.can_manage_users,
                                 can_import=permissions.can_import,
                                 can_view_audit=permissions.can_view_audit)
