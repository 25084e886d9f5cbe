"""Reading and checking an import file, without a database: every kind of file a ministry
might send, and what the administrator is told about it."""

from __future__ import annotations

import os
import tempfile

import pytest

from review_app.imports.reader import FileRefused, Limits, open_rows
from review_app.imports.validate import RowValidator, layout_problems
from tests.importing import EN, RU, RU4, csv_bytes, row, xlsx_bytes, zip_bomb

AREAS = {"07": 1, "12": 2}


def read(data: bytes, **options):
    """Layout, valid rows and problems of ``data``, as the import sees them."""
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(data)
    try:
        layout, rows = open_rows(f.name, **options)
        errors, warnings = layout_problems(layout)
        validator = RowValidator(layout, AREAS)
        good, problems = [], [*errors]
        for number, cells in rows:
            values, found = validator.validate(number, cells)
            problems.extend(found)
            if values:
                good.append(values)
        return layout, good, problems, warnings
    finally:
        os.unlink(f.name)


def refused(data: bytes, **options) -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        read(data, **options)
    return caught.value


# Encodings and separators ---------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_in_each_encoding_and_separator_reads_the_same(encoding, delimiter):
    data = csv_bytes([row("TR-07-1", title="Огнетушители, ёмкости")], delimiter=delimiter,
                     encoding=encoding)
    layout, good, problems, _ = read(data)
    assert problems == []
    assert layout.encoding == ("utf-8" if encoding.startswith("utf") else "cp1251")
    assert layout.delimiter == delimiter
    assert good[0]["title"] == "Огнетушители, ёмкости"
    assert good[0]["area_id"] == 1


def test_the_admin_may_choose_the_encoding_and_is_told_when_it_is_wrong():
    data = csv_bytes([row("TR-07-1")], encoding="cp1251")
    assert read(data, encoding="cp1251")[1][0]["code"] == "TR-07-1"
    problem = refused(data, encoding="utf-8")
    assert problem.code == "bad_encoding" and problem.params["encoding"] == "utf-8"


def test_english_headers_are_accepted_too():
    layout, good, problems, _ = read(csv_bytes([row("A-1", oked="47111")], headers=EN))
    assert problems == [] and good[0]["oked"] == "47111"


def test_header_below_a_title_row_is_found():
    data = xlsx_bytes([row("TR-07-1")], title_rows=["Перечень обязательных требований МЧС", ""])
    layout, good, problems, _ = read(data)
    assert layout.header_row == 3 and layout.format == "xlsx"
    assert [g["code"] for g in good] == ["TR-07-1"]


# Files that are not spreadsheets -------------------------------------------------------------

def test_empty_file_is_refused():
    assert refused(b"").code == "empty_file"
    assert refused(b"\xef\xbb\xbf\r\n  \r\n").code == "empty_file"


def test_binary_file_renamed_csv_is_refused():
    assert refused(os.urandom(4096) + b"\x00" * 100).code == "not_text"
    assert refused(b"%PDF-1.7\n" + bytes(range(256)) * 20).code == "not_text"


def test_old_excel_and_utf16_files_get_a_specific_hint():
    assert refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500).code == "old_excel"
    assert refused("код;текст".encode("utf-16")).code == "utf16"


def test_zip_bomb_disguised_as_xlsx_is_refused_before_unpacking():
    bomb = zip_bomb(450)  # 450 MiB of zeros in well under a megabyte
    assert len(bomb) < 1024 * 1024
    problem = refused(bomb)
    assert problem.code == "zip_bomb"
    # A lower limit catches a smaller one, by the declared total size.
    assert refused(zip_bomb(8), limits=Limits(max_uncompressed=4 * 1024 * 1024)).code == (
        "zip_bomb")


def test_a_zip_that_is_no_workbook_is_refused():
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
        zf.writestr("[Content_Types].xml", "<Types/>")
    assert refused(out.getvalue()).code == "not_xlsx"
    assert refused(b"PK\x03\x04" + b"garbage" * 50).code == "bad_xlsx"


# Headers ---------------------------------------------------------------------------------------

def test_header_in_another_language_is_refused_naming_what_was_found():
    data = csv_bytes(raw=[["Kod", "Bereich", "Titel", "Wortlaut"], ["X-1", "07", "t", "x"]])
    problem = refused(data)
    assert problem.code == "no_header"
    assert problem.params["first_row"] == ["Kod", "Bereich", "Titel", "Wortlaut"]


def test_missing_required_columns_are_named():
    data = csv_bytes([row("X-1")], headers=[RU[0], RU[2]])
    _, good, problems, _ = read(data)
    assert [p.code for p in problems] == ["missing_columns"]
    assert problems[0].params["columns"] == ["area_code", "text"]


def test_extra_columns_are_reported_and_ignored():
    raw = [[*RU4, "№ п/п", "Примечание"], ["X-1", "07", "Заголовок", "Текст", "1", "важно"]]
    _, good, problems, warnings = read(csv_bytes(raw=raw))
    assert problems == []
    assert warnings[0].code == "unknown_columns"
    assert warnings[0].params["headers"] == ["E: № п/п", "F: Примечание"]
    assert good[0]["text"] == "Текст"


def test_two_columns_with_the_same_meaning_are_refused():
    raw = [[*RU4, "text"], ["X-1", "07", "Заголовок", "Текст", "Другой текст"]]
    _, _, problems, _ = read(csv_bytes(raw=raw))
    assert problems[0].code == "duplicate_column"
    assert problems[0].params["headers"] == ["D: Текст требования", "E: text"]


# Cells -----------------------------------------------------------------------------------------

def test_each_bad_cell_is_named_by_row_column_and_reason():
    rows = [
        row("A-1"),
        row("A-2", area="99"),
        row("A-1"),
        row("A-4", title=""),
        row("A-5", annual_cost_kzt="много"),
        row("A-6", businesses_affected="12,5"),
        row("A-7", annual_cost_kzt="-5"),
        row("A-8", text='=HYPERLINK("http://evil.example","нажмите")'),
        row("A-9", title="Т" * 1001),
    ]
    _, good, problems, _ = read(csv_bytes(rows))
    assert [g["code"] for g in good] == ["A-1"]
    found = [(p.row, p.letter, p.code) for p in problems]
    assert found == [
        (3, "B", "unknown_area"), (4, "A", "duplicate_code"), (5, "C", "required"),
        (6, "J", "bad_number"), (7, "K", "fraction"), (8, "J", "negative_number"),
        (9, "D", "formula"), (10, "C", "too_long"),
    ]
    duplicate = problems[1]
    assert duplicate.params == {"first_row": 2} and duplicate.header == "Код требования"
    assert problems[6].value.startswith("=HYPERLINK")
    assert problems[7].params == {"length": 1001, "max": 1000}


def test_formula_cells_in_a_workbook_are_refused_not_evaluated():
    raw = [RU4, ["A-1", "07", "=1+1", "Текст"]]
    _, good, problems, _ = read(xlsx_bytes(raw=raw))
    assert good == [] and [(p.letter, p.code) for p in problems] == [("C", "formula")]


def test_numbers_and_codes_are_read_as_people_write_them():
    rows = [row("A-1", area="7", annual_cost_kzt="1 500 000", businesses_affected="12000,00"),
            row("A-2", annual_cost_kzt="1\u00a0200", oked="")]
    _, good, problems, _ = read(csv_bytes(rows))
    assert problems == []
    assert good[0]["area_id"] == 1 and good[0]["annual_cost_kzt"] == 1_500_000
    assert good[0]["businesses_affected"] == 12000
    assert good[1]["annual_cost_kzt"] == 1200 and good[1]["oked"] is None


def test_workbook_numbers_dates_and_numeric_area_codes():
    from datetime import datetime

    raw = [[*RU4, "Годовые издержки, тенге", "Реквизиты НПА"],
           ["A-1", 7, "Заголовок", "Текст", 1500000.0, datetime(2022, 2, 21)]]
    _, good, problems, _ = read(xlsx_bytes(raw=raw))
    assert problems == []
    assert good[0]["area_id"] == 1 and good[0]["annual_cost_kzt"] == 1_500_000
    assert good[0]["legal_act_ref"] == "21.02.2022"


def test_texts_are_cleaned_but_kept_as_written():
    text = "  Первая строка\r\nвторая\x07 строка  "
    _, good, _, _ = read(csv_bytes([row("A-1", text=text)]))
    assert good[0]["text"] == "Первая строка\nвторая строка"


def test_value_in_a_column_without_a_name_is_reported():
    raw = [RU4, ["A-1", "07", "Заголовок", "Текст", "", "лишнее"]]
    _, _, problems, _ = read(csv_bytes(raw=raw))
    assert [(p.letter, p.code) for p in problems] == [("F", "value_without_header")]


def test_too_many_rows_stops_the_read():
    data = csv_bytes([row(f"A-{i}") for i in range(6)])
    assert refused(data, limits=Limits(max_rows=5)).code == "too_many_rows"


def test_a_broken_csv_is_refused_with_the_line():
    data = ("Код требования;Код сферы;Наименование;Текст требования\r\n"
            "A-1;07;x;y\r\n").encode() + b"A-2;07;x;\"y\x00\r\n"
    problem = refused(data)
    assert problem.code in ("not_text", "csv_malformed")


def test_first_rows_of_codes_survive_the_table_growing():
    from review_app.imports.validate import FirstRows

    first = FirstRows(capacity=4)
    for n in range(5000):
        assert first.setdefault(f"A-{n}", n + 2) == n + 2
    assert len(first) == 5000
    assert [first.setdefault(f"A-{n}", 99_999) for n in (0, 1, 2047, 4999)] == [
        2, 3, 2049, 5001]
    assert len(first) == 5000
    assert first.setdefault("", 7) == 7 and first.setdefault("", 8) == 7


def test_two_codes_with_the_same_hash_are_two_codes(monkeypatch):
    """The table keys on 64-bit hashes, and checks the code itself when one matches."""
    from review_app.imports import validate

    class Code(str):
        def __hash__(self):
            return 42  # every code collides

    first = validate.FirstRows(capacity=4)
    for n in range(50):
        assert first.setdefault(Code(f"Б-{n}"), n + 2) == n + 2
    assert [first.setdefault(Code(f"Б-{n}"), 999) for n in (0, 17, 49)] == [2, 19, 51]
    assert len(first) == 50
