"""The example file offered on the import page: the documented columns with Russian headers and
three realistic rows, as XLSX or CSV (UTF-8 with BOM, semicolons — what Russian Excel writes)."""

from __future__ import annotations

import csv
import io

from review_app.imports.columns import COLUMNS

ROWS = (
    ("TR-01-90001", "01", "Наличие первичных средств пожаротушения",
     "Собственники зданий обязаны обеспечить наличие огнетушителей на каждом этаже объекта "
     "и их ежегодную проверку.",
     "Приказ Министра по чрезвычайным ситуациям РК «Об утверждении Правил пожарной "
     "безопасности»", "№ 55 от 21.02.2022", "п. 12",
     "Министерство по чрезвычайным ситуациям РК", "", "1500000", "12000"),
    ("TR-02-90002", "02", "Медицинские осмотры работников пищевых предприятий",
     "Работники предприятий общественного питания проходят обязательный медицинский осмотр "
     "не реже одного раза в год.",
     "Кодекс РК «О здоровье народа и системе здравоохранения»", "№ 360-VI от 07.07.2020",
     "ст. 86", "Комитет санитарно-эпидемиологического контроля Министерства здравоохранения РК",
     "56101", "820000000", "31000"),
    ("TR-03-90003", "03", "Тахографы на грузовых автомобилях",
     "Перевозчики обязаны оснащать грузовые автомобили массой более 12 тонн цифровыми "
     "тахографами.",
     "Закон РК «Об автомобильном транспорте»", "№ 476-II от 04.07.2003", "ст. 13",
     "Комитет транспорта Министерства транспорта РК", "49410", "", ""),
)

HEADERS = tuple(c.russian for c in COLUMNS)


def example_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(ROWS)
    return out.getvalue().encode("utf-8-sig")


def example_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Требования"
    sheet.append(HEADERS)
    for row in ROWS:
        sheet.append([int(v) if v.isdigit() and i >= 9 else v for i, v in enumerate(row)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = (16, 11, 40, 60, 40, 22, 12, 40, 9, 18, 16)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(65 + index)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if cell.column in (1, 2, 9):
                cell.number_format = "@"  # codes stay text: "01", not 1
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
