"""The example file offered on the import page: the documented columns with Russian headers and
three realistic rows, as XLSX or CSV (UTF-8 with BOM, semicolons — what Russian Excel writes)."""

from __future__ import annotations

import io

from review_app.imports.columns import COLUMNS
from review_app.tabular import csv_bytes

ROWS = (
    ("TR-01-90001", "01", "Наличие первичных средств пожаротушения",
     "Собственники зданий обязаны обеспечить наличие огнетушителей на каждом этаже объекта "
     "и их ежегодную проверку.",
     "Приказ Министра по чрезвычайным ситуациям РК «Об утверждении Правил пожарной "
     "безопасности»", "№ 55 от 21.02.2022", "п. 12",
     "Министерство по чрезвычайным ситуациям РК", "", "1500000", "12000",
     "Ежегодная проверка огнетушителей; 2 (1–3); 2500; 3000 (2000–5000); 1; 100"),
    ("TR-02-90002", "02", "Медицинские осмотры работников пищевых предприятий",
     "Работники предприятий общественного питания проходят обязательный медицинский осмотр "
     "не реже одного раза в год.",
     "Кодекс РК «О здоровье народа и системе здравоохранения»", "№ 360-VI от 07.07.2020",
     "ст. 86", "Комитет санитарно-эпидемиологического контроля Министерства здравоохранения РК",
     "56101", "820000000", "31000", ""),
    ("TR-03-90003", "03", "Тахографы на грузовых автомобилях",
     "Перевозчики обязаны оснащать грузовые автомобили массой более 12 тонн цифровыми "
     "тахографами.",
     "Закон РК «Об автомобильном транспорте»", "№ 476-II от 04.07.2003", "ст. 13",
     "Комитет транспорта Министерства транспорта РК", "49410", "", "", ""),
)

HEADERS = tuple(c.russian for c in COLUMNS)


def example_csv() -> bytes:
    """The example as CSV, written like every other CSV the app hands out."""
    return csv_bytes(HEADERS, ROWS)


def example_xlsx() -> bytes:
    # XlsxWriter only when the example workbook is asked for, not at every start-up.
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet("Требования")
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
    as_text = workbook.add_format({"text_wrap": True, "valign": "top", "num_format": "@"})
    widths = (16, 11, 40, 60, 40, 22, 12, 40, 9, 18, 16, 50)
    for index, width in enumerate(widths):
        # Codes and OKED stay text: "01", not 1.
        sheet.set_column(index, index, width, as_text if index in (0, 1, 8) else wrapped)
    sheet.write_row(0, 0, HEADERS, bold)
    for number, row in enumerate(ROWS, start=1):
        for index, value in enumerate(row):
            if value.isdigit() and index >= 9:
                sheet.write_number(number, index, int(value), wrapped)
            else:
                sheet.write_string(number, index, value, as_text if index in (0, 1, 8) else wrapped)
    sheet.freeze_panes(1, 0)
    workbook.close()
    return out.getvalue()
