"""The words inside amendment package files, in the language the package was asked in.

The writers are pure and know only keys; this module (the Flask side) gives them the strings.
Most headings are the summaries' own, so both read the same.
"""

from __future__ import annotations

from flask import has_app_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

TEXTS = {
    "title": _l("Amendment package"),
    "subtitle": _l("Legal acts to amend: requirements with an approved decision to cancel "
                   "or revise"),
    "as_of": _l("Data as of"),
    "filter_area": _l("Area"),
    "filter_body": _l("Issuing body"),
    "filter_act": _l("Legal act"),
    "all": _l("all"),
    "totals": _l("Legal acts: %(acts)s; requirements to cancel: %(cancel)s, to revise: "
                 "%(revise)s."),
    "act_totals": _l("To cancel: %(cancel)s; to revise: %(revise)s."),
    "no_body": _l("Issuing body not stated"),
    "no_act": _l("Legal act not stated"),
    "none": _l("No requirement has an approved decision to cancel or revise among these."),
    "sheet_package": _l("Package"),
    "sheet_acts": _l("Legal acts"),
    "col_no": _l("No."),
    "col_body": _l("Issuing body"),
    "col_act": _l("Legal act"),
    "col_act_ref": _l("Number and date"),
    "col_article": _l("Article"),
    "col_area": _l("Area"),
    "col_code": _l("Code"),
    "col_title": _l("Title"),
    "col_requirement": _l("Requirement"),
    "col_decision": _l("Decision"),
    "col_current": _l("Current wording"),
    "col_new": _l("New wording"),
    "col_justification": _l("Justification"),
    "col_approved_by": _l("Approved by"),
    "col_approved_at": _l("Approved on"),
    "col_cancel": _l("To cancel"),
    "col_revise": _l("To revise"),
    "col_total": _l("Requirements"),
    "decision_cancel": _l("cancel"),
    "decision_revise": _l("revise"),
    "repeal": _l("(repealed: no new wording)"),
}


def texts_for(language: str) -> dict[str, str]:
    """Every package text in ``language`` (English outside an app context, e.g. unit tests)."""
    if not has_app_context():
        return {key: str(value) for key, value in TEXTS.items()}
    with force_locale(language):
        return {key: str(value) for key, value in TEXTS.items()}
