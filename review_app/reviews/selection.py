"""One proposal for several requirements at once -- a duplicate group, or the rows ticked on the
requirements list: reading the ticked ``id:version`` items, then proposing for each through
``workflow.propose_many`` (its own event, the version the person saw checked) and showing what
was proposed and what was skipped, with the reason.

The two pages differ only in which requirements they may reach; each checks that itself before
calling :func:`propose`.
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from review_app.justifications import service as justifications
from review_app.requirements.models import Decision, Requirement
from review_app.reviews import bulk_results, workflow
from review_app.reviews.forms import GroupProposalForm
from review_app.reviews.workflow import MAX_WORDING, Tests
from review_app.validation import parse_id, parse_int


class Refused(Exception):
    """The request cannot be carried out as sent; nothing was saved."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_items(raw: list[str]) -> dict[int, int]:
    """``{requirement id: version seen}`` from the ticked ``id:version`` items.

    :raise Refused: 422 for more than ``workflow.MAX_BULK`` items or none at all, 400 for an
        item that is not two positive whole numbers (a 20-digit id, ``²``, a missing version).
    """
    if len(raw) > workflow.MAX_BULK:
        raise Refused(422, _("Select at most %(n)s requirements at a time.",
                             n=workflow.MAX_BULK))
    seen: dict[int, int] = {}
    for item in raw:
        text, _sep, version_text = item.partition(":")
        ident, version = parse_id(text), parse_int(version_text, minimum=1)
        if ident is None or version is None:
            raise Refused(400, _("The selection is malformed (“%(value)s”).", value=item[:30]))
        seen[ident] = version
    if not seen:
        raise Refused(422, _("Nothing was saved: tick at least one requirement."))
    return seen


def wordings(decision: Decision, ids: list[int]) -> dict[int, str]:
    """For revise, each item's own new wording (``wording-<id>``).

    :raise Refused: 422 when one is longer than the workflow keeps.
    """
    if decision != Decision.REVISE:
        return {}
    found = {}
    for ident in ids:
        wording = request.form.get(f"wording-{ident}", "")
        if len(wording) > MAX_WORDING:
            raise Refused(422, _("The new wording is too long (at most %(n)d characters).",
                                 n=MAX_WORDING))
        found[ident] = wording
    return found


def propose(chosen: list[Requirement], form: GroupProposalForm, seen: dict[int, int], *,
            back: str):
    """Propose the form's decision for each of ``chosen`` (already checked to be within the
    person's reach), commit, and answer with the result page (Post/Redirect/Get).

    :raise Refused: a wording too long (nothing written).
    """
    decision = Decision(form.decision.data)
    new_wordings = wordings(decision, [r.id for r in chosen])
    outcome = workflow.propose_many(
        chosen, current_user, decision=decision,
        tests=Tests(legal=form.legal.data == "yes", necessary=form.necessary.data == "yes",
                    business_friendly=form.business_friendly.data == "yes"),
        justification=form.justification.data, deviation_reason=form.deviation_reason.data,
        new_wordings=new_wordings, seen_versions=seen)
    if outcome.done:  # one use of the standard justification, as on the requirement page
        justifications.count_use(parse_id(request.form.get("template", "")), outcome.done[0])
    return bulk_results.finish(outcome, lambda n: ngettext(
        "Proposed for %(num)d requirement.", "Proposed for %(num)d requirements.", n), back)
