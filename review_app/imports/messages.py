"""Problems found in an import file, in words an administrator can act on.

Problems are stored as codes with parameters and put into words when shown, so each admin
reads them in their own language.
"""

from __future__ import annotations

from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from review_app.i18n import current_language
from review_app.imports.columns import BY_NAME, COLUMNS
from review_app.imports.validate import Problem
from review_app.reviews.workflow import state_label
from review_app.scm import compute as scm_compute

MESSAGES = {
    # The file as a whole.
    "empty_file": _l("The file is empty. Choose the file again: it may not have been saved."),
    "too_large": _l("The file is too large: at most %(limit)s can be imported at once. Split it "
                    "into several files (for example by area) and import them one after "
                    "another."),
    "not_text": _l("This is not a CSV or XLSX file: it contains binary data. Open it in Excel "
                   "and save it as “Excel Workbook (*.xlsx)” or “CSV UTF-8”."),
    "old_excel": _l("This is an old Excel 97–2003 file (.xls). Open it in Excel and save it as "
                    "“Excel Workbook (*.xlsx)”."),
    "opendocument": _l("This is an OpenDocument spreadsheet (.ods). Save it as “Excel Workbook "
                       "(*.xlsx)” or as CSV."),
    "utf16": _l("This text file is saved as UTF-16 (“Unicode text”). Save it as “CSV UTF-8” "
                "or as CSV in Windows-1251."),
    "unknown_encoding": _l("The text encoding of this CSV could not be recognised: it is "
                           "neither UTF-8 nor Windows-1251. Save it as “CSV UTF-8”."),
    "bad_encoding": _l("The file is not valid %(encoding)s (the first wrong byte is at position "
                       "%(offset)s). Choose another encoding or “Detect automatically”."),
    "csv_malformed": _l("The CSV is broken at line %(line)s (%(detail)s). Often a quotation "
                        "mark is not closed; check that line in a text editor."),
    "zip_bomb": _l("The XLSX file would unpack to more than the server accepts (%(size)s). It is "
                   "damaged or built to overload the server, and was not opened."),
    "not_xlsx": _l("This zip archive is not an Excel workbook. Save the spreadsheet as “Excel "
                   "Workbook (*.xlsx)”."),
    "bad_xlsx": _l("The XLSX file is damaged and cannot be read (%(detail)s). Open it in Excel, "
                   "save it again and import the new file."),
    "too_wide": _l("Cell %(cell)s holds a value far to the right of the table (beyond column "
                   "%(limit)s). Delete what lies to the right of the requirements and import the "
                   "file again."),
    "no_rows": _l("The file has no rows at all."),
    "no_header": _l("No row of column names was found in the first 10 rows. The first row "
                    "reads: %(first_row)s. Name the columns as in the example file, e.g. "
                    "%(expected)s."),
    "no_data_rows": _l("The file has column names but no requirements under them."),
    "too_many_rows": _l("The file has more than %(limit)s rows. Split it into several files."),
    "missing_columns": _l("Required columns are missing: %(columns)s. Add them (the names are "
                          "in the table of columns above) and import the file again."),
    "duplicate_column": _l("Several columns mean the same thing: %(headers)s. Keep one of them."),
    "lost_letters": _l("A “?” stands inside a word (%(word)s): letters were lost when the file "
                       "was saved in an encoding without Kazakh letters (ә, ғ, қ, ң, ө, ұ, ү, "
                       "һ), such as Windows-1251. Save the table as “CSV UTF-8” or as an Excel "
                       "workbook (.xlsx) and import that file."),
    "review_columns": _l("The review columns of an export are left aside: %(headers)s. An import "
                         "never changes reviews (states, decisions, assignments)."),
    "hidden_rows": _l("Rows hidden in the spreadsheet are imported like the others: %(rows)s. "
                      "If they should not be imported, delete them from the file."),
    "unknown_columns": _l("These columns are not recognised and are not imported: %(headers)s. "
                          "If one of them should be imported, rename it as in the table of "
                          "columns."),
    # One cell or row.
    "required": _l("Empty, but this column is required."),
    "too_long": _l("Too long: %(length)s characters, at most %(max)s."),
    "unknown_area": _l("No area has this code. Use the two-digit codes of the areas list "
                       "(01–44)."),
    "duplicate_code": _l("This code is already used on row %(first_row)s of the file; each "
                         "requirement must appear once."),
    "bad_number": _l("Not a number. Write digits only, e.g. 1500000 or 1 500 000."),
    "fraction": _l("Not a whole number. Round it to whole tenge or whole businesses."),
    "negative_number": _l("A negative number is not possible here."),
    "number_too_large": _l("The number is too large."),
    "formula": _l("A spreadsheet formula, not a value. Formulas are not imported: replace it "
                  "with its text (in Excel: Copy, then Paste Special → Values)."),
    "scm_parts": _l("Cost inputs, line %(line)s: write “action; hours; tariff code or hourly "
                    "tariff; outside costs; times a year; share %%”, separated by “;” (the last "
                    "three may be left out)."),
    "scm_value": _l("Cost inputs, line %(line)s: “%(part)s” is not a number or a range such as "
                    "3 (2–5)."),
    "scm_tariff": _l("Cost inputs, line %(line)s: there is no tariff “%(code)s”. Ask an "
                     "administrator to add it, or write the hourly tariff in tenge."),
    "scm_too_many": _l("Cost inputs: at most %(max)s actions per requirement."),
    "value_without_header": _l("This cell has a value but its column has no name, so it "
                               "cannot be imported. Name the column or clear the cell."),
    "reviewed_area_move": _l("Requirement %(code)s is already being reviewed (%(state)s) in "
                             "another area; an import does not move it. Keep its old area "
                             "code, or ask the area leads."),
    # Import as a whole, when a worker stopped.
    "changed-meanwhile": _l("The register changed while the file was being imported (someone "
                            "added or edited the same requirements). Nothing was imported; "
                            "upload the file again to see the current differences."),
    "worker-lost": _l("The work on this file stopped unexpectedly (the background worker was "
                      "stopped). Nothing was imported; upload the file again."),
    "request-lost": _l("The work on this file was cut off (the web server restarted while it "
                       "ran). Nothing was imported; upload the file again."),
    "queue-unavailable": _l("The background workers could not be reached. Nothing was "
                            "imported; try again later or ask the operator."),
}


def file_size(n: int) -> str:
    if n >= 1024 * 1024:
        return _("%(n)s MB", n=format_decimal(round(n / 1024 / 1024, 1)))
    return _("%(n)s KB", n=format_decimal(max(1, round(n / 1024))))


def column_label(name: str) -> str:
    """``text (Текст требования)`` — the documented name and the Russian header."""
    column = BY_NAME.get(name)
    return f"{name} ({column.russian})" if column else name


#: Problems of the file as a whole that still name a row (the header's, a malformed line).
FILE_LEVEL = frozenset({"missing_columns", "no_data_rows", "csv_malformed", "duplicate_column"})

#: Columns whose change is shown as a word diff rather than "old → new".
LONG_FIELDS = frozenset({"title", "text", "legal_act", "issuing_body"})


def shown_value(value: object) -> str:
    """A stored or imported value as the change list shows it."""
    if value is None or value == "":
        return _("(empty)")
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value)
    if isinstance(value, list):  # SCM inputs, as the file writes them
        return scm_compute.format_cell(scm_compute.load(value))
    return str(value)


def column_title(name: str) -> str:
    """A column as the reader's spreadsheet would name it: Russian headers for Russian and
    Kazakh speakers, the documented English name otherwise."""
    column = BY_NAME.get(name)
    if column is None:
        return name
    return column.name if current_language() == "en" else column.russian


def describe(problem: Problem | dict[str, Any]) -> str:
    """The problem in words, in the current language."""
    if isinstance(problem, dict):
        problem = Problem.from_dict(problem)
    template = MESSAGES.get(problem.code)
    if template is None:
        return problem.code
    params: dict[str, Any] = dict(problem.params)
    for key in ("limit", "size"):
        if isinstance(params.get(key), int) and (problem.code in ("too_large", "zip_bomb")):
            params[key] = file_size(params[key])
    if problem.code == "too_many_rows":
        params["limit"] = format_decimal(params.get("limit", 0))
    if "columns" in params:
        params["columns"] = ", ".join(column_label(c) for c in params["columns"])
    if "expected" in params:
        params["expected"] = ", ".join(c.russian for c in COLUMNS[:4])
    if problem.code == "hidden_rows":
        rows = ", ".join(str(n) for n in params.get("rows", []))
        more = params.get("count", 0) - len(params.get("rows", []))
        params["rows"] = rows + (" " + _("and %(n)s more", n=format_decimal(more))
                                 if more > 0 else "")
    for key in ("headers", "first_row"):
        if isinstance(params.get(key), list):
            params[key] = "; ".join(params[key]) or "—"
    if problem.code == "reviewed_area_move":
            params["state"] = state_label(params.get("state", "proposed"))
    try:
        return str(template) % params if params or "%(" in str(template) else str(template)
    except (KeyError, ValueError, TypeError):
        return str(template)


def where(problem: Problem | dict[str, Any]) -> str:
    """``Row 12, column C “Код сферы”`` — where to look in the spreadsheet."""
    if isinstance(problem, dict):
        problem = Problem.from_dict(problem)
    parts = []
    if problem.row is not None:
        parts.append(_("row %(n)s", n=problem.row))
    if problem.letter:
        header = f" “{problem.header}”" if problem.header else ""
        parts.append(_("column %(letter)s", letter=problem.letter) + header)
    elif problem.column:
        parts.append(column_label(problem.column))
    return ", ".join(parts)


#: Short names of row problems, for the summary above the table ("3 × unknown area code").
KINDS = {
    "required": _l("empty required cell"),
    "too_long": _l("text too long"),
    "unknown_area": _l("unknown area code"),
    "duplicate_code": _l("code repeated in the file"),
    "bad_number": _l("not a number"),
    "fraction": _l("not a whole number"),
    "negative_number": _l("negative number"),
    "number_too_large": _l("number too large"),
    "formula": _l("formula instead of a value"),
    "lost_letters": _l("letters lost by the file's encoding"),
    "scm_parts": _l("Cost inputs, line %(line)s: write “action; hours; tariff code or hourly "
                    "tariff; outside costs; times a year; share %%”, separated by “;” (the last "
                    "three may be left out)."),
    "scm_value": _l("Cost inputs, line %(line)s: “%(part)s” is not a number or a range such as "
                    "3 (2–5)."),
    "scm_tariff": _l("Cost inputs, line %(line)s: there is no tariff “%(code)s”. Ask an "
                     "administrator to add it, or write the hourly tariff in tenge."),
    "scm_too_many": _l("Cost inputs: at most %(max)s actions per requirement."),
    "value_without_header": _l("value in a column without a name"),
    "reviewed_area_move": _l("reviewed requirement moved to another area"),
}


def kind(code: str) -> str:
    label = KINDS.get(code)
    return str(label) if label is not None else describe(Problem(code))
