"""The answer to an action on many requirements at once (the lead's approvals and assignments,
one proposal for a group or the ticked rows): commit, then show what was done, one row each,
and what was skipped, with why -- kept for this person so that reloading the page shows it
again and does not send the action a second time (Post/Redirect/Get)."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from review_app.extensions import db
from review_app.requirements.models import Requirement
from review_app.reviews import drafts, workflow


def finish(outcome: workflow.BulkOutcome, done_message: Callable[[int], str], back: str):
    """Commit the outcome's events and answer with the result page."""
    # Read before the commit expires them: afterwards each row would cost a query.
    done = [_row(r) for r in outcome.done]
    skipped = [(_row(r), str(why)) for r, why in outcome.skipped]
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(_("Some of these requirements changed while the action ran; nothing was saved. "
                "Try again."), "error")
        return redirect(back, 303)
    heading = done_message(len(done)) if done else None
    if heading:
        flash(heading, "success")
    return show({"done": done, "skipped": skipped, "heading": heading, "back": back})


def refused(error: str, back: str, status: int = 422):
    """Nothing was changed: say why on the result page."""
    db.session.rollback()
    return show({"error": str(error), "back": back}, status)


def show(result: dict, status: int = 200):
    """Keep the result for this person and send them to it (``leads.bulk_result``). Without
    Redis, the result answers in place (with ``status``)."""
    token = drafts.save(current_user.id, "bulk", result)
    if token is None:
        return render(result), status
    return redirect(url_for("leads.bulk_result", token=token), 303)


def render(result: dict) -> str:
    outcome = workflow.BulkOutcome(done=result.get("done") or [],
                                   skipped=[tuple(pair) for pair in result.get("skipped") or []])
    return render_template("leads/bulk_result.html", outcome=outcome, back=result["back"],
                           error=result.get("error"), done_heading=result.get("heading"))


def _row(req: Requirement) -> dict[str, object]:
    return {"id": req.id, "code": req.code, "title": req.title, "state": req.state.value}
