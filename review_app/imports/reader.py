"""Reading a requirements file — CSV or XLSX — into numbered rows of text cells.

Everything a ministry might send is expected here: a CSV in UTF-8, UTF-8 with BOM or
Windows-1251, separated by commas, semicolons or tabs; an XLSX whose header is not on the
first row; and also what is not a spreadsheet at all — an empty file, a binary file renamed
``.csv``, an old ``.xls``, a zip bomb dressed as ``.xlsx``. Those are refused with a
:class:`FileRefused` naming the problem, before anything is read into memory.

Rows are streamed: memory does not grow with the file. Pure code: no Flask, no database.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from review_app.imports.columns import COLUMNS, REQUIRED, Column, fold_header, match_header
from review_app.imports.xlsx import ARCHIVE_ERRORS, Workbook, XlsxError, column_letter
from review_app.tabular import is_trailer

ENCODINGS = ("auto", "utf-8", "cp1251")
DELIMITERS = {"auto": None, "comma": ",", "semicolon": ";", "tab": "\t"}

#: How far down a sheet the header row is looked for (title rows above it are common).
HEADER_SEARCH_ROWS = 10
#: Sheets of a workbook looked through for the header (a real one has a few).
MAX_SHEETS = 50
#: Longest cell the CSV reader accepts; longer texts are reported by validation, not crashed on.
csv.field_size_limit(1_000_000)


class FileRefused(Exception):
    """The file cannot be read as a requirements file at all. ``code`` names why."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code, params)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Limits:
    #: Rows of data (header not counted). The defaults are config.py's IMPORT_MAX_*.
    max_rows: int = 1_000_000
    #: Sum of the uncompressed sizes of an XLSX's parts.
    max_uncompressed: int = 2 * 1024 * 1024 * 1024
    #: Parts in an XLSX (a real workbook has a few dozen).
    max_zip_members: int = 2_000
    #: Compression ratio above which a large part is taken for a zip bomb.
    max_ratio: int = 200


@dataclass
class MappedColumn:
    index: int
    column: Column
    header: str
    letter: str


@dataclass
class Layout:
    """What was found out about the file before its rows are read."""

    format: str  # "csv" or "xlsx"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int = 1
    columns: list[MappedColumn] = field(default_factory=list)
    #: Headers that name no known column: (letter, header). Their values are ignored.
    unknown: list[tuple[str, str]] = field(default_factory=list)
    #: Headers of an export's review columns (state, decision …): left aside, as documented.
    review_columns: list[tuple[str, str]] = field(default_factory=list)
    #: Several headers naming the same column: (column name, [headers]).
    duplicates: list[tuple[str, list[str]]] = field(default_factory=list)
    #: Required columns the header lacks.
    missing: list[str] = field(default_factory=list)
    #: Rows hidden in the spreadsheet (XLSX), filled in as the rows are read.
    hidden_rows: list[int] = field(default_factory=list)

    @property
    def present(self) -> set[str]:
        return {m.column.name for m in self.columns}


# Sniffing ------------------------------------------------------------------------------------

def _sniff(path: Path) -> str:
    """``csv`` or ``xlsx``, or :class:`FileRefused` for what is neither."""
    size = path.stat().st_size
    if size == 0:
        raise FileRefused("empty_file")
    with path.open("rb") as f:
        head = f.read(65536)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise FileRefused("old_excel")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused("utf16")
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileRefused("empty_file")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if b"\x00" in head or controls > len(head) // 100:
        raise FileRefused("not_text")
    return "csv"


def _valid_in(path: Path, encoding: str) -> tuple[bool, int]:
    """Does the whole file decode in ``encoding``? (and the byte offset of the first error)"""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return False, offset + exc.start
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, offset
    return True, -1


def _encoding(path: Path, choice: str) -> str:
    with path.open("rb") as f:
        bom = f.read(3) == codecs.BOM_UTF8
    if choice == "auto":
        if bom:
            return "utf-8-sig"
        if _valid_in(path, "utf-8")[0]:
            return "utf-8"
        if _valid_in(path, "cp1251")[0]:
            return "cp1251"
        raise FileRefused("unknown_encoding")
    encoding = "utf-8-sig" if choice == "utf-8" and bom else choice
    ok, at = _valid_in(path, encoding)
    if not ok:
        raise FileRefused("bad_encoding", encoding=choice, offset=at)
    return encoding


def _delimiter(sample: str, choice: str) -> str:
    if DELIMITERS.get(choice):
        return DELIMITERS[choice]  # type: ignore[return-value]
    lines = sample.splitlines()[:HEADER_SEARCH_ROWS]
    counts = {d: sum(line.count(d) for line in lines) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# Header --------------------------------------------------------------------------------------

def _layout_from_header(cells: list[str], layout: Layout,
                        aside: frozenset[str] = frozenset()) -> None:
    by_column: dict[str, list[MappedColumn]] = {}
    for index, raw in enumerate(cells):
        header = " ".join(raw.split())
        if not header:
            continue
        column = match_header(header)
        letter = column_letter(index)
        if column is None:
            if fold_header(header) in aside:
                layout.review_columns.append((letter, header[:100]))
            else:
                layout.unknown.append((letter, header[:100]))
            continue
        by_column.setdefault(column.name, []).append(MappedColumn(index, column, header, letter))
    for name, found in by_column.items():
        if len(found) > 1:
            layout.duplicates.append((name, [f"{m.letter}: {m.header}" for m in found]))
        layout.columns.append(found[0])
    layout.columns.sort(key=lambda m: m.index)
    layout.missing = [c.name for c in REQUIRED if c.name not in by_column]


def _is_header(cells: list[str]) -> bool:
    """A row is the header when it names at least two known columns."""
    names = {c.name for c in (match_header(v) for v in cells if v and v.strip()) if c}
    return len(names) >= 2


def _find_header(rows: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]] | None:
    """The header row among the first HEADER_SEARCH_ROWS rows (blank ones count too)."""
    first: tuple[int, list[str]] | None = None
    for seen, (number, cells) in enumerate(rows, start=1):
        if any(c.strip() for c in cells):
            if first is None:
                first = (number, cells)
            if _is_header(cells):
                return number, cells
        if number >= HEADER_SEARCH_ROWS or seen >= HEADER_SEARCH_ROWS:
            break
    if first is not None:
        shown = [c.strip()[:60] for c in first[1] if c.strip()][:12]
        raise FileRefused("no_header", first_row=shown, expected=[c.name for c in COLUMNS])
    raise FileRefused("no_rows")


# CSV -----------------------------------------------------------------------------------------

def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    with path.open("r", encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        number = 0
        try:
            for cells in reader:
                number += 1
                if is_trailer(cells):
                    continue  # an export's "end of export" line: not a requirement
                yield number, cells
        except csv.Error as exc:
            raise FileRefused("csv_malformed", line=reader.line_num, detail=str(exc)) from exc


def _open_csv(path: Path, encoding_choice: str, delimiter_choice: str,
              aside: frozenset[str]) -> tuple[Layout, Iterator[tuple[int, list[str]]]]:
    encoding = _encoding(path, encoding_choice)
    with path.open("r", encoding=encoding, newline="") as f:
        sample = f.read(65536)
    delimiter = _delimiter(sample, delimiter_choice)
    layout = Layout(format="csv", encoding=encoding.removesuffix("-sig"), delimiter=delimiter)
    rows = _csv_rows(path, encoding, delimiter)
    layout.header_row, header = _find_header(rows)
    _layout_from_header(header, layout, aside)
    return layout, rows


# XLSX ----------------------------------------------------------------------------------------

def check_zip(path: Path, limits: Limits) -> None:
    """Refuse a zip bomb from the sizes its directory declares, before anything is unpacked.

    Python's zipfile never unpacks a part beyond the size declared for it (a part that lies
    fails its CRC check), so checking the declared sizes bounds what the reader can unpack.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except ARCHIVE_ERRORS as exc:
        # NotImplementedError too: a damaged directory can claim a zip version Python lacks
        # (found by the corruption fuzz test).
        raise FileRefused("bad_xlsx", detail=str(exc)[:200]) from exc
    if len(infos) > limits.max_zip_members:
        raise FileRefused("zip_bomb", size=len(infos), reason="members")
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed:
        raise FileRefused("zip_bomb", size=total, limit=limits.max_uncompressed, reason="size")
    for info in infos:
        if info.file_size > 5 * 1024 * 1024 and (
                info.file_size > limits.max_ratio * max(info.compress_size, 1)):
            raise FileRefused("zip_bomb", size=info.file_size, reason="ratio")
    names = {i.filename for i in infos}
    if "mimetype" in names and not any(n.startswith("xl/") for n in names):
        raise FileRefused("opendocument")
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileRefused("not_xlsx")


def _open_xlsx(path: Path, limits: Limits, aside: frozenset[str]) -> tuple[
        Layout, Iterator[tuple[int, list[str]]]]:
    check_zip(path, limits)
    # A file object, not the path: uploads are stored under neutral names.
    handle = path.open("rb")
    try:
        workbook = Workbook(handle)
    except XlsxError as exc:
        handle.close()
        raise FileRefused("bad_xlsx", detail=str(exc)[:200]) from exc
    first_refusal: FileRefused | None = None
    tried: set[str] = set()
    for sheet in workbook.sheets:
        if not sheet.visible or sheet.part in tried or len(tried) >= MAX_SHEETS:
            continue
        tried.add(sheet.part)
        hidden: list[int] = []
        rows = _guarded(workbook.rows(sheet, hidden))
        try:
            header_row, header = _find_header(rows)
        except FileRefused as refusal:
            first_refusal = first_refusal or refusal
            continue
        layout = Layout(format="xlsx", sheet=sheet.name, header_row=header_row,
                        hidden_rows=hidden)
        _layout_from_header(header, layout, aside)
        return layout, _closing(rows, workbook, handle)
    workbook.close()
    handle.close()
    raise first_refusal or FileRefused("no_rows")


def _guarded(rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """Turn a parse failure in the middle of a sheet into a FileRefused."""
    try:
        yield from rows
    except FileRefused:
        raise
    except XlsxError as exc:
        raise FileRefused(exc.code, detail=str(exc)[:200], **exc.params) from exc
    except ARCHIVE_ERRORS as exc:
        # A part whose data is damaged, does not match its declared size or CRC, or is cut short.
        raise FileRefused("bad_xlsx", detail=type(exc).__name__ + ": " + str(exc)[:150]) from exc


def _closing(rows: Iterator[tuple[int, list[str]]], workbook, handle) -> Iterator[
        tuple[int, list[str]]]:
    try:
        yield from rows
    finally:
        workbook.close()
        handle.close()


# Public --------------------------------------------------------------------------------------

def open_rows(path: str | Path, *, encoding: str = "auto", delimiter: str = "auto",
              limits: Limits = Limits(), aside: frozenset[str] = frozenset()) -> tuple[
                  Layout, Iterator[tuple[int, list[str]]]]:
    """Find the file's format and header; return the layout and an iterator of data rows.

    Data rows are ``(row number as the spreadsheet shows it, cells)``; blank rows are skipped.
    Headers in ``aside`` (folded) are known columns that are not imported, not unknown ones.
    Iterating may still raise :class:`FileRefused` (a malformed CSV further down, too many rows).

    :raise FileRefused: the file is not a readable requirements file.
    """
    path = Path(path)
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding choice {encoding!r}")
    if delimiter not in DELIMITERS:
        raise ValueError(f"unknown delimiter choice {delimiter!r}")
    kind = _sniff(path)
    if kind == "xlsx":
        layout, rows = _open_xlsx(path, limits, aside)
    else:
        layout, rows = _open_csv(path, encoding, delimiter, aside)
    return layout, _data_rows(rows, limits.max_rows)


def _data_rows(rows: Iterator[tuple[int, list[str]]], max_rows: int) -> Iterator[
        tuple[int, list[str]]]:
    count = 0
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        count += 1
        if count > max_rows:
            raise FileRefused("too_many_rows", limit=max_rows)
        yield number, cells


__all__ = ["FileRefused", "Layout", "Limits", "MappedColumn", "check_zip",
           "column_letter", "open_rows"]
