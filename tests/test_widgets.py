"""The quicker ``html_params`` writes exactly what WTForms' own writes."""

from __future__ import annotations

import itertools

import pytest
from flask_babel import lazy_gettext
from markupsafe import Markup

from review_app import widgets

VALUES = ["plain", 'a "quoted" <b>&amp;</b>', "Қазақша ‘ü’", 7, 0, 2.5, True, False, None,
          Markup('<i title="x">ok</i>'), Markup("&quot;"), ""]
KEYS = ["name", "class_", "for_", "data_row_id", "aria_described_by", "data-x", "<odd>",
        "id", "checked", "value_"]


@pytest.mark.parametrize("key", KEYS)
def test_each_attribute_is_written_as_wtforms_writes_it(key):
    for value in VALUES:
        assert widgets.html_params(**{key: value}) == widgets.original_html_params(
            **{key: value}), (key, value)


def test_several_attributes_keep_wtforms_order_and_text():
    for keys in itertools.combinations(KEYS, 3):
        for values in itertools.combinations(VALUES, 3):
            kwargs = dict(zip(keys, values, strict=True))
            new, old = widgets.html_params(**kwargs), widgets.original_html_params(**kwargs)
            assert new == old and isinstance(new, Markup), kwargs


def test_a_lazy_translation_as_a_value_is_written_the_same(app):
    with app.test_request_context():
        label = lazy_gettext("Comment")
        assert widgets.html_params(placeholder=label) == widgets.original_html_params(
            placeholder=label)


def test_forms_render_through_it_once_the_app_is_built(app):
    from wtforms.widgets import core

    assert core.html_params is widgets.html_params
    assert core.Input.html_params is widgets.html_params
