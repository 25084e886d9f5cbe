"""Forms for proposing a decision and for the lead's approve / return."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from review_app.reviews.workflow import MAX_COMMENT, MAX_TEXT, MAX_WORDING
from review_app.validation import AppForm

YES_NO = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]
DECISIONS = [SelectChoice("cancel", _l("Cancel")), SelectChoice("revise", _l("Revise")),
             SelectChoice("keep", _l("Keep"))]


class VersionedForm(AppForm):
    #: The requirement version the user was looking at when the form was rendered.
    version = IntegerField(widget=HiddenInput(),
                           validators=[InputRequired(), NumberRange(min=1, max=2**31)])


class ProposalForm(VersionedForm):
    legal = RadioField(_l("Is it legal?"), choices=YES_NO,
                       description=_l("It rests on a law that gives the power to impose it."),
                       validators=[InputRequired(_l("Answer this question."))])
    necessary = RadioField(_l("Is it necessary?"), choices=YES_NO,
                           description=_l("It protects life, health, the environment or the "
                                          "state, and nothing lighter would do."),
                           validators=[InputRequired(_l("Answer this question."))])
    business_friendly = RadioField(_l("Is it business-friendly?"), choices=YES_NO,
                                   description=_l("Its cost and effort for businesses are "
                                                  "proportionate to what it protects."),
                                   validators=[InputRequired(_l("Answer this question."))])
    decision = RadioField(_l("Decision"), choices=DECISIONS,
                          validators=[InputRequired(_l("Choose cancel, revise or keep."))])
    justification = TextAreaField(_l("Justification"), validators=[
        DataRequired(_l("Explain the decision.")), Length(max=MAX_TEXT)])
    new_wording = TextAreaField(_l("Proposed new wording"),
                                validators=[Optional(), Length(max=MAX_WORDING)])
    deviation_reason = TextAreaField(_l("Why the decision differs from what the tests suggest"),
                                     validators=[Optional(), Length(max=MAX_TEXT)])


class DecisionForm(VersionedForm):
    action = HiddenField()
    comment = TextAreaField(_l("Comment for the reviewers"),
                            validators=[Optional(), Length(max=MAX_TEXT)])


class ReopenForm(VersionedForm):
    reason = TextAreaField(_l("Why reopen this decision"), validators=[
        DataRequired(_l("Reopening a decision needs a reason.")), Length(max=MAX_TEXT)])


class CommentForm(AppForm):
    text = TextAreaField(_l("Your comment"), validators=[
        DataRequired(_l("Write something before sending a comment.")),
        Length(max=MAX_COMMENT, message=_l("A comment can have at most %(max)d characters."))])


class AssignForm(AppForm):
    #: A user id, or empty to take the requirement away from whoever has it.
    assignee = HiddenField()
