"""The problems of an import name the requirement, every damaged cell, and speak good grammar."""

from __future__ import annotations

import csv
import io

import pytest

from review_app.extensions import db
from review_app.imports.models import ImportStatus
from tests.importing import csv_bytes, row
from tests.test_imports import batch, preview, signed_in_admin  # noqa: F401 - a fixture

#: Every story here starts with an administrator signed in, on the import page.
pytestmark = pytest.mark.usefixtures("signed_in_admin")


def windows_1251(rows) -> bytes:
    """What Excel's "CSV (comma delimited)" writes on a Russian Windows: Kazakh letters as "?"."""
    return csv_bytes(rows, encoding="utf-8").decode().encode("cp1251", errors="replace")


def test_letters_lost_at_the_start_of_words_are_found_in_every_column(client):
    # "Өрт қауіпсіздігі" becomes "?рт ?ауіпсіздігі": no letter before the "?" to go by.
    data = windows_1251([row("KZ-07-001", title="Өрт қауіпсіздігі",
                             text="Ұлттық экономика министрлігінің талабы.")])
    ident, page = preview(client, data, "перечень.csv")
    saved = batch(ident)
    assert saved.status == ImportStatus.INVALID and saved.error_count == 2  # title and text
    assert "(?рт)" in page and "(?лтты)" in page


def test_a_question_mark_ending_a_word_is_not_taken_for_a_lost_letter(client):
    data = csv_bytes([row("RU-07-001", text="Кто отвечает? Собственник здания.")])
    ident, _ = preview(client, data, "перечень.csv")
    assert batch(ident).status == ImportStatus.READY


def test_the_problem_table_and_its_csv_show_the_requirement_code_next_to_the_row(client):
    data = csv_bytes([row("KZ-07-001"), row("KZ-07-002", area="99")])
    ident, page = preview(client, data, "перечень.csv")
    assert "Row Requirement code Column" in page
    assert "3 KZ-07-002 B · Код сферы" in page
    response = client.get(f"/admin/imports/{ident}/errors.csv")
    lines = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")),
                            delimiter=";"))
    assert lines[0][:3] == ["Row", "Requirement code", "Column"]
    assert lines[1][:3] == ["3", "KZ-07-002", "B"]


def test_one_problem_is_one_and_many_are_many_in_russian_and_kazakh(client, admin):
    one = csv_bytes([row("KZ-07-001", area="99")])
    two = csv_bytes([row("KZ-07-001", area="99"), row("KZ-07-002", area="98")])
    _, page = preview(client, one, "перечень.csv")
    assert "The file has 1 problem. Nothing was imported. Correct it in your spreadsheet" in page
    admin.language = "ru"
    db.session.commit()
    _, page = preview(client, one, "перечень.csv")
    assert "В файле 1 ошибка. Ничего не импортировано. Исправьте её в таблице" in page
    _, page = preview(client, two, "перечень.csv")
    assert "В файле 2 ошибки. Ничего не импортировано. Исправьте их в таблице" in page
    admin.language = "kk"
    db.session.commit()
    _, page = preview(client, one, "перечень.csv")
    assert "Оны кестеде түзетіп" in page
