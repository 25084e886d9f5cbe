"""WTForms' ``html_params`` (every attribute of every form field we render), without
``Markup.format``.

WTForms builds each ``name="value"`` pair with ``Markup('{k}="{v}"').format(...)``, which goes
through ``string.Formatter`` and escapes each piece again: on the requirement page (about 50
fields and options in the proposal, decision, cost, comment and assignment forms) that was a
quarter of the page's CPU time (cProfile, bench/cpu_per_request.py). This gives the same
attributes, byte for byte (``tests/test_widgets.py`` compares it with the original), with plain
string formatting around the same ``escape``.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.widgets import core

#: WTForms' own, kept for comparison.
original_html_params = core.html_params


def html_params(**kwargs) -> Markup:
    """HTML attributes from keyword arguments, as ``wtforms.widgets.html_params`` writes
    them: sorted by name, ``True`` a bare attribute, ``False`` left out, values escaped."""
    parts = []
    for key, value in sorted(kwargs.items()):
        key = core.clean_key(key)
        if value is True:
            parts.append(str(escape(key)))
        elif value is not False:
            parts.append(f'{escape(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(parts))


def install() -> None:
    """Use :func:`html_params` wherever WTForms renders attributes (idempotent)."""
    core.html_params = widgets.html_params = html_params
    core.Input.html_params = core.Button.html_params = staticmethod(html_params)
