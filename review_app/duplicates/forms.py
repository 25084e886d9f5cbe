"""The form for proposing one decision for several requirements (a group or a selection)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from review_app.reviews.forms import DECISIONS, YES_NO
from review_app.reviews.workflow import MAX_TEXT
from review_app.validation import AppForm


class GroupProposalForm(AppForm):
    """The proposal's shared part; the ticked items (``item`` = ``id:version``) and, for
    revise, each item's wording (``wording-<id>``) are read beside it."""

    legal = RadioField(_l("Is it legal?"), choices=YES_NO,
                       validators=[InputRequired(_l("Answer this question."))])
    necessary = RadioField(_l("Is it necessary?"), choices=YES_NO,
                           validators=[InputRequired(_l("Answer this question."))])
    business_friendly = RadioField(_l("Is it business-friendly?"), choices=YES_NO,
                                   validators=[InputRequired(_l("Answer this question."))])
    decision = RadioField(_l("Decision"), choices=DECISIONS,
                          validators=[InputRequired(_l("Choose cancel, revise or keep."))])
    justification = TextAreaField(_l("Justification"), validators=[
        DataRequired(_l("Explain the decision.")), Length(max=MAX_TEXT)])
    deviation_reason = TextAreaField(_l("Why the decision differs from what the tests suggest"),
                                     validators=[Optional(), Length(max=MAX_TEXT)])
