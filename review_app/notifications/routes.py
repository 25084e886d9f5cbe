"""The bell's page: what is new for the person, marked read once shown; the digest switch."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from review_app.extensions import db
from review_app.notifications import service
from review_app.notifications.forms import DigestForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index():
    notifications = service.latest(current_user)
    unread = {n.id for n in notifications if n.read_at is None}
    # Read from now on (the bell above the list already shows none), marked "unread" below.
    service.mark_read(current_user, notifications)
    return render_template("notifications/index.html", notifications=notifications,
                           unread_ids=unread,
                           form=DigestForm(enabled=current_user.digest_enabled),
                           mail_configured=bool(current_app.config.get("SMTP_HOST")))


@bp.post("/digest")
@login_required
def digest():
    """Switch one's own daily digest on or off."""
    form = DigestForm()
    if not form.validate_on_submit():
        flash(_("The setting could not be saved; reload the page and try again."), "error")
        return redirect(url_for("notifications.index")), 303
    current_user.digest_enabled = bool(form.enabled.data)
    db.session.commit()
    flash(_("You will receive the daily digest.") if current_user.digest_enabled
          else _("The daily digest is switched off for you."), "success")
    return redirect(url_for("notifications.index")), 303
