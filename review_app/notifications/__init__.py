"""Notifications: the bell in the header, the list of what is new, and the daily e-mail digest.

``models`` holds the rows, ``service`` who is told what (called by the workflow and the jobs in
the transaction of the event), ``routes`` the bell and the list, ``digest`` the daily e-mail.
"""

from flask import Flask
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from review_app.extensions import db


def init_app(app: Flask) -> None:
    # lazy: the models, the service and the views load only when an app is built (the
    # workflow imports the service while the app package is still loading)
    from review_app.notifications import models, routes, service  # noqa: F401 (models: tables)

    app.register_blueprint(routes.bp)

    @app.context_processor
    def _bell() -> dict:
        """The bell's count on every page (one indexed COUNT), for people signed in."""
        def unread_notifications() -> int:
            if not current_user.is_authenticated:
                return 0
            try:
                return service.unread_count(current_user)
            except SQLAlchemyError:
                # An error page for a failed database must still render: no count then.
                db.session.rollback()
                return 0
        return {"unread_notifications": unread_notifications}
