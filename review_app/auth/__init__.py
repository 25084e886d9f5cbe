"""Signing in and out, and loading the signed-in user for each request."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask
from flask_babel import lazy_gettext as _l

from review_app.auth.models import User
from review_app.auth.routes import bp
from review_app.extensions import db, login_manager
from review_app.validation import parse_id


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Accept the cookie only while its nonce matches: logout and deactivation end sessions."""
    text, _, nonce = user_id.partition(".")
    ident = parse_id(text)
    if ident is None or not nonce:
        return None
    # lazy: the notifications package imports the workflow, which imports this package
    from review_app.notifications import service as notifications

    # The bell's unread count comes along (a subquery), so a page asks no second query for it.
    row = db.session.execute(
        sa.select(User, notifications.unread_count_sql(User.id)).where(User.id == ident)
        .options(so.joinedload(User.memberships))).unique().first()
    if row is None:
        return None
    user, unread = row
    if user.session_nonce != nonce or not user.active:
        return None
    notifications.remember_unread(user.id, unread)
    return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
