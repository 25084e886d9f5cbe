"""The words inside summary files, translated into the language the summary was asked in.

The writers are pure and know only keys; this module (the Flask side) gives them the strings.
"""

from __future__ import annotations

from flask import has_app_context
from flask_babel import force_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l

TEXTS = {
    # Sheet names (at most 31 characters) and section titles.
    "sheet_summary": _l("Summary"),
    "sheet_areas": _l("Areas"),
    "sheet_cancelled": _l("Cancelled"),
    "sheet_revised": _l("Revised"),
    "sheet_kept": _l("Kept"),
    "sheet_pending": _l("Pending"),
    "sheet_reviewers": _l("Reviewers"),
    "title_all": _l("Review summary: all areas"),
    "title_area": _l("Review summary: area %(code)s %(name)s"),
    "as_of": _l("Data as of"),
    "generated": _l("Generated"),
    "section_figures": _l("Key figures"),
    "section_states": _l("Requirements by state and decision"),
    "section_areas": _l("All areas"),
    "section_cancelled": _l("Cancelled requirements"),
    "section_revised": _l("Revised requirements: current and new wording"),
    "section_kept": _l("Kept requirements"),
    "section_pending": _l("Still pending: no approved decision yet"),
    "section_reviewers": _l("Reviewer activity"),
    # Key figures.
    "fig_total": _l("Requirements"),
    "fig_approved": _l("With an approved decision"),
    "fig_complete": _l("Complete, %"),
    "fig_cancelled": _l("Cancelled"),
    "fig_revised": _l("Revised"),
    "fig_kept": _l("Kept"),
    "fig_in_review": _l("In review (proposed or returned)"),
    "fig_unreviewed": _l("Not reviewed yet"),
    "fig_proposed": _l("Proposed, waiting for the lead"),
    "fig_returned": _l("Returned for rework"),
    "fig_cost_removed": _l("Estimated annual cost removed by cancellations, ₸"),
    "fig_cost_touched": _l("Estimated annual cost of revised requirements, ₸"),
    "fig_cost_removed_low": _l("Cost removed by cancellations: low estimate, ₸"),
    "fig_cost_removed_high": _l("Cost removed by cancellations: high estimate, ₸"),
    "fig_cost_removed_imported": _l("Cost removed by cancellations as imported, ₸"),
    "fig_cost_touched_low": _l("Cost of revised requirements: low estimate, ₸"),
    "fig_cost_touched_high": _l("Cost of revised requirements: high estimate, ₸"),
    "fig_lacking": _l("Requirements without cost inputs (their imported estimate is used)"),
    "fig_cost_note": _l("Costs are computed by the Standard Cost Model from approved cost "
                        "inputs; where a requirement has none, its imported estimate is used."),
    # States and decisions: the same words as on the site.
    "state_unreviewed": lazy_pgettext("state", "unreviewed"),
    "state_proposed": lazy_pgettext("state", "proposed"),
    "state_returned": lazy_pgettext("state", "returned"),
    "state_approved": lazy_pgettext("state", "approved"),
    "decision_cancel": _l("cancel"),
    "decision_revise": _l("revise"),
    "decision_keep": _l("keep"),
    "no_decision": _l("no decision"),
    "total": _l("Total"),
    # Column headings.
    "col_area": _l("Area"),
    "col_area_name": _l("Area name"),
    "col_code": _l("Code"),
    "col_title": _l("Title"),
    "col_legal_basis": _l("Legal basis"),
    "col_issuing_body": _l("Issuing body"),
    "col_cost": _l("Annual cost, ₸"),
    "col_cost_low": _l("Annual cost, low, ₸"),
    "col_cost_high": _l("Annual cost, high, ₸"),
    "col_cost_source": _l("Cost from"),
    "col_cost_imported": _l("Imported estimate, ₸"),
    "cost_source_scm": _l("cost inputs"),
    "cost_source_imported": _l("imported estimate"),
    "col_cost_removed_low": _l("Cost removed, low, ₸"),
    "col_cost_removed_high": _l("Cost removed, high, ₸"),
    "col_cost_removed_imported": _l("Cost removed as imported, ₸"),
    "col_lacking": _l("Without cost inputs"),
    "col_justification": _l("Justification"),
    "col_deviation": _l("Why the decision differs from the tests"),
    "col_proposed_by": _l("Proposed by"),
    "col_proposed_at": _l("Proposed on"),
    "col_approved_by": _l("Approved by"),
    "col_approved_at": _l("Approved on"),
    "col_old_wording": _l("Current wording"),
    "col_new_wording": _l("New wording"),
    "col_state": _l("State"),
    "col_decision": _l("Proposed decision"),
    "col_assignee": _l("Assignee"),
    "col_updated": _l("Last change"),
    "col_person": _l("Person"),
    "col_email": _l("Email"),
    "col_proposals": _l("Proposals"),
    "col_approvals": _l("Approvals"),
    "col_returns": _l("Returns"),
    "col_reopens": _l("Reopened"),
    "col_comments": _l("Comments"),
    "col_assigned_open": _l("Assigned, not yet approved"),
    "col_last_active": _l("Last activity"),
    "col_total": _l("Requirements"),
    "col_approved": _l("Approved"),
    "col_complete": _l("Complete, %"),
    "col_cost_removed": _l("Cost removed, ₸"),
    "col_cost_touched": _l("Cost of revised, ₸"),
    # Charts.
    "chart_decisions": _l("Approved decisions"),
    "chart_states": _l("Requirements by state"),
    "chart_areas": _l("Progress by area"),
    # PDF only.
    "pdf_largest_cancelled": _l("Largest cancellations by estimated annual cost"),
    "pdf_largest_revised": _l("Largest revisions by estimated annual cost"),
    "pdf_full_lists": _l("The full lists of decisions, pending requirements and reviewer "
                         "activity are in the XLSX and CSV summaries."),
    "pdf_most_active": _l("The %(shown)s most active of %(all)s people; all of them are in the "
                          "XLSX and CSV summaries."),
    "pdf_page": _l("Page %(page)s of %(pages)s"),
    "none": _l("None."),
}


def texts_for(language: str) -> dict[str, str]:
    """Every summary text in ``language`` (English outside an app context, e.g. in unit tests)."""
    if not has_app_context():
        return {key: str(value) for key, value in TEXTS.items()}
    with force_locale(language):
        return {key: str(value) for key, value in TEXTS.items()}
