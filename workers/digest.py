"""The daily digest job (RQ's cron scheduler runs it at ``DIGEST_CRON``): a thin adapter over
``review_app.notifications.digest``. Failures re-raise, so RQ records and retries them."""

from __future__ import annotations

import logging

from review_app.extensions import db
from review_app.notifications import digest, mail
from workers.summaries import app

log = logging.getLogger("workers.digest")


def send_daily_digests() -> str:
    with app().app_context():
        try:
            outcome = digest.send_all()
        except mail.MailNotConfigured:
            log.warning("daily digest skipped: SMTP_HOST is not set")
            return "mail is not configured; nothing sent"
        finally:
            db.session.remove()
    return f"{outcome.sent} sent, {outcome.nothing_to_say} with nothing waiting"
