"""A streaming reader of XLSX worksheets: numbered rows of cell text, straight from the XML.

Why not openpyxl: its read-only mode builds a Python object per cell and, with defusedxml
installed, parses through the pure-Python XML parser — 10,000 ministry rows took 1.4 s per
pass, and an import reads its file twice (preview, then confirm). This reader drives expat
directly and keeps only the current chunk of rows in memory (plus the workbook's shared
strings, which every XLSX reader must hold): about six times faster, same results.

What it understands of SpreadsheetML (ECMA-376, transitional and strict): the sheet list and
its visibility, relationships, shared strings (rich text runs joined, phonetic runs left out),
inline strings, numbers, booleans, errors, ISO dates, date-formatted numbers (built-in and
custom formats, 1900 and 1904 date systems), and formulas — a formula cell reads as ``=`` and
its formula, so validation can refuse it rather than import a value nobody typed.

The archive must have passed :func:`review_app.imports.reader.check_zip` (sizes checked before
anything is unpacked). DTDs and entity declarations are refused, so no entity expansion and
no external fetch can happen. Pure code: no Flask, no database.
"""

from __future__ import annotations

import lzma
import math
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import IO
from xml.parsers import expat

#: Bytes of XML handed to expat at a time; the rows they hold are yielded before the next read.
FEED_BYTES = 64 * 1024
#: A value further right than this many columns is refused: a requirements sheet has about a
#: dozen, and each row is held as a list up to its last value (a value in column XFD of every
#: row of a 4 KB file would otherwise take a gigabyte).
MAX_COLUMNS = 1024
#: Rows in a sheet (Excel's limit).
MAX_ROWS = 1_048_576
#: What reading a damaged archive part can raise besides XlsxError.
ARCHIVE_ERRORS = (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, RuntimeError,
                  NotImplementedError, zlib.error, lzma.LZMAError)

_SEP = "\x1f"  # expat joins namespace and local name with this; only local names matter here
#: Built-in number formats (ECMA-376 Part 1, 18.8.30) that show a date, or only a time.
_BUILTIN_FORMATS = {**{i: "date" for i in (14, 15, 16, 17, 22, 27, 30, 36, 50, 57)},
                    **{i: "time" for i in (18, 19, 20, 21, 45, 47)}}
#: Parts of a custom format that are not date tokens: quoted text, escapes, colours, locales.
_NOT_DATE_TOKENS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')
#: Elapsed time ([h]:mm): a duration, shown as the number it is.
_ELAPSED = re.compile(r"\[(h+|m+|s+)\]", re.IGNORECASE)
#: Excel's escape for characters XML cannot carry (a carriage return is ``_x000D_``).
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


class XlsxError(Exception):
    """The archive is not a readable workbook; the message says what is wrong.

    ``code`` and ``params`` name the problem for the person who sent the file, when it is one
    they can fix themselves; otherwise ``bad_xlsx`` (a damaged file).
    """

    def __init__(self, message: str, code: str = "bad_xlsx", **params: object):
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Sheet:
    name: str
    visible: bool
    part: str  # path of the sheet's XML inside the archive


def _local(name: str) -> str:
    return name.rpartition(_SEP)[2]


def _parser() -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.buffer_text = True
    parser.buffer_size = 65536

    def refuse(*_args: object) -> None:
        raise XlsxError("the workbook declares a DTD or entities, which a spreadsheet never needs")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _parse(stream: IO[bytes], parser: expat.XMLParserType) -> Iterator[None]:
    """Feed ``stream`` to ``parser`` a chunk at a time, pausing after each chunk."""
    try:
        while chunk := stream.read(FEED_BYTES):
            parser.Parse(chunk, False)
            yield
        parser.Parse(b"", True)
        yield
    except expat.ExpatError as exc:
        raise XlsxError(f"malformed XML: {expat.ErrorString(exc.code)}, line {exc.lineno}"
                        ) from exc


def _parse_all(archive: zipfile.ZipFile, part: str, parser: expat.XMLParserType) -> None:
    with archive.open(part) as stream:
        for _ in _parse(stream, parser):
            pass


class Workbook:
    """An open XLSX: its sheets, shared strings and date styles; rows read on demand."""

    def __init__(self, file: IO[bytes]):
        try:
            self.archive = zipfile.ZipFile(file)
            self._names = set(self.archive.namelist())
            self.sheets: list[Sheet] = []
            self._date1904 = False
            targets = self._relationships()
            self._read_workbook(targets)
            self._shared = self._read_shared_strings(targets.get("sharedStrings"))
            self._formats = self._read_styles(targets.get("styles"))
        except ARCHIVE_ERRORS as exc:
            raise XlsxError(f"{type(exc).__name__}: {exc}"[:200]) from exc

    def close(self) -> None:
        self.archive.close()

    # Structure ---------------------------------------------------------------------------

    def _relationships(self) -> dict[str, str]:
        """Relationship id → part path, plus the type name → part for the shared parts."""
        targets: dict[str, str] = {}
        rels = "xl/_rels/workbook.xml.rels"
        if rels not in self._names:
            return targets
        parser = _parser()

        def start(name: str, attrs: dict[str, str]) -> None:
            if _local(name) != "Relationship" or attrs.get("TargetMode") == "External":
                return
            target = attrs.get("Target", "")
            path = (target.lstrip("/") if target.startswith("/")
                    else str(PurePosixPath("xl") / target))
            path = _normalise(path)
            targets[attrs.get("Id", "")] = path
            kind = attrs.get("Type", "").rpartition("/")[2]
            if kind in ("sharedStrings", "styles"):
                targets[kind] = path

        parser.StartElementHandler = start
        _parse_all(self.archive, rels, parser)
        return targets

    def _read_workbook(self, targets: dict[str, str]) -> None:
        parser = _parser()
        sheets = self.sheets

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "sheet":
                rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
                part = targets.get(rid) or f"xl/worksheets/sheet{len(sheets) + 1}.xml"
                sheets.append(Sheet(name=attrs.get("name", f"Sheet{len(sheets) + 1}"),
                                    visible=attrs.get("state", "visible") == "visible",
                                    part=part))
            elif local == "workbookPr":
                self._date1904 = attrs.get("date1904", "0").lower() in ("1", "true")

        parser.StartElementHandler = start
        _parse_all(self.archive, "xl/workbook.xml", parser)

    def _read_shared_strings(self, part: str | None) -> list[str]:
        part = part or "xl/sharedStrings.xml"
        strings: list[str] = []
        if part not in self._names:
            return strings
        parser = _parser()
        pieces: list[str] = []
        state = {"in_t": False, "phonetic": 0}

        def start(name: str, _attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "t":
                state["in_t"] = state["phonetic"] == 0
            elif local == "rPh":
                state["phonetic"] += 1
            elif local == "si":
                pieces.clear()

        def end(name: str) -> None:
            local = _local(name)
            if local == "t":
                state["in_t"] = False
            elif local == "rPh":
                state["phonetic"] -= 1
            elif local == "si":
                strings.append(_unescape("".join(pieces)))

        def text(data: str) -> None:
            if state["in_t"]:
                pieces.append(data)

        parser.StartElementHandler, parser.EndElementHandler = start, end
        parser.CharacterDataHandler = text
        _parse_all(self.archive, part, parser)
        return strings

    def _read_styles(self, part: str | None) -> dict[int, tuple[str, int]]:
        """Cell formats (``s`` on a cell) that change how a number reads: ``("date", 0)``,
        ``("time", 0)`` or ``("zeros", width)`` for codes kept with leading zeros (``00000``)."""
        part = part or "xl/styles.xml"
        if part not in self._names:
            return {}
        parser = _parser()
        custom: dict[int, str] = {}
        formats: list[int] = []
        depth = {"cellXfs": 0}

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "numFmt":
                custom[_int(attrs.get("numFmtId"))] = attrs.get("formatCode", "")
            elif local == "cellXfs":
                depth["cellXfs"] += 1
            elif local == "xf" and depth["cellXfs"]:
                formats.append(_int(attrs.get("numFmtId")))

        def end(name: str) -> None:
            if _local(name) == "cellXfs":
                depth["cellXfs"] -= 1

        parser.StartElementHandler, parser.EndElementHandler = start, end
        _parse_all(self.archive, part, parser)
        kinds: dict[int, tuple[str, int]] = {}
        for index, fmt in enumerate(formats):
            kind = _format_kind(custom[fmt]) if fmt in custom else (
                (_BUILTIN_FORMATS[fmt], 0) if fmt in _BUILTIN_FORMATS else None)
            if kind is not None:
                kinds[index] = kind
        return kinds

    # Rows --------------------------------------------------------------------------------

    def rows(self, sheet: Sheet, hidden: list[int] | None = None) -> Iterator[
            tuple[int, list[str]]]:
        """``(row number as the spreadsheet shows it, cells as text)`` for each row present.

        Cells are placed by their reference (``C7``), so empty cells in between read as ``""``.
        The numbers of rows hidden in the spreadsheet (by hand or by a filter) are appended to
        ``hidden`` when it is given: people do not see them, but they are rows like the others.
        """
        if sheet.part not in self._names:
            raise XlsxError(f"the sheet {sheet.name!r} is missing from the archive")
        parser = _parser()
        ready: list[tuple[int, list[str]]] = []
        # The row and cell being read; plain locals in a closure are the fastest state.
        row_number = 0
        cells: list[str] = []
        kind = style = ref = ""
        column = -1
        value: list[str] = []
        formula: list[str] | None = None
        shared_formula: str | None = None  # ``si`` of a formula filled down from another cell
        target: list[str] | None = None  # where character data goes: value, formula, nowhere
        in_inline = False
        names: dict[str, int] = {}
        columns_of = _ColumnCache()
        reader = _CellReader(self._shared, self._formats, self._date1904)

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal row_number, cells, kind, style, ref, column, value, formula, target
            nonlocal shared_formula, in_inline
            code = names.get(name)
            if code is None:
                code = names[name] = _ELEMENTS.get(_local(name), _OTHER)
            if code == _C:
                ref = attrs.get("r", "")
                column = columns_of(ref) if ref else column + 1
                kind, style = attrs.get("t", "n"), attrs.get("s", "")
                value, formula, in_inline = [], None, False
            elif code == _V:
                target = value
            elif code == _T:
                if in_inline:
                    target = value
            elif code == _IS:
                in_inline = True
            elif code == _F:
                target = formula = []
                shared_formula = attrs.get("si") if attrs.get("t") == "shared" else None
            elif code == _RPH:
                in_inline = False  # a phonetic guide inside an inline string: not the text
            elif code == _ROW:
                number = attrs.get("r")
                if number:
                    if not number.isdigit() or not row_number < int(number) <= MAX_ROWS:
                        raise XlsxError(f"row {number[:20]!r} after row {row_number}: rows "
                                        "must be numbered upwards")
                    row_number = int(number)
                else:
                    row_number += 1
                cells, column = [], -1
                if hidden is not None and attrs.get("hidden") in ("1", "true"):
                    hidden.append(row_number)

        def end(name: str) -> None:
            nonlocal target, in_inline
            code = names[name]
            if code == _C:
                text = (reader.formula(formula, shared_formula) if formula is not None
                        else reader.value(kind, style, value))
                if text:
                    if column >= len(cells):
                        if column >= MAX_COLUMNS:
                            cell = ref or f"{column_letter(column)}{row_number}"
                            raise XlsxError(
                                f"cell {cell} holds a value beyond column {MAX_COLUMNS}",
                                "too_wide", cell=cell, limit=column_letter(MAX_COLUMNS - 1))
                        cells.extend([""] * (column - len(cells) + 1))
                    cells[column] = text
            elif code <= _F:  # v, t, f
                target = None
            elif code == _RPH:
                in_inline = True
            elif code == _ROW:
                ready.append((row_number, cells))

        def text(data: str) -> None:
            if target is not None:
                target.append(data)

        parser.StartElementHandler, parser.EndElementHandler = start, end
        parser.CharacterDataHandler = text
        with self.archive.open(sheet.part) as stream:
            for _ in _parse(stream, parser):
                yield from ready
                ready.clear()


# Element codes in a sheet (v, t and f first: ``code <= _F`` ends the text of a cell).
_V, _T, _F, _C, _IS, _RPH, _ROW, _OTHER = range(8)
_ELEMENTS = {"v": _V, "t": _T, "f": _F, "c": _C, "is": _IS, "rPh": _RPH, "row": _ROW}


class _ColumnCache(dict):
    """Cell reference → column index (``C7`` → 2), remembering the letters seen."""

    def __call__(self, ref: str) -> int:
        letters = ref.rstrip("0123456789")
        index = self.get(letters)
        if index is None:
            if not (0 < len(letters) < len(ref) and letters.isascii() and letters.isalpha()
                    and len(letters) <= 3):
                raise XlsxError(f"{ref[:20]!r} is not a cell reference")
            index = self[letters] = column_index(letters)
        return index


class _CellReader:
    """Turns a cell's stored value into the text a person sees in the spreadsheet."""

    def __init__(self, shared: list[str], formats: dict[int, tuple[str, int]],
                 date1904: bool):
        self.shared, self.formats, self.date1904 = shared, formats, date1904
        #: Formulas filled down: ``si`` → the formula of the cell they were filled from.
        self.shared_formulas: dict[str, str] = {}

    def formula(self, pieces: list[str], shared_index: str | None) -> str:
        text = "".join(pieces)
        if shared_index is not None:
            if text:
                self.shared_formulas[shared_index] = text
            else:
                text = self.shared_formulas.get(shared_index, "")
        return "=" + text

    def value(self, kind: str, style: str, pieces: list[str]) -> str:
        raw = "".join(pieces)
        if kind == "s":
            index = _int(raw, -1)
            if not 0 <= index < len(self.shared):
                raise XlsxError(f"a cell refers to shared text {raw[:20]!r}, which the "
                                "workbook does not have")
            return self.shared[index]
        if kind in ("inlineStr", "str", "e"):
            return _unescape(raw)
        if kind == "b":
            return "1" if raw.strip() in ("1", "true") else "0"
        if kind == "d":
            try:
                return _date_text(datetime.fromisoformat(raw.strip()))
            except ValueError:
                return raw
        raw = raw.strip()
        if not raw:
            return ""
        try:
            number = float(raw)
        except ValueError:
            return raw
        shown = self.formats.get(_int(style, -1)) if style else None
        if shown is not None:
            how, width = shown
            if how == "zeros" and number.is_integer() and 0 <= number < 1e15:
                return str(int(number)).zfill(width)
            if how in ("date", "time"):
                moment = _from_serial(number, self.date1904)
                if moment is not None:
                    return moment.strftime("%H:%M") if how == "time" else _date_text(moment)
        return _number_text(number)


def _number_text(number: float) -> str:
    """A number as a spreadsheet shows it: at most 15 significant digits, no exponent for
    ordinary sizes (``3000000.0000000005`` is ``3000000``, as Excel displays it)."""
    if not math.isfinite(number):
        return repr(number)
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    text = f"{number:.15g}"
    return repr(number) if "e" in text else text


def _unescape(text: str) -> str:
    """Undo Excel's ``_xHHHH_`` escapes (``_x000D_`` → carriage return, ``_x005F_`` → ``_``)."""
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def _from_serial(serial: float, date1904: bool) -> datetime | None:
    """A date from its spreadsheet serial number (Excel's 1900 leap-year bug included)."""
    if serial < 0 or serial > 2_958_465:  # beyond 31.12.9999
        return None
    if date1904:
        base = datetime(1904, 1, 1)
    elif serial < 60:
        base = datetime(1899, 12, 31)
    else:
        base = datetime(1899, 12, 30)
    moment = base + timedelta(days=serial)
    # Spreadsheets store times as fractions of a day; round to the second as they show them.
    return moment.replace(microsecond=0) + timedelta(seconds=round(moment.microsecond / 1e6))


def _date_text(moment: datetime) -> str:
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return moment.strftime("%d.%m.%Y")
    return moment.strftime("%d.%m.%Y %H:%M")


def _format_kind(code: str) -> tuple[str, int] | None:
    """How a custom number format shows a number, when it matters here (see _read_styles)."""
    first = code.split(";")[0]
    if _ELAPSED.search(first):
        return None  # a duration: the number of days is what it is
    stripped = _NOT_DATE_TOKENS.sub("", first).lower()
    if "d" in stripped or "y" in stripped:
        return ("date", 0)
    if "h" in stripped or "s" in stripped:
        return ("time", 0)
    if "m" in stripped:
        return ("date", 0)  # months alone: "mmmm yyyy" without its year, still a date
    if len(stripped) > 1 and set(stripped) == {"0"}:
        return ("zeros", len(stripped))
    return None


def column_index(letters: str) -> int:
    """``A`` → 0, ``Z`` → 25, ``AA`` → 26: the inverse of :func:`column_letter`."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def column_letter(index: int) -> str:
    """0 → ``A``, 25 → ``Z``, 26 → ``AA``: how spreadsheets name columns."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _int(text: str | None, default: int = 0) -> int:
    try:
        return int(text or "")
    except ValueError:
        return default


def _normalise(path: str) -> str:
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


__all__ = ["Sheet", "Workbook", "XlsxError", "column_index", "column_letter"]
