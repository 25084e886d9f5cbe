"""The streaming XLSX reader against workbooks written by Excel-like tools and by hand.

openpyxl and XlsxWriter write real workbooks (inline strings, shared strings, dates, formulas);
hand-written archives cover what other producers do (namespace prefixes, strict OOXML, rich and
phonetic text, missing references, the 1904 date system) and what an attacker might send.
"""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date, datetime

import pytest

from review_app.imports.reader import FileRefused, open_rows
from review_app.imports.xlsx import Workbook, XlsxError

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def archive(sheet: str, *, shared: str | None = None, styles: str | None = None,
            workbook: str | None = None, rels: str | None = None,
            extra: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", workbook or (
            f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
            '<sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        zf.writestr("xl/_rels/workbook.xml.rels", rels or (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
            '<Relationship Id="rId2" Target="sharedStrings.xml" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
            '<Relationship Id="rId3" Target="styles.xml" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/styles"/>'
            '</Relationships>'))
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared is not None:
            zf.writestr("xl/sharedStrings.xml", shared)
        if styles is not None:
            zf.writestr("xl/styles.xml", styles)
        for name, text in (extra or {}).items():
            zf.writestr(name, text)
    return out.getvalue()


def rows_of(data: bytes) -> list[tuple[int, list[str]]]:
    book = Workbook(io.BytesIO(data))
    try:
        return [(n, _trim(cells)) for n, cells in book.rows(book.sheets[0])]
    finally:
        book.close()


def _trim(cells: list[str]) -> list[str]:
    while cells and not cells[-1]:
        cells = cells[:-1]
    return cells


def sheet_xml(body: str, ns: str = MAIN, prefix: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{ns}"' if prefix else f'xmlns="{ns}"'
    return f'<{p}worksheet {xmlns}><{p}sheetData>{body}</{p}sheetData></{p}worksheet>'


# Workbooks written by libraries --------------------------------------------------------------

def _random_table(seed: int) -> list[list[object]]:
    rng = random.Random(seed)
    words = ["пожарной", "қауіпсіздік", "Субъекты", "ё", "a&b <c>", "  пробелы  ", "\"кавычки\""]
    table: list[list[object]] = [["code", "area_code", "title", "text", "oked"]]
    for i in range(300):
        table.append([
            f"R-{i:04d}", rng.choice([7, "07", 44, 1.0]),
            " ".join(rng.choices(words, k=rng.randint(1, 6))),
            rng.choice([None, "", "многострочный\nтекст", round(rng.random() * 1e6, 4),
                        12345678901234]),
            rng.choice([date(2022, 2, 21), datetime(2023, 5, 1, 14, 30), True, False, -5, 0.5]),
        ])
    return table


def _expected(table: list[list[object]]) -> list[tuple[int, list[str]]]:
    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, datetime):
            return value.strftime("%d.%m.%Y %H:%M")
        if isinstance(value, date):
            return value.strftime("%d.%m.%Y")
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else repr(value)
        return str(value)

    return [(n, _trim([text(v) for v in values])) for n, values in enumerate(table, start=1)]


def test_a_workbook_written_by_openpyxl_reads_cell_for_cell():
    from openpyxl import Workbook as OpenpyxlWorkbook

    table = _random_table(1)
    book = OpenpyxlWorkbook()
    for values in table:
        book.active.append(values)
    out = io.BytesIO()
    book.save(out)
    assert rows_of(out.getvalue()) == [r for r in _expected(table) if r[1]]


def test_a_workbook_with_shared_strings_written_by_xlsxwriter_reads_cell_for_cell():
    import xlsxwriter

    table = _random_table(2)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Требования")
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for r, values in enumerate(table):
        for c, value in enumerate(values):
            if isinstance(value, datetime):
                sheet.write_datetime(r, c, value, moment)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
            elif value is not None and value != "":
                sheet.write(r, c, value)
    book.close()
    assert rows_of(out.getvalue()) == [r for r in _expected(table) if r[1]]


def test_formulas_read_as_formulas_even_with_a_cached_value():
    body = ('<row r="1"><c r="A1"><f>1+1</f><v>2</v></c>'
            '<c r="B1" t="str"><f>HYPERLINK("http://evil.example","x")</f><v>x</v></c>'
            '<c r="C1"><f t="shared" ref="C1:C2" si="0">A1*2</f><v>4</v></c></row>'
            '<row r="2"><c r="C2"><f t="shared" si="0"/><v>3</v></c></row>')
    assert rows_of(archive(sheet_xml(body))) == [
        (1, ["=1+1", '=HYPERLINK("http://evil.example","x")', "=A1*2"]),
        (2, ["", "", "=A1*2"])]  # filled down: shown with the formula it was filled from


# What other producers write ------------------------------------------------------------------

SHARED = (f'<sst xmlns="{MAIN}"><si><t>Код</t></si>'
          '<si><r><t>Жирный </t></r><r><rPr><b/></rPr><t xml:space="preserve">и обычный</t></r>'
          '</si><si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si></sst>')


def test_rich_text_is_joined_and_phonetic_guides_are_left_out():
    body = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>' \
           '<c r="C1" t="s"><v>2</v></c></row>'
    assert rows_of(archive(sheet_xml(body), shared=SHARED)) == [
        (1, ["Код", "Жирный и обычный", "東京"])]


def test_excel_escapes_for_characters_xml_cannot_carry_are_undone():
    shared = (f'<sst xmlns="{MAIN}"><si><t>Строка 1_x000D_\nСтрока 2</t></si>'
              '<si><t>код _x005F_x0041_ как есть</t></si></sst>')
    body = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
            '<c r="C1" t="inlineStr"><is><t>a_x0009_b</t></is></c></row>')
    assert rows_of(archive(sheet_xml(body), shared=shared)) == [
        (1, ["Строка 1\r\nСтрока 2", "код _x0041_ как есть", "a\tb"])]


def test_a_workbook_written_by_xlsxwriter_with_line_breaks_reads_back_the_same():
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.add_worksheet().write_row(0, 0, ["Line1\r\nLine2", "see _x0041_ code"])
    book.close()
    assert rows_of(out.getvalue()) == [(1, ["Line1\r\nLine2", "see _x0041_ code"])]


def test_inline_strings_booleans_errors_and_iso_dates():
    body = ('<row r="2"><c r="A2" t="inlineStr"><is><t>Текст</t></is></c>'
            '<c r="B2" t="inlineStr"><is><r><t>a</t></r><r><t>b</t></r>'
            '<rPh><t>x</t></rPh></is></c>'
            '<c r="C2" t="b"><v>1</v></c><c r="D2" t="e"><v>#N/A</v></c>'
            '<c r="E2" t="d"><v>2022-02-21T00:00:00</v></c>'
            '<c r="F2" t="n"><v>1.5E6</v></c><c r="G2"><v>0.1</v></c></row>')
    assert rows_of(archive(sheet_xml(body))) == [
        (2, ["Текст", "ab", "1", "#N/A", "21.02.2022", "1500000", "0.1"])]


def test_cells_and_rows_go_where_their_references_put_them():
    body = ('<row r="3"><c r="C3"><v>1</v></c><c><v>2</v></c><c r="AA3"><v>3</v></c></row>'
            '<row><c><v>4</v></c></row><row r="10"><c r="B10"><v>5</v></c></row>')
    rows = rows_of(archive(sheet_xml(body)))
    assert rows[0] == (3, ["", "", "1", "2"] + [""] * 22 + ["3"])
    assert rows[1:] == [(4, ["4"]), (10, ["", "5"])]


@pytest.mark.parametrize("ns,prefix", [(MAIN, "x"), (STRICT, ""), (STRICT, "s")])
def test_namespace_prefixes_and_strict_ooxml(ns, prefix):
    p = f"{prefix}:" if prefix else ""
    body = (f'<{p}row r="1"><{p}c r="A1" t="s"><{p}v>0</{p}v></{p}c>'
            f'<{p}c r="B1"><{p}v>7</{p}v></{p}c></{p}row>')
    shared = (f'<sst xmlns="{ns}"><si><t>Код</t></si></sst>' if not prefix else
              f'<{prefix}:sst xmlns:{prefix}="{ns}"><{prefix}:si><{prefix}:t>Код'
              f'</{prefix}:t></{prefix}:si></{prefix}:sst>')
    assert rows_of(archive(sheet_xml(body, ns, prefix), shared=shared)) == [(1, ["Код", "7"])]


STYLES = (f'<styleSheet xmlns="{MAIN}"><numFmts count="2">'
          '<numFmt numFmtId="164" formatCode="dd/mm/yyyy;@"/>'
          '<numFmt numFmtId="165" formatCode="#,##0 &quot;тг&quot;"/></numFmts>'
          '<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>'
          '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
          '<xf numFmtId="165"/><xf numFmtId="22"/></cellXfs></styleSheet>')


def test_numbers_shown_as_dates_read_as_dates_and_others_as_numbers():
    body = ('<row r="1"><c r="A1" s="0"><v>44613</v></c><c r="B1" s="1"><v>44613</v></c>'
            '<c r="C1" s="2"><v>44613</v></c><c r="D1" s="3"><v>1500000</v></c>'
            '<c r="E1" s="4"><v>44613.5</v></c><c r="F1" s="1"><v>59</v></c></row>')
    assert rows_of(archive(sheet_xml(body), styles=STYLES)) == [
        (1, ["44613", "21.02.2022", "21.02.2022", "1500000", "21.02.2022 12:00", "28.02.1900"])]


def test_times_durations_codes_with_zeros_and_long_fractions_read_as_excel_shows_them():
    styles = (f'<styleSheet xmlns="{MAIN}"><numFmts count="3">'
              '<numFmt numFmtId="164" formatCode="h:mm"/>'
              '<numFmt numFmtId="165" formatCode="[h]:mm"/>'
              '<numFmt numFmtId="166" formatCode="00000"/></numFmts>'
              '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="165"/>'
              '<xf numFmtId="166"/></cellXfs></styleSheet>')
    body = ('<row r="1"><c r="A1" s="1"><v>0.5</v></c><c r="B1" s="2"><v>1.5</v></c>'
            '<c r="C1" s="3"><v>1110</v></c><c r="D1"><v>3000000.0000000005</v></c>'
            '<c r="E1"><v>0.30000000000000004</v></c><c r="F1"><v>1E+300</v></c></row>')
    assert rows_of(archive(sheet_xml(body), styles=styles)) == [
        (1, ["12:00", "1.5", "01110", "3000000", "0.3", "1e+300"])]


def test_the_1904_date_system():
    workbook = (f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><workbookPr date1904="1"/>'
                '<sheets><sheet name="A" sheetId="1" r:id="rId1"/></sheets></workbook>')
    body = '<row r="1"><c r="A1" s="1"><v>43151</v></c></row>'
    assert rows_of(archive(sheet_xml(body), styles=STYLES, workbook=workbook)) == [
        (1, ["21.02.2022"])]


def test_hidden_sheets_are_skipped_and_absolute_targets_followed(tmp_path):
    workbook = (f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
                '<sheet name="Скрытый" sheetId="1" state="hidden" r:id="rId1"/>'
                '<sheet name="Данные" sheetId="2" r:id="rId2"/></sheets></workbook>')
    rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="x/worksheet"/>'
            '<Relationship Id="rId2" Target="/xl/worksheets/data.xml" Type="x/worksheet"/>'
            '</Relationships>')
    hidden = sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c>'
                       '<c r="B1" t="inlineStr"><is><t>title</t></is></c></row>')
    data = sheet_xml(
        '<row r="1">' + "".join(
            f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>'
            for col, name in zip("ABCD", ["code", "area_code", "title", "text"], strict=True))
        + '</row><row r="2">' + "".join(
            f'<c r="{col}2" t="inlineStr"><is><t>{v}</t></is></c>'
            for col, v in zip("ABCD", ["X-1", "07", "Заголовок", "Текст"], strict=True))
        + "</row>")
    content = archive(hidden, workbook=workbook, rels=rels,
                      extra={"xl/worksheets/data.xml": data})
    path = _saved(tmp_path, content)
    layout, rows = open_rows(path)
    assert layout.sheet == "Данные" and layout.header_row == 1
    assert list(rows) == [(2, ["X-1", "07", "Заголовок", "Текст"])]


# What an attacker or a broken tool sends -------------------------------------------------------

def test_entity_declarations_are_refused_before_anything_expands():
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              + sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'))
    with pytest.raises(XlsxError, match="DTD"):
        rows_of(archive(laughs))
    external = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                '<sst xmlns="' + MAIN + '"><si><t>&e;</t></si></sst>')
    with pytest.raises(XlsxError, match="DTD"):
        rows_of(archive(sheet_xml(""), shared=external))


def test_malformed_xml_in_the_middle_of_a_sheet_is_refused_by_name(tmp_path):
    header = "".join(f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>'
                     for col, name in zip("ABCD", ["code", "area_code", "title", "text"],
                                          strict=True))
    good = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>X-{n}</t></is></c></row>'
                   for n in range(2, 6000))  # more than one feed of XML before the break
    broken = sheet_xml(f'<row r="1">{header}</row>{good}<row><c><v>1</c></row>')
    layout, rows = open_rows(_saved(tmp_path, archive(broken)))
    assert layout.header_row == 1
    with pytest.raises(FileRefused) as refused:
        list(rows)
    assert refused.value.code == "bad_xlsx" and "malformed XML" in refused.value.params["detail"]


def test_a_value_far_to_the_right_is_refused_but_formatting_there_is_not(tmp_path):
    body = "".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>' for n in range(1, 7000))
    with pytest.raises(XlsxError, match="beyond column 1024") as refused:
        rows_of(archive(sheet_xml(body)))
    assert (refused.value.code, refused.value.params) == ("too_wide",
                                                          {"cell": "XFD1", "limit": "AMJ"})
    styled = '<row r="1"><c r="A1"><v>5</v></c><c r="XFD1" s="3"/></row>'
    assert rows_of(archive(sheet_xml(styled))) == [(1, ["5"])]


@pytest.mark.parametrize("ref", ["1A1", "A", "ZZZZ1", "A1B", "Ж1"])
def test_a_malformed_cell_reference_is_refused(ref):
    with pytest.raises(XlsxError, match="not a cell reference"):
        rows_of(archive(sheet_xml(f'<row r="1"><c r="{ref}"><v>1</v></c></row>')))


def test_rows_must_be_numbered_upwards_and_a_flood_of_one_row_is_refused_at_once(tmp_path):
    with pytest.raises(XlsxError, match="numbered upwards"):
        rows_of(archive(sheet_xml('<row r="2"/><row r="2"/>')))
    flood = sheet_xml('<row r="1"/>' * 400_000)
    with pytest.raises(FileRefused) as refused:
        list(open_rows(_saved(tmp_path, archive(flood)))[1])
    assert refused.value.code == "bad_xlsx"


def test_a_shared_text_that_does_not_exist_is_refused():
    body = '<row r="1"><c r="A1" t="s"><v>99</v></c></row>'
    with pytest.raises(XlsxError, match="shared text"):
        rows_of(archive(sheet_xml(body), shared=SHARED))


def test_damaged_compressed_data_is_refused_by_name(tmp_path):
    header = "".join(f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>'
                     for col, name in zip("ABCD", ["code", "area_code", "title", "text"],
                                          strict=True))
    good = archive(sheet_xml(f'<row r="1">{header}</row>' + "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>X-{n}</t></is></c></row>'
        for n in range(2, 3000))))
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    damaged = bytearray(good)
    for at in range(start + info.compress_size // 2, start + info.compress_size // 2 + 64):
        damaged[at] ^= 0x5A
    with pytest.raises(FileRefused) as refused:
        list(open_rows(_saved(tmp_path, bytes(damaged)))[1])
    assert refused.value.code == "bad_xlsx"


def test_a_workbook_whose_workbook_part_is_broken_is_refused(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook")
    with pytest.raises(FileRefused) as refused:
        open_rows(_saved(tmp_path, out.getvalue()))
    assert refused.value.code == "bad_xlsx"


def _saved(tmp_path, content: bytes):
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    return path
