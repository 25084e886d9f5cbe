"""Guards for the home-made XLSX reader, kept for its speed: generated workbooks must read the
same as openpyxl reads them, cell for cell, and a damaged file may only ever be refused with the
reader's own error (never crash an import with anything else).

The quick versions run with every test run; the ``slow`` ones try many more examples.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review_app.imports.reader import FileRefused, Limits, open_rows
from review_app.imports.xlsx import Workbook

#: Letters people type into requirement sheets: Russian, Kazakh, Latin, digits, punctuation
#: and the characters XML must escape. ("_" is left out: "_x0041_" is Excel's own escape.)
ALPHABET = ("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
            "әғқңөұүһіӘҒҚҢӨҰҮҺІ" "abcXYZ0123456789" " .,;:!?«»\"'&<>()№%-+=@\n\t")

texts = st.text(alphabet=ALPHABET, min_size=0, max_size=40)
numbers = st.one_of(
    st.integers(min_value=-10**12, max_value=10**12),
    # Decimals as people type them: at most 15 significant digits, as a spreadsheet keeps.
    st.builds(lambda whole, places: whole / 10**places,
              st.integers(min_value=-10**9, max_value=10**9), st.integers(0, 4)))
moments = st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(second=0, microsecond=0))
days = st.dates(min_value=date(1900, 3, 1), max_value=date(2099, 12, 31))
cells = st.one_of(st.none(), texts, numbers, st.booleans(), moments, days)
tables = st.lists(st.lists(cells, min_size=1, max_size=6), min_size=1, max_size=12)


def written_by(writer: str, table: list[list[object]]) -> bytes:
    """``table`` as a workbook: openpyxl (shared strings), XlsxWriter in memory (shared strings)
    or XlsxWriter in constant-memory mode (inline strings)."""
    out = io.BytesIO()
    if writer == "openpyxl":
        from openpyxl import Workbook as OpenpyxlWorkbook

        book = OpenpyxlWorkbook()
        sheet = book.active
        for r, values in enumerate(table, start=1):
            for c, value in enumerate(values, start=1):
                if value is None:
                    continue
                cell = sheet.cell(r, c)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # text, even when it starts with "="
                elif isinstance(value, date) and not isinstance(value, datetime):
                    cell.number_format = "dd.mm.yyyy"
        book.save(out)
        return out.getvalue()
    import xlsxwriter

    book = xlsxwriter.Workbook(out, {"in_memory": True} if writer == "xlsxwriter" else {
        "constant_memory": True, "tmpdir": tempfile.gettempdir()})
    sheet = book.add_worksheet("Требования")
    day = book.add_format({"num_format": "dd.mm.yyyy"})
    moment = book.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    for r, values in enumerate(table):
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(r, c, value, moment)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
            else:
                sheet.write_number(r, c, value)
    book.close()
    return out.getvalue()


def as_openpyxl_reads_it(data: bytes) -> dict[int, list[str]]:
    """Every non-empty row as openpyxl reads it, written as the import shows cell values."""
    from openpyxl import load_workbook

    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, datetime):
            shown = "%d.%m.%Y" if (value.hour, value.minute) == (0, 0) else "%d.%m.%Y %H:%M"
            return value.strftime(shown)
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else f"{value:.15g}"
        return str(value)

    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    rows = {}
    for r in range(1, sheet.max_row + 1):
        values = [text(sheet.cell(r, c).value) for c in range(1, sheet.max_column + 1)]
        while values and not values[-1]:
            values.pop()
        if values:
            rows[r] = values
    book.close()
    return rows


def as_our_reader_reads_it(data: bytes) -> dict[int, list[str]]:
    book = Workbook(io.BytesIO(data))
    try:
        rows = {}
        for number, values in book.rows(book.sheets[0]):
            while values and not values[-1]:
                values = values[:-1]
            if values:
                rows[number] = values
        return rows
    finally:
        book.close()


def _same_as_openpyxl(writer: str, table: list[list[object]]) -> None:
    data = written_by(writer, table)
    assert as_our_reader_reads_it(data) == as_openpyxl_reads_it(data)


QUICK = settings(max_examples=25, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=400, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("writer", ["openpyxl", "xlsxwriter", "xlsxwriter-inline"])
@QUICK
@given(table=tables)
def test_generated_workbooks_read_cell_for_cell_as_openpyxl_reads_them(writer, table):
    _same_as_openpyxl(writer, table)


@pytest.mark.slow
@pytest.mark.parametrize("writer", ["openpyxl", "xlsxwriter", "xlsxwriter-inline"])
@LONG
@given(table=tables)
def test_many_generated_workbooks_read_cell_for_cell_as_openpyxl_reads_them(writer, table):
    _same_as_openpyxl(writer, table)


# Damaged files ------------------------------------------------------------------------------

def _valid_workbook() -> bytes:
    header = ["Код требования", "Код сферы", "Наименование", "Текст требования"]
    table = [header] + [[f"KZ-07-{n:03d}", "07", f"Өрт қауіпсіздігі {n}", "Мәтін " * n,
                         datetime(2024, 1, 1 + n % 28, 9, 30), 1_500_000 + n / 10]
                        for n in range(1, 40)]
    return written_by("xlsxwriter", table)


VALID = _valid_workbook()
with zipfile.ZipFile(io.BytesIO(VALID)) as _zip:
    PARTS = sorted(_zip.namelist())

#: XML a broken producer or an attacker might put inside an otherwise valid archive.
BROKEN_XML = [
    b"", b"<", b"not xml at all", b"<worksheet><sheetData><row r='1'><c r='A1'><v>1",
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>",
    b"<worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'><sheetData>"
    b"<row r='-1'><c r='ZZZZZZ1' t='s'><v>99999999</v></c></row></sheetData></worksheet>",
    b"<sst><si><t>\xff\xfe</t></si></sst>", b"\x00" * 64,
    b"<worksheet><sheetData><row r='2'/><row r='1'/></sheetData></worksheet>",
    b"<worksheet><sheetData><row><c r='A1' t='n'><v>1e999999</v></c><c r='B1' s='999'>"
    b"<v>nan</v></c></row></sheetData></worksheet>",
]


def _replace_part(data: bytes, part: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, content if name == part else source.read(name))
    return out.getvalue()


def _read_everything(data: bytes) -> None:
    """Read ``data`` as an upload is read; only the reader's refusal may come out of it."""
    fd, path = tempfile.mkstemp(suffix=".bin")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            _, rows = open_rows(path, limits=Limits())
            for _ in rows:
                pass
        except FileRefused:
            pass  # the only acceptable failure: a refusal with its reason, shown to the admin
    finally:
        os.unlink(path)


damage = st.one_of(
    st.tuples(st.just("flip"), st.lists(st.tuples(st.integers(0, len(VALID) - 1),
                                                  st.integers(1, 255)), min_size=1,
                                        max_size=8)),
    st.tuples(st.just("truncate"), st.integers(0, len(VALID) - 1)),
    st.tuples(st.just("part"), st.tuples(st.sampled_from(PARTS), st.sampled_from(BROKEN_XML))),
)


def _damaged(how: tuple) -> bytes:
    kind, detail = how
    if kind == "flip":
        data = bytearray(VALID)
        for at, mask in detail:
            data[at] ^= mask
        return bytes(data)
    if kind == "truncate":
        return VALID[:detail]
    part, content = detail
    return _replace_part(VALID, part, content)


def test_the_valid_workbook_the_damage_starts_from_reads():
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(VALID)
        _, rows = open_rows(path)
        assert len(list(rows)) == 39
    finally:
        os.unlink(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(how=damage)
def test_a_damaged_workbook_is_only_ever_refused_by_the_reader(how):
    _read_everything(_damaged(how))


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(how=damage)
def test_many_damaged_workbooks_are_only_ever_refused_by_the_reader(how):
    _read_everything(_damaged(how))


def test_an_archive_claiming_a_zip_version_python_lacks_is_refused_by_name():
    """Found by the fuzz test: one flipped bit in the directory made zipfile raise
    NotImplementedError, which escaped the reader as a crash."""
    data = bytearray(VALID)
    directory = data.find(b"PK\x01\x02")
    data[directory + 6] = 84  # "version needed to extract": 8.4
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(bytes(data))
        with pytest.raises(FileRefused) as refused:
            open_rows(path)
        assert refused.value.code == "bad_xlsx"
    finally:
        os.unlink(path)
