"""Tabular files people open in a spreadsheet: one formula neutraliser, one CSV writer.

Every CSV the app hands out (the requirements export, the audit log, an import's problems, the
example file, the CSV summary) is written here, so they all agree: UTF-8 with a byte-order mark
and semicolons (what Excel opens correctly in Russian and Kazakh), and no cell that a
spreadsheet would run as a formula.

A streamed CSV cannot take back its "200 OK" once the first bytes are sent, so
:func:`stream_csv` makes the end of the file say how it ended: a last line naming the number of
rows when it is complete, an explicit "export failed, incomplete" line (and a broken connection)
when it is not. :func:`primed` runs the first database read before the response starts, so a
failure there still answers with an error page.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any, TypeVar

T = TypeVar("T")

#: A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The first cell of a complete export's last line starts with this; the import skips such a
#: line, so an export can be corrected and imported again as it is.
TRAILER_MARK = "#"


def neutralise(value: str) -> str:
    """Make a spreadsheet take ``value`` as text, never as a formula (OWASP's advice: a leading
    apostrophe, which spreadsheets show as plain text)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def is_trailer(cells: Sequence[str]) -> bool:
    """Whether a row read back from a CSV is the "end of export" line this module writes."""
    return bool(cells) and cells[0].startswith(TRAILER_MARK + " ") and not any(
        c.strip() for c in cells[1:])


class CsvEncoder:
    """Rows in, bytes out: the byte-order mark before the first row, ``\\r\\n`` after each.

    ``cell`` turns a value into text (None is empty, text is neutralised); pass another to
    format dates or decimals the way a file's readers expect.
    """

    def __init__(self, delimiter: str = ";", cell: Callable[[Any], str] | None = None):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=delimiter, lineterminator="\r\n")
        self._cell = cell or plain_cell
        self._started = False

    def row(self, values: Iterable[Any]) -> None:
        self._writer.writerow([self._cell(v) for v in values])

    def raw(self, values: Iterable[str]) -> None:
        """A row written as given: the trailer and failure lines, which must not be altered."""
        self._writer.writerow(list(values))

    def take(self) -> bytes:
        """The bytes written since the last call."""
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        encoding = "utf-8" if self._started else "utf-8-sig"
        self._started = True
        return text.encode(encoding)


def plain_cell(value: Any) -> str:
    """None as an empty cell, text neutralised, anything else as ``str`` gives it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def csv_bytes(header: Sequence[Any], rows: Iterable[Iterable[Any]], *,
              delimiter: str = ";") -> bytes:
    """A small CSV built whole (an import's problems, the example file)."""
    encoder = CsvEncoder(delimiter)
    encoder.row(header)
    for values in rows:
        encoder.row(values)
    return encoder.take()


def write_csv(out: IO[bytes], rows: Iterable[Iterable[Any]], *, delimiter: str = ";",
              cell: Callable[[Any], str] | None = None, flush_every: int = 500) -> None:
    """Write ``rows`` to the binary file ``out`` (the CSV summary), in bounded memory."""
    encoder = CsvEncoder(delimiter, cell)
    for n, values in enumerate(rows, start=1):
        encoder.row(values)
        if n % flush_every == 0:
            out.write(encoder.take())
    out.write(encoder.take())


def primed(rows: Iterator[T]) -> Iterator[T]:
    """``rows`` with its first item already read: a failing query raises here, before the
    response has started, rather than after a "200 OK" has gone out."""
    try:
        first = next(rows)
    except StopIteration:
        return iter(())
    return itertools.chain((first,), rows)


def stream_csv(header: Sequence[Any], rows: Iterable[Iterable[Any]], *,
               trailer: Callable[[int], str], failure: Callable[[BaseException], str],
               on_end: Callable[[int, BaseException | None], None] | None = None,
               delimiter: str = ";", flush_every: int = 500) -> Iterator[bytes]:
    """A CSV response body that can never pass for complete when it is not.

    Complete: the last line is ``trailer(row_count)`` (it starts with :data:`TRAILER_MARK`).
    Failed after the first byte: the last line is ``failure(error)``, then the error is raised
    again, so the server breaks off the response (a chunked response without its last chunk,
    which browsers and ``curl`` report as a failed download). ``on_end(rows, error)`` is told
    either way (and also when the client goes away: ``GeneratorExit``).
    """
    encoder = CsvEncoder(delimiter)
    count = 0
    try:
        encoder.row(header)
        yield encoder.take()
        for values in rows:
            encoder.row(values)
            count += 1
            if count % flush_every == 0:
                yield encoder.take()
    except Exception as error:
        encoder.raw([failure(error)])
        tail = encoder.take()
        if on_end is not None:
            on_end(count, error)
        yield tail
        raise
    except GeneratorExit as gone:
        if on_end is not None:
            on_end(count, gone)
        raise
    encoder.raw([f"{TRAILER_MARK} {trailer(count)}"])
    if on_end is not None:
        on_end(count, None)
    yield encoder.take()
