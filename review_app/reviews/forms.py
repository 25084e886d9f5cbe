"""Forms for proposing a decision and for the lead's approve / return."""

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from review_app.reviews.workflow import MAX_COMMENT, MAX_TEXT, MAX_WORDING, WorkflowError
from review_app.scm import compute
from review_app.validation import AppForm

YES_NO = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]
DECISIONS = [SelectChoice("cancel", _l("Cancel")), SelectChoice("revise", _l("Revise")),
             SelectChoice("keep", _l("Keep"))]


class VersionedForm(AppForm):
    #: The requirement version the user was looking at when the form was rendered.
    version = IntegerField(widget=HiddenInput(),
                           validators=[InputRequired(), NumberRange(min=1, max=2**31)])


class DecisionFields(AppForm):
    """The decision part of every proposal (``reviews/_decision_fields.html`` draws it): the
    three tests, the decision, the justification and why it departs from the tests."""

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
    deviation_reason = TextAreaField(_l("Why the decision differs from what the tests suggest"),
                                     validators=[Optional(), Length(max=MAX_TEXT)])


class ProposalForm(VersionedForm, DecisionFields):
    """One requirement's proposal (its page, review mode): the version seen and, for revise,
    the new wording beside the decision."""

    new_wording = TextAreaField(_l("Proposed new wording"),
                                validators=[Optional(), Length(max=MAX_WORDING)])


class GroupProposalForm(DecisionFields):
    """One proposal for several requirements (a duplicate group, the rows ticked on the list).

    Only the shared part: the ticked items (``item`` = ``id:version``, the version the person
    saw) and, for revise, each item's wording (``wording-<id>``) are read beside it, by
    ``reviews.selection``.
    """


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


# Standard Cost Model inputs -------------------------------------------------------------------

ESTIMATE_HINT = _l("A number, or a number with its range: 3 (2–5).")


class ScmActionForm(Form):
    """One action's inputs; every number may carry its range: ``3 (2–5)``."""

    name = StringField(_l("What businesses must do"),
                       validators=[Optional(), Length(max=compute.MAX_NAME)])
    hours = StringField(_l("Hours per occurrence"), validators=[Optional(), Length(max=80)])
    #: A named tariff's code, or empty for the action's own hourly tariff.
    tariff = SelectField(_l("Named tariff"), choices=[], validate_choice=False,
                         validators=[Optional(), Length(max=40)])
    hourly = StringField(_l("Own hourly tariff, ₸"), validators=[Optional(), Length(max=80)])
    outside = StringField(_l("Outside costs per occurrence, ₸"),
                          validators=[Optional(), Length(max=80)])
    per_year = StringField(_l("Times a year"), validators=[Optional(), Length(max=80)])
    share = StringField(_l("Share of the businesses that must do it, %"),
                        validators=[Optional(), Length(max=80)])

    def blank(self) -> bool:
        return not any((self[name].data or "").strip() for name in
                       ("name", "hours", "hourly", "outside", "per_year", "share"))


class ScmForm(VersionedForm):
    actions = FieldList(FormField(ScmActionForm), min_entries=1,
                        max_entries=compute.MAX_ACTIONS + 5)

    def read_actions(self, tariff_codes: set[str]) -> list[compute.Action]:
        """The filled rows as actions (blank rows are left out).

        :raise WorkflowError: a value that is not a number or a range, naming the action and
            the field; a row without hours, or without a tariff.
        """
        actions = []
        for number, row in enumerate(self.actions, start=1):
            if row.blank():
                continue
            tariff = (row.tariff.data or "").strip() or None
            if tariff is not None and tariff not in tariff_codes:
                raise WorkflowError(_("Action %(n)d: there is no tariff “%(code)s”.", n=number,
                                      code=tariff[:40]), "actions")
            hours = _estimate(row.hours, number, compute.MAX_HOURS, required=True)
            hourly = _estimate(row.hourly, number, compute.MAX_MONEY)
            if tariff is None and hourly is None:
                raise WorkflowError(_("Action %(n)d: choose a named tariff or enter an own "
                                      "hourly tariff.", n=number), "actions")
            actions.append(compute.Action(
                name=(row["name"].data or "").strip() or _("Action %(n)d", n=number),
                hours=hours, tariff=tariff, hourly=None if tariff else hourly,
                outside=_estimate(row.outside, number, compute.MAX_MONEY) or compute.ZERO,
                per_year=_estimate(row.per_year, number, compute.MAX_PER_YEAR) or compute.ONE,
                share=_estimate(row.share, number, None, percent=True) or compute.ONE))
        return actions


def _estimate(field, number: int, limit: Decimal | None, *, required: bool = False,
              percent: bool = False) -> compute.Estimate | None:
    text = (field.data or "").strip()
    label = str(field.label.text)
    if not text:
        if required:
            raise WorkflowError(_("Action %(n)d: fill in “%(field)s”.", n=number, field=label),
                                "actions")
        return None
    try:
        return compute.parse_estimate(text, percent=percent, limit=limit, name=field.name)
    except compute.InputError as exc:
        if str(exc) == "range":
            message = _("Action %(n)d, “%(field)s”: the range must hold the value, as in "
                        "3 (2–5).", n=number, field=label)
        elif str(exc) == "limit":
            message = _("Action %(n)d, “%(field)s”: the value is too large.", n=number,
                        field=label)
        else:
            message = _("Action %(n)d, “%(field)s”: %(hint)s", n=number, field=label,
                        hint=ESTIMATE_HINT)
        raise WorkflowError(message, "actions") from None


class ScmApproveForm(VersionedForm):
    """The lead's approval of proposed SCM inputs on their own."""
