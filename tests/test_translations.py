"""The Russian and Kazakh catalogs are complete, keep every placeholder, and match the code.

These tests read the .po files and the source directly (no app, no database), so they are fast.
A developer who adds a translatable string without running extract / update and translating it
gets a failing test that lists the missing strings. To fix it:

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \\
        -k lazy_pgettext:1c,2 -o review_app/translations/messages.pot .
    .venv/bin/pybabel update -i review_app/translations/messages.pot \\
        -d review_app/translations --no-fuzzy-matching

then fill in the empty msgstr entries in the ru and kk catalogs.
"""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import PYTHON_FORMAT, Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "review_app" / "translations"
TRANSLATED = ("ru", "kk")
ALL = ("ru", "kk", "en")
PLURALS = {"ru": 3, "kk": 2, "en": 2}
#: Babel's defaults (_, gettext, ngettext, pgettext, npgettext, ...) plus Flask-Babel's lazy
#: variants as the app imports them.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2), "lazy_pgettext": ((1, "c"), 2)}


@cache
def catalog(language: str) -> Catalog:
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        return read_po(f, locale=language, abort_invalid=True)


def placeholders(text: str) -> set[tuple[str, str]]:
    """``{("name", "s"), ...}`` for every ``%(name)s`` / ``%d`` in ``text``, ignoring ``%%``."""
    return {(m.group(1) or "", m.group(3)) for m in PYTHON_FORMAT.finditer(text)
            if m.group(3) != "%"}


def describe(message) -> str:
    key = message.id if isinstance(message.id, str) else message.id[0]
    return repr(key) + (f" (context {message.context!r})" if message.context else "")


@cache
def extracted() -> dict[tuple[str | None, str], tuple[bool, str]]:
    """Every translatable string in review_app: (context, msgid) -> (is plural, first location)."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    app_dir = str(ROOT / "review_app")

    def inside_app(path: str) -> bool:
        name = os.path.basename(path)
        under_app = path == app_dir or path.startswith(app_dir + os.sep)
        return (under_app or app_dir.startswith(path + os.sep)) and not name.startswith((".", "_"))

    found: dict[tuple[str | None, str], tuple[bool, str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS,
            directory_filter=inside_app):
        plural = isinstance(message, tuple | list)
        msgid = message[0] if plural else message
        if not msgid:
            continue
        key = (context, msgid)
        was_plural, where = found.get(key, (False, f"{filename}:{lineno}"))
        found[key] = (plural or was_plural, where)
    return found


@pytest.mark.parametrize("language", ALL)
def test_header(language):
    cat = catalog(language)
    assert str(cat.locale) == language
    assert cat.num_plurals == PLURALS[language]
    assert cat.charset.lower() == "utf-8"
    assert not cat.fuzzy, "the header is marked fuzzy; remove '#, fuzzy' above msgid \"\""


def test_russian_plural_rule():
    plural = gettext.c2py(catalog("ru").plural_expr)
    one, few, many = (1, 21, 101, 1001), (2, 4, 22, 104), (0, 5, 11, 12, 14, 111, 1000)
    assert [plural(n) for n in one + few + many] == [0] * 4 + [1] * 4 + [2] * 7


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language):
    cat = catalog(language)
    problems = []
    for message in cat:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"{describe(message)} is marked fuzzy")
        if message.pluralizable:
            forms = message.string if isinstance(message.string, tuple | list) else ()
            if len(forms) != cat.num_plurals or not all(forms):
                problems.append(f"{describe(message)} needs {cat.num_plurals} plural forms, "
                                f"has {forms!r}")
        elif not message.string:
            problems.append(f"{describe(message)} is not translated")
    assert not problems, f"{language}: " + "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_are_kept(language):
    problems = []
    for message in catalog(language):
        if not message.id:
            continue
        ids = message.id if message.pluralizable else (message.id,)
        strings = message.string if message.pluralizable else (message.string,)
        # Each form must carry every placeholder of the English plural (or only) form.
        expected = placeholders(ids[-1])
        for form in strings:
            if form and placeholders(form) != expected:
                problems.append(f"{describe(message)}: expected {sorted(expected)}, "
                                f"got {sorted(placeholders(form))} in {form!r}")
    assert not problems, f"{language}: " + "\n".join(problems)


@pytest.mark.parametrize("language", ALL)
def test_catalog_has_every_string_in_the_code(language):
    cat = catalog(language)
    missing = []
    for (context, msgid), (plural, where) in sorted(extracted().items(),
                                                    key=lambda kv: kv[1][1]):
        message = cat.get(msgid, context)
        if message is None:
            missing.append(f"{where}: {msgid!r}")
        elif plural and not message.pluralizable:
            missing.append(f"{where}: {msgid!r} is used with a plural but has none in the catalog")
    assert not missing, (
        f"{len(missing)} string(s) in the code are missing from the {language} catalog; run "
        "pybabel extract and update (see this file's docstring) and translate them:\n"
        + "\n".join(missing))


def test_extraction_finds_the_app_strings():
    """Guard against the check above passing vacuously (e.g. a broken babel.cfg)."""
    found = extracted()
    assert (None, "Requirements") in found  # a template
    assert (None, "Approve") in found  # a template
    assert (None, "Choose cancel, revise or keep.") in found  # lazy_gettext in Python
    assert found[(None, "%(num)s requirement")][0]  # ngettext keeps its plural
    assert any(context for context, _msgid in found)  # lazy_pgettext keeps its context
