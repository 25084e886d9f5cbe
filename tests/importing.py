"""Builders of the files a ministry might send, good and bad, for the import tests."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence

from review_app.imports.columns import COLUMNS

RU = [c.russian for c in COLUMNS]
EN = [c.name for c in COLUMNS]
RU4 = RU[:4]


def row(code: str, area: str = "07", title: str | None = None, text: str | None = None,
        **extra: str) -> dict[str, str]:
    """One requirement as the documented columns name it."""
    values = {"code": code, "area_code": area,
              "title": f"Требование {code}" if title is None else title,
              "text": (f"Субъекты обязаны соблюдать требование {code} на каждом объекте."
                       if text is None else text)}
    values.update(extra)
    return values


def table(rows: Iterable[dict[str, str]], headers: Sequence[str] = RU) -> list[list[str]]:
    """Header plus rows, with each value under its column (by documented name)."""
    names = [c.name for c in COLUMNS]
    by_header = dict(zip(RU, names, strict=True)) | dict(zip(EN, names, strict=True))
    out = [list(headers)]
    for r in rows:
        out.append([r.get(by_header.get(h, h), "") for h in headers])
    return out


def csv_bytes(rows: Iterable[dict[str, str]] = (), headers: Sequence[str] = RU, *,
              delimiter: str = ";", encoding: str = "utf-8-sig",
              raw: list[list[str]] | None = None) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(
        raw if raw is not None else table(rows, headers))
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: Iterable[dict[str, str]] = (), headers: Sequence[str] = RU, *,
               raw: list[list[object]] | None = None, title_rows: Sequence[str] = ()) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for title in title_rows:
        sheet.append([title])
    for values in raw if raw is not None else table(rows, headers):
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_bomb(unpacked_mb: int) -> bytes:
    """A tiny file dressed as a workbook whose sheet unpacks to ``unpacked_mb`` MiB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"0" * (1024 * 1024)
            for _ in range(unpacked_mb):
                member.write(block)
    return out.getvalue()
