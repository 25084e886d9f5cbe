"""Input checked at the edge, one way for the whole app.

Three rules every request meets before any view runs or any SQL is sent:

* **No control characters.** NUL and the other C0 controls (tab, CR and LF excepted) are
  refused in the path, the query string and form bodies, with a 400 naming the field.
  PostgreSQL cannot store NUL in text (it answered 500 on ~15 endpoints), and no person types
  the others. One ``before_request`` hook catches every route, including the hand-parsed
  parameters that no form sees; forms built on :class:`AppForm`/:class:`FilterForm` refuse
  them too, so a filter form can report the problem in place, on its own page (see
  :func:`reports_own_filter_errors`).
* **Numbers are ASCII digits within the column's range.** ``'²'.isdigit()`` is true and
  ``int('²')`` fails; a 20-digit id overflows SQLite, and PostgreSQL refuses anything past
  2^31-1 for an ``integer`` id. :func:`parse_int`/:func:`parse_id` are the only way text
  becomes a number here, and the ``int`` URL converter is bounded the same way (a larger id
  is a 404, like any other id that does not exist).
* **Dates a calendar can show.** :func:`parse_day` refuses years outside
  :data:`FIRST_DAY`..:data:`LAST_DAY` (year 1 and 9999 overflowed when shifted to UTC).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter
from wtforms import Field
from wtforms.fields.core import UnboundField
from wtforms.validators import StopValidation

from review_app.errors import render_error

#: C0 control characters except tab, LF and CR (which text areas legitimately send).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

#: Every id and version column is a PostgreSQL ``integer``: nothing larger is an id.
MAX_INT32 = 2**31 - 1
#: ``bigint`` columns (costs, sizes), and the most SQLite stores in any integer column.
MAX_INT64 = 2**63 - 1

#: The widest range of days a date filter accepts. Wider than any record can carry, narrow
#: enough that shifting a day by the time zone never leaves ``datetime``'s years 1..9999.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def shown(name: str) -> str:
    """A parameter name safe to echo in a message: controls replaced, length bounded."""
    return CONTROL_CHARACTERS.sub("\ufffd", name)[:40]


def control_character_message(name: str, label: Any = None) -> str:
    """The refusal, naming the field by its label where there is one, else by its name."""
    return _("“%(field)s” contains a control character (such as a NUL byte) that cannot be "
             "used. Remove it and send again.", field=label or shown(name))


_labels: dict[str, Any] | None = None


def field_labels() -> dict[str, Any]:
    """Form field name -> the label a person sees beside it, from every form of the app.

    The request hook sees only parameter names (``display_name``); people know the fields by
    their labels ("Name"). Labels are lazy strings, so each message is in the reader's
    language. A name that forms label differently is left out (the name is shown instead).
    """
    global _labels
    if _labels is None:
        found: dict[str, Any] = {}
        ambiguous: set[str] = set()
        pending = [AppForm]
        while pending:
            form = pending.pop()
            pending.extend(form.__subclasses__())
            for name, value in vars(form).items():
                if isinstance(value, UnboundField):
                    label = value.kwargs.get("label", value.args[0] if value.args else None)
                    if not label:
                        continue
                    if name in found and str(found[name]) != str(label):
                        ambiguous.add(name)
                    found.setdefault(name, label)
        _labels = {name: label for name, label in found.items() if name not in ambiguous}
    return _labels


# Numbers ------------------------------------------------------------------------------------

def parse_int(text: str | None, *, minimum: int = 0, maximum: int = MAX_INT32) -> int | None:
    """``text`` as an integer in ``minimum..maximum``, or None.

    Only ASCII digits count (``'²'``, ``'٣'`` and ``'1_000'`` are not numbers here), so
    whatever passes fits an ``integer`` column unless a larger ``maximum`` is asked for.
    """
    text = (text or "").strip()
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def parse_id(text: str | None) -> int | None:
    """A row id (1 .. 2^31-1) from text, or None."""
    return parse_int(text, minimum=1)


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` in URLs: ASCII digits, at most 2^31-1 (every id column is ``integer``);
    anything else does not match (404).

    Werkzeug's own converter takes any length (``\\d`` also matches other scripts' digits);
    SQLite raises on an id past 64 bits, PostgreSQL on one past 2^31-1.
    """

    regex = r"[0-9]{1,19}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = MAX_INT32, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)
        if signed:
            self.regex = r"-?[0-9]{1,19}"


# Dates --------------------------------------------------------------------------------------

class BadDay(ValueError):
    """A date filter that is not a date, or out of the calendar's range; ``str`` says which."""


def parse_day(text: str, label: str) -> date:
    """A calendar day from ``YYYY-MM-DD``.

    :raise BadDay: not a date, or outside :data:`FIRST_DAY`..:data:`LAST_DAY`; the message
        names the field by ``label``.
    """
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadDay(_("“%(label)s” is not a date (use the calendar or YYYY-MM-DD).",
                       label=label)) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadDay(_("“%(label)s” must be a date between %(first)s and %(last)s.",
                       label=label, first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))
    return day


# Forms --------------------------------------------------------------------------------------

def refuse_control_characters(form: Any, field: Field) -> None:
    """Field validator: a named error for text carrying NUL or another control character."""
    values = field.raw_data or []
    if any(isinstance(v, str) and has_control_characters(v) for v in values):
        label = field.label.text
        made_up = label == field.name.replace("_", " ").title()  # WTForms' label for none
        raise StopValidation(control_character_message(field.name, None if made_up else label))


def strip(value: Any) -> Any:
    """Filter: surrounding whitespace is never meant in a filter value."""
    return value.strip() if isinstance(value, str) else value


class AppForm(FlaskForm):
    """Base of the app's forms: every field refuses control characters before its own checks.

    The request hook already refuses them at the edge; this keeps a form honest wherever its
    data comes from, and lets filter forms show the problem beside the other filters.
    """

    def validate(self, extra_validators: dict[str, list[Callable]] | None = None) -> bool:
        extra = {name: [refuse_control_characters, *(extra_validators or {}).get(name, [])]
                 for name in self._fields}
        return super().validate(extra)


class FilterForm(AppForm):
    """A GET form over the query string: no CSRF (it changes nothing), errors kept in order.

    Build it with ``Form(request.args)``; ``messages()`` lists what could not be used.
    """

    class Meta:
        csrf = False

    def __init__(self, args, **kwargs) -> None:
        super().__init__(formdata=args, **kwargs)

    def messages(self) -> list[str]:
        """Each field's first error, in the order the fields are declared."""
        return [str(field.errors[0]) for field in self if field.errors]


# The request hook -----------------------------------------------------------------------------

def reports_own_filter_errors(*params: str):
    """Mark a view whose filter form reports control characters in ``params`` on its own page
    (so the list shows "Some filters could not be used" with the other filters kept); every
    other parameter is still refused by the hook."""
    def mark(view):
        view.own_filter_params = frozenset(params)
        return view
    return mark


def _first_bad(items: Iterable[tuple[str, str]], skip: frozenset[str] = frozenset()) -> str | None:
    for key, value in items:
        if has_control_characters(key) or (key not in skip and has_control_characters(value)):
            return key
    return None


def _body_is_ours() -> bool:
    """Whether the hook may read the body: only within the app-wide size limit. A larger body
    is either refused (413) by whoever reads it first, or allowed by a view that raises the
    limit for itself (the import upload); reading it here would refuse it too early."""
    size, limit = request.content_length, current_app.config.get("MAX_CONTENT_LENGTH")
    return size is not None and (limit is None or size <= limit)


def refuse_control_characters_in_request():
    """``before_request``: a 400 naming the first field that carries a control character."""
    if has_control_characters(request.path):
        return render_error(400, _("The address contains a control character (such as a NUL "
                                   "byte). Check the link and open it again."))
    view = current_app.view_functions.get(request.endpoint or "")
    skip = getattr(view, "own_filter_params", frozenset())
    bad = _first_bad(request.args.items(multi=True), skip)
    if bad is not None:  # query strings are mostly read by hand: the parameter's name
        return render_error(400, control_character_message(bad))
    if request.method not in ("GET", "HEAD", "OPTIONS") and _body_is_ours():
        bad = _first_bad(request.form.items(multi=True))
        if bad is None:
            bad = _first_bad((key, f.filename or "") for key, f in request.files.items(multi=True))
        if bad is not None:  # a form of ours posted it: its field's label
            return render_error(400, control_character_message(bad, field_labels().get(bad)))
    return None


def init_app(app: Flask) -> None:
    """Bound the ``int`` URL converter (before any blueprint adds its rules) and install the
    request hook (first, so no other hook reads unchecked input)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_control_characters_in_request)
