"""Checking each row of a requirements file, and describing every problem precisely.

A problem names the row (as the spreadsheet numbers it), the column (its letter and the header
as written) and the reason, as a code with parameters — the web page and the command line turn
it into words in the reader's language. Pure code: no Flask, no database.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import asdict, dataclass, field
from typing import Any

from review_app.imports.columns import AREA, NUMBER, SCM, Column
from review_app.imports.reader import Layout, MappedColumn
from review_app.imports.xlsx import column_index, column_letter
from review_app.scm import compute as scm_compute

#: Largest values the database columns hold.
NUMBER_LIMITS = {"annual_cost_kzt": 9_000_000_000_000_000_000, "businesses_affected": 2**31 - 1}
EXCERPT = 80

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_WHOLE = re.compile(r"-?\d+(?:[.,]0+)?")
_DECIMAL = re.compile(r"-?\d+[.,]\d+")
#: A "?" inside a Cyrillic word: a letter the file's encoding could not hold (Windows-1251 has
#: no ә ғ қ ң ө ұ ү һ), replaced when the file was saved. Never written on purpose in a word.
#: A "?" where a letter was: inside a word ("Қаза?стан"), or starting one ("?ауіпсіздігі",
#: "?лтты?" — Windows-1251 has no Қ, Ұ, Ө, Ү, so a word's first letter is often the one lost).
#: A "?" ending a word is left alone: it is how a question ends.
_LOST_LETTER = re.compile(r"(?<!\w)\?+[а-яёәғқңөұүһі]\w*|\w*[а-яёәғқңөұүһі]\?+[а-яёәғқңөұүһі]\w*",
                          re.IGNORECASE)


@dataclass
class Problem:
    """Something wrong with the file (``row`` None) or with one cell or row."""

    code: str
    row: int | None = None
    column: str | None = None  # documented column name
    header: str | None = None  # the header as the file writes it
    letter: str | None = None  # the spreadsheet column letter
    value: str | None = None  # the start of the offending value
    params: dict[str, Any] = field(default_factory=dict)
    #: The row's requirement code as the file writes it, so a problem can be found by code too.
    requirement: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        return cls(**data)


def excerpt(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= EXCERPT else value[:EXCERPT - 1] + "…"


def clean_text(value: str) -> str:
    """Newlines as ``\\n``, no invisible control characters, no surrounding blanks."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(value):
        value = _CONTROL.sub("", value)
    return value.strip()


def layout_problems(layout: Layout) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) about the header itself."""
    errors = [Problem("duplicate_column", column=name, params={"headers": headers})
              for name, headers in layout.duplicates]
    if layout.missing:
        errors.append(Problem("missing_columns", row=layout.header_row,
                              params={"columns": layout.missing}))
    warnings = []
    if layout.review_columns:
        warnings.append(Problem("review_columns", row=layout.header_row,
                                params={"headers": [h for _, h in layout.review_columns]}))
    if layout.unknown:
        warnings.append(Problem("unknown_columns", row=layout.header_row,
                                params={"headers": [f"{letter}: {h}" for letter, h in
                                                    layout.unknown]}))
    return errors, warnings


class FirstRows:
    """The row each code was first seen on: 59 MB at its peak for a 1,000,000-row file of
    16-character codes, where a dict took 118 MB, most of the import's memory.

    An open-addressing table of the codes' 64-bit hashes (C arrays, at most half full), each
    pointing at its code's UTF-8 bytes in one buffer: a hash that matches is checked against the
    code itself, so two different codes with the same hash are never taken for a duplicate.
    """

    def __init__(self, capacity: int = 1 << 12):
        self._keys = array("q", bytes(8 * capacity))  # 0: a free slot
        self._slots = array("i", bytes(4 * capacity))  # the code's number in the slot, from 1
        self._rows = array("i")  # by code number: its first row (rows up to 2**31)
        self._ends = array("q")  # by code number: where its bytes end in ``_text``
        self._text = bytearray()

    def __len__(self) -> int:
        return len(self._rows)

    def setdefault(self, code: str, row: int) -> int:
        """The row ``code`` was first seen on; ``row`` (remembered) if this is the first."""
        key = hash(code) or 1
        raw = code.encode()
        keys, mask = self._keys, len(self._keys) - 1
        slot = key & mask
        while True:
            found = keys[slot]
            if found == 0:
                self._rows.append(row)
                self._text += raw
                self._ends.append(len(self._text))
                keys[slot], self._slots[slot] = key, len(self._rows)
                if len(self._rows) * 2 > len(keys):
                    self._grow()
                return row
            if found == key:
                number = self._slots[slot] - 1
                begin = self._ends[number - 1] if number else 0
                if self._text[begin:self._ends[number]] == raw:
                    return self._rows[number]
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        old_keys, old_slots = self._keys, self._slots
        size = len(old_keys) * 2
        self._keys = keys = array("q", bytes(8 * size))
        self._slots = slots = array("i", bytes(4 * size))
        mask = size - 1
        for key, number in zip(old_keys, old_slots, strict=True):
            if key:
                slot = key & mask
                while keys[slot]:
                    slot = (slot + 1) & mask
                keys[slot], slots[slot] = key, number


class RowValidator:
    """Validates rows one at a time, remembering codes to catch duplicates inside the file."""

    def __init__(self, layout: Layout, area_ids: dict[str, int],
                 tariff_codes: frozenset[str] = frozenset()):
        self.columns: list[MappedColumn] = layout.columns
        self.width = max((m.index for m in self.columns), default=-1) + 1
        self.unknown_indexes = {column_index(letter) for letter, _ in
                                (*layout.unknown, *layout.review_columns)}
        self.area_ids = area_ids
        self.tariff_codes = tariff_codes
        self.first_row_of = FirstRows()

    def validate(self, number: int, cells: list[str]) -> tuple[dict[str, Any] | None,
                                                                list[Problem]]:
        """The row's values by Requirement field, or None with the problems found."""
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        for mapped in self.columns:
            raw = cells[mapped.index] if mapped.index < len(cells) else ""
            value, problem = self._cell(mapped, raw)
            if problem is not None:
                problem.row = number
                problem.column = mapped.column.name
                problem.header = mapped.header
                problem.letter = mapped.letter
                problems.append(problem)
            else:
                values[mapped.column.field] = value
                if mapped.column.kind == AREA:
                    values["area_code"] = self._area_code(clean_text(raw))
        for index in range(self.width, len(cells)):
            if cells[index].strip() and index not in self.unknown_indexes:
                problems.append(Problem("value_without_header", row=number,
                                        letter=column_letter(index),
                                        value=excerpt(cells[index])))
                break
        code = values.get("code")
        if code:
            first = self.first_row_of.setdefault(code, number)
            if first != number:
                problems.append(Problem("duplicate_code", row=number, column="code",
                                        header=self._header("code"),
                                        letter=self._letter("code"), value=code,
                                        params={"first_row": first}))
        if problems:
            written = self._written_code(cells)
            for problem in problems:
                problem.requirement = problem.requirement or written
            return None, problems
        return values, []

    def _written_code(self, cells: list[str]) -> str | None:
        mapped = next((m for m in self.columns if m.column.name == "code"), None)
        if mapped is None or mapped.index >= len(cells):
            return None
        return excerpt(cells[mapped.index]) or None

    # Cells -----------------------------------------------------------------------------------

    def _cell(self, mapped: MappedColumn, raw: str) -> tuple[Any, Problem | None]:
        column = mapped.column
        if raw[:1] == "'" and raw[1:2] in ("+", "-", "@"):
            raw = raw[1:]  # the guard our own export puts before such values
        if raw.lstrip().startswith("="):
            return None, Problem("formula", value=excerpt(raw))
        if column.kind == NUMBER:
            return _number(column, raw)
        text = clean_text(raw)
        if column.name == "code" and text:
            text = " ".join(text.split())
        if not text:
            return None, (Problem("required") if column.required else None)
        lost = _LOST_LETTER.search(text) if "?" in text else None
        if lost:
            return None, Problem("lost_letters", value=excerpt(text),
                                 params={"word": lost.group(0)[:60]})
        if column.max_length is not None and len(text) > column.max_length:
            return None, Problem("too_long", value=excerpt(text),
                                 params={"length": len(text), "max": column.max_length})
        if column.kind == SCM:
            return self._scm(text)
        if column.kind == AREA:
            area_id = self.area_ids.get(self._area_code(text))
            if area_id is None:
                return None, Problem("unknown_area", value=excerpt(text))
            return area_id, None
        return text, None

    def _scm(self, text: str) -> tuple[list | None, Problem | None]:
        """The cell's SCM inputs as stored (``compute.dump``), or the problem with its line."""
        try:
            actions = scm_compute.parse_cell(text)
        except scm_compute.InputError as exc:
            line = (exc.action or 0) + 1
            if str(exc) == "too_many":
                return None, Problem("scm_too_many", value=excerpt(text),
                                     params={"max": scm_compute.MAX_ACTIONS})
            if str(exc) == "parts":
                return None, Problem("scm_parts", value=excerpt(text), params={"line": line})
            return None, Problem("scm_value", value=excerpt(text),
                                 params={"line": line, "part": exc.field or ""})
        for line, action in enumerate(actions, start=1):
            if action.tariff is not None and action.tariff not in self.tariff_codes:
                return None, Problem("scm_tariff", value=excerpt(text),
                                     params={"line": line, "code": action.tariff})
        return scm_compute.dump(actions), None

    @staticmethod
    def _area_code(text: str) -> str:
        text = text.strip()
        return text.zfill(2) if text.isdigit() and len(text) < 2 else text

    def _header(self, name: str) -> str | None:
        return next((m.header for m in self.columns if m.column.name == name), None)

    def _letter(self, name: str) -> str | None:
        return next((m.letter for m in self.columns if m.column.name == name), None)


def _number(column: Column, raw: str) -> tuple[int | None, Problem | None]:
    text = _SPACES.sub("", raw)
    if not text:
        return None, (Problem("required") if column.required else None)
    if not _WHOLE.fullmatch(text):
        code = "fraction" if _DECIMAL.fullmatch(text) else "bad_number"
        return None, Problem(code, value=excerpt(raw))
    number = int(re.split(r"[.,]", text)[0])
    if number < 0:
        return None, Problem("negative_number", value=excerpt(raw))
    if number > NUMBER_LIMITS[column.name]:
        return None, Problem("number_too_large", value=excerpt(raw))
    return number, None
