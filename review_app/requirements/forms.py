"""The filters of the requirements list, the lead's queue and the export, as one GET form.

The same query string drives all three, and a bulk action carries it in its form body; every
value that cannot be used becomes a message naming the parameter and the value.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField, ValidationError

from review_app.auth.models import User
from review_app.requirements import listing
from review_app.requirements.models import Area, Decision, State
from review_app.validation import MAX_INT64, FilterForm, parse_id, parse_int, strip

#: The query parameters this form reads (the list reports their problems on its own page).
PARAMS = ("area", "state", "decision", "assignee", "body", "q", "cost_min", "scm", "sort",
          "dup", "totals")


def _shown(value: str) -> str:
    return value[:20]


class ListFilterForm(FilterForm):
    """Filters over the visible ``areas`` and the ``people`` one may filter by."""

    # The labels are those the filter bar shows, so a refusal names the field as seen.
    area = StringField(_l("Area"), filters=[strip])
    state = StringField(_l("State"), filters=[strip])
    decision = StringField(_l("Decision"), filters=[strip])
    assignee = StringField(_l("Assignee"), filters=[strip])
    body = StringField(_l("Issuing body"), filters=[strip])
    q = StringField(_l("Search in code, title and text"), filters=[strip])
    cost_min = StringField(filters=[strip])
    scm = StringField(filters=[strip])
    sort = StringField(_l("Sort by"), filters=[strip])
    #: "yes": only requirements in a duplicate group; "no": only those in none.
    dup = StringField(filters=[strip])
    #: "all": sum the cost line over every matching requirement, however many (the list sums
    #: it only for a few, see ``listing.cost_totals``).
    totals = StringField(filters=[strip])

    def __init__(self, args, areas: list[Area], people: list[User]) -> None:
        super().__init__(args)
        self.areas = {a.code: a for a in areas}
        self.people = {p.id for p in people}

    def validate_area(self, field) -> None:
        if field.data and field.data not in self.areas:
            raise ValidationError(_("Unknown area “%(value)s”.", value=_shown(field.data)))

    def validate_state(self, field) -> None:
        if field.data and field.data not in {s.value for s in State}:
            raise ValidationError(_("Unknown state “%(value)s”.", value=_shown(field.data)))

    def validate_decision(self, field) -> None:
        if field.data and field.data not in {d.value for d in Decision}:
            raise ValidationError(_("Unknown decision “%(value)s”.", value=_shown(field.data)))

    def validate_assignee(self, field) -> None:
        if field.data and field.data not in ("me", "none") and (
                parse_id(field.data) not in self.people):
            raise ValidationError(_("Unknown assignee “%(value)s”.", value=_shown(field.data)))

    def validate_q(self, field) -> None:
        if len(field.data or "") > listing.MAX_QUERY:
            raise ValidationError(_("The search text is too long (at most %(n)d characters).",
                                    n=listing.MAX_QUERY))

    def validate_cost_min(self, field) -> None:
        if field.data and parse_int(field.data.replace(" ", ""), maximum=MAX_INT64) is None:
            raise ValidationError(_("“%(value)s” is not an amount in whole tenge.",
                                    value=_shown(field.data)))

    def validate_scm(self, field) -> None:
        if field.data and field.data not in ("with", "without"):
            raise ValidationError(_("Unknown choice for cost inputs “%(value)s”.",
                                    value=_shown(field.data)))

    def validate_sort(self, field) -> None:
        if field.data and field.data not in listing.SORTS:
            raise ValidationError(_("Unknown sort order “%(value)s”.", value=_shown(field.data)))

    def validate_dup(self, field) -> None:
        if field.data and field.data not in ("yes", "no"):
            raise ValidationError(_("Unknown duplicates filter “%(value)s”.",
                                    value=_shown(field.data)))

    def validate_totals(self, field) -> None:
        if field.data and field.data != "all":
            raise ValidationError(_("Unknown choice for the cost total “%(value)s”.",
                                    value=_shown(field.data)))

    def filters(self) -> listing.Filters:
        """The validated filters; call after :meth:`validate`."""
        f = listing.Filters(errors=self.messages())
        if self.errors:
            return f
        if self.area.data:
            f.area_id = self.areas[self.area.data].id
        if self.state.data:
            f.state = State(self.state.data)
        if self.decision.data:
            f.decision = Decision(self.decision.data)
        if value := self.assignee.data:
            f.assignee = value
            if value not in ("me", "none"):
                f.assignee_id = parse_id(value)
        f.issuing_body = (self.body.data or "")[:500] or None
        f.query = self.q.data or ""
        if self.cost_min.data:
            f.cost_min = parse_int(self.cost_min.data.replace(" ", ""), maximum=MAX_INT64)
        f.scm = self.scm.data or None
        f.sort = self.sort.data or listing.DEFAULT_SORT
        f.duplicates = self.dup.data or None
        f.all_totals = self.totals.data == "all"
        return f


def parse_filters(args, areas: list[Area], people: list[User]) -> listing.Filters:
    """Read filters from the query string (or a bulk form carrying it) through the list's
    filter form; anything unrecognised becomes a message naming the parameter and value."""
    form = ListFilterForm(args, areas, people)
    form.validate()
    return form.filters()
