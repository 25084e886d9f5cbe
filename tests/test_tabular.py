"""The one CSV writer and the one formula neutraliser every downloadable CSV goes through."""

from __future__ import annotations

import csv
import io

import pytest

from review_app.tabular import (
    csv_bytes,
    is_trailer,
    neutralise,
    primed,
    stream_csv,
    write_csv,
)


def parsed(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads Cyrillic only with the BOM
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.parametrize("text", ["=1+2", "+7 701", "-5", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(text):
    assert neutralise(text) == "'" + text
    assert parsed(csv_bytes(["h"], [[text]]))[1] == ["'" + text]


def test_plain_values_pass_unchanged_and_none_is_empty():
    assert parsed(csv_bytes(["a", "b", "c"], [["Өрт; «қауіпсіздігі»", None, 12]])) == [
        ["a", "b", "c"], ["Өрт; «қауіпсіздігі»", "", "12"]]


def test_a_complete_stream_ends_with_its_row_count_and_reports_it_once():
    ended = []
    body = b"".join(stream_csv(["h"], ([n] for n in range(1201)),
                               trailer=lambda n: f"{n} rows", failure=str,
                               on_end=lambda n, e: ended.append((n, e)), flush_every=500))
    lines = parsed(body)
    assert lines[-1] == ["# 1201 rows"] and is_trailer(lines[-1])
    assert len(lines) == 1 + 1201 + 1
    assert ended == [(1201, None)]


def test_a_stream_failing_midway_says_so_last_and_breaks_off():
    def rows():
        yield ["one"]
        yield ["two"]
        raise ConnectionError("database gone")

    ended, chunks = [], []
    stream = stream_csv(["h"], rows(), trailer=lambda n: "done", failure=lambda e: "FAILED",
                        on_end=lambda n, e: ended.append((n, type(e))))
    with pytest.raises(ConnectionError):
        for chunk in stream:
            chunks.append(chunk)
    lines = parsed(b"".join(chunks))
    assert lines == [["h"], ["one"], ["two"], ["FAILED"]]
    assert not any(is_trailer(line) for line in lines)
    assert ended == [(2, ConnectionError)]


def test_a_client_going_away_is_reported_too():
    ended = []
    stream = stream_csv(["h"], iter([["a"]] * 2000), trailer=str, failure=str,
                        on_end=lambda n, e: ended.append((n, type(e))), flush_every=10)
    next(stream), next(stream)
    stream.close()
    assert ended == [(10, GeneratorExit)]


def test_the_first_row_is_read_before_anything_is_sent():
    def failing():
        raise ConnectionError("no database")
        yield  # a generator

    with pytest.raises(ConnectionError):
        primed(failing())
    assert list(primed(iter([]))) == []
    assert list(primed(iter([1, 2]))) == [1, 2]


def test_a_file_is_written_in_slices_with_one_bom():
    out = io.BytesIO()
    write_csv(out, ([n, "x"] for n in range(1100)), flush_every=500)
    assert out.getvalue().count(b"\xef\xbb\xbf") == 1
    assert len(parsed(out.getvalue())) == 1100


def test_only_the_trailer_line_is_taken_for_one():
    assert is_trailer(["# End of export: 3 requirements."])
    assert is_trailer(["# 3", "", " "])
    assert not is_trailer(["#3"]) and not is_trailer(["# 3", "x"]) and not is_trailer([])
