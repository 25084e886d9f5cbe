"""Languages: Kazakh, Russian and English. The user's choice sticks (account, then cookie)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    has_app_context,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_babel import format_datetime, format_timedelta, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from review_app import formatting
from review_app.extensions import babel, db
from review_app.urls import safe_next_url

bp = Blueprint("i18n", __name__)

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
COOKIE = "lang"


def select_locale() -> str:
    """The signed-in user's language, else the cookie's, else the browser's; outside a request
    (CLI commands, workers) the configured default."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/v1/") and request.accept_languages:
        # A script says which language it wants its problem details in, per request.
        return request.accept_languages.best_match(languages) or current_app.config[
            "BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = request.cookies.get(COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"]


def active_locale():
    """``get_locale()``, read straight from where Flask-Babel keeps it for the request once it
    has chosen it (its own look-up costs three context-local look-ups; the templates ask for
    the language a few hundred times a page, once per number). ``force_locale`` sets it there
    too."""
    if has_app_context():
        locale = getattr(g.get("_flask_babel"), "babel_locale", None)
        if locale is not None:
            return locale
    return get_locale()


def current_language() -> str:
    return str(active_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


@bp.post("/language")
def set_language():
    """Remember the chosen language on the account (if signed in) and in a cookie."""
    language = request.form.get("language", "")
    target = safe_next_url(request.form.get("next")) or url_for("requirements.index")
    response = redirect(target)
    if language not in current_app.config["LANGUAGES"]:
        return response
    if current_user.is_authenticated:
        current_user.language = language
        db.session.commit()
    response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _number(value: int | None) -> str:
    return formatting.number(value, current_language())


def _money(value: int | None) -> str:
    return formatting.money(value, current_language())


def _duration(value) -> str:
    """A time span in the largest sensible unit, e.g. "3 days", "5 hours"."""
    return format_timedelta(value, threshold=1.5)


def _when(value) -> str:
    return "" if value is None else format_datetime(value, "dd.MM.yyyy HH:mm")


def _translations():
    """Flask-Babel's ``get_translations()``, remembered while the locale stays the same object
    (``force_locale`` and ``refresh`` make a new one). Flask-Babel looks the catalogue up
    anew for every string -- four context look-ups and a locale name built each time, ~20 µs;
    a list page translates about a hundred strings."""
    if not has_app_context():
        return get_translations()
    locale = active_locale()
    memo = g.get("_translations")
    if memo is None or memo[0] is not locale:
        memo = g._translations = (locale, get_translations())
    return memo[1]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # The templates' _(), ngettext(): as Flask-Babel installs them, on the remembered catalogue.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.register_blueprint(bp)
    app.jinja_env.filters.update(money=_money, number=_number, when=_when, duration=_duration)

    @app.context_processor
    def _languages():
        return {"LANGUAGE_NAMES": LANGUAGE_NAMES, "current_language": current_language}


# Names used in templates for yes/no answers.
YES_NO = {True: _l("yes"), False: _l("no"), None: "—"}
