"""Reading an import file one row at a time: CSV with a header row, a JSON array, or JSON Lines.

Nothing reads the whole file: CSV and JSON Lines go line by line, and a JSON array is
decoded one element at a time from a buffer. Row numbers are what a person finds in the
file: the CSV line (the header is line 1), the JSON Lines line, or the position of the
element in a JSON array (from 1).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from troth.errors import BadRequest
from troth.people.cards import looks_like_card
from troth.people.cleaners import ADDRESS_PARTS
from troth.people.fields import CATALOGUE

MATCH_KEY = "email"
ADDRESS_PREFIX = "postal_address."
COLUMNS = frozenset({*CATALOGUE, *(ADDRESS_PREFIX + part for part in ADDRESS_PARTS)})
READ_SIZE = 64 * 1024
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Row:
    number: int
    cells: dict[str, object]
    """Field name to value, empty cells left out; a problem found while reading is `problem`."""
    problem: str | None = None


class Unreadable(BadRequest):
    """The file cannot be read on from here; rows before it were read."""


class CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read from it, for the progress bar."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._on_read(len(data))
        return len(data)


def unknown_columns(names: list[str]) -> list[str]:
    return ["(a card number)" if looks_like_card(n) else repr(n) for n in names if n not in COLUMNS]


def check_header(names: list[str]) -> None:
    unknown = unknown_columns(names)
    if unknown:
        raise BadRequest(
            f"unknown column {', '.join(unknown)}; the columns are person fields "
            f"({', '.join(CATALOGUE)}) and postal_address.<{'|'.join(ADDRESS_PARTS)}>"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise BadRequest(f"column {', '.join(repeated)} appears more than once")
    if MATCH_KEY not in names:
        raise BadRequest("no email column: email is how rows are matched to people")


def open_rows(path: Path, on_read: Callable[[int], None] = lambda _count: None) -> Iterator[Row]:
    """The rows of a CSV or JSON file; raises BadRequest when it cannot be read at all."""
    try:
        raw = path.open("rb")
        first = _first_character(raw)
    except OSError as exc:
        raise BadRequest(f"cannot read {path}: {exc.strerror or exc}") from None
    text = io.TextIOWrapper(
        io.BufferedReader(CountingReader(raw, on_read), READ_SIZE), encoding="utf-8-sig", newline=""
    )
    if path.suffix.lower() == ".csv" or first not in (b"[", b"{"):
        try:
            reader, header = _csv_header(text)
        except BadRequest:
            text.close()
            raise
        return _closing(text, _csv_rows(reader, header))
    if first == b"[":
        return _closing(text, _json_array_rows(text))
    return _closing(text, _json_lines_rows(text))


def _first_character(raw: BinaryIO) -> bytes:
    """The first byte that is not a byte order mark or white space; the file is rewound."""
    head = raw.read(READ_SIZE).removeprefix(BOM).lstrip()
    raw.seek(0)
    return head[:1]


def _closing(text: io.TextIOWrapper, rows: Iterator[Row]) -> Iterator[Row]:
    with text:
        try:
            yield from rows
        except UnicodeDecodeError:
            raise Unreadable("the file is not UTF-8 text from here on") from None


def _csv_header(text: io.TextIOWrapper) -> tuple[Iterator[list[str]], list[str]]:
    reader = csv.reader(text)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise BadRequest("the file is empty: a CSV file starts with a header row") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise BadRequest(f"the header row is not CSV in UTF-8: {exc}") from None
    check_header(header)
    return reader, header


def _csv_rows(reader: Iterator[list[str]], header: list[str]) -> Iterator[Row]:
    line = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise Unreadable(f"the line after line {line} is not CSV: {exc}") from None
        line = getattr(reader, "line_num", line + 1)
        if any(cell.strip() for cell in record):
            yield _csv_row(line, header, record)


def _csv_row(number: int, header: list[str], record: list[str]) -> Row:
    if len(record) > len(header):
        return Row(number, {}, "more cells than the header has columns")
    pairs = [(name, cell) for name, cell in zip(header, record, strict=False)]
    cells = _gather(pairs)
    if isinstance(cells.get("postal_address"), str):
        cells["postal_address"] = _address_cell(str(cells["postal_address"]))
    return Row(number, cells)


def _gather(pairs: Sequence[tuple[str, object]]) -> dict[str, object]:
    """Cells by field, without empty ones; postal_address.<part> cells make one address."""
    cells: dict[str, object] = {}
    for name, value in pairs:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if name.startswith(ADDRESS_PREFIX):
            address = cells.setdefault("postal_address", {})
            if isinstance(address, dict):
                address[name.removeprefix(ADDRESS_PREFIX)] = value
        else:
            cells[name] = value
    return cells


def _address_cell(cell: str) -> object:
    """A whole address in one CSV cell is a JSON object; anything else fails its check later."""
    try:
        parsed: object = json.loads(cell)
    except ValueError:
        return cell
    return parsed


def _json_lines_rows(text: io.TextIOWrapper) -> Iterator[Row]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            yield Row(number, {}, "not a JSON object")
            continue
        yield _json_row(number, item)


def _json_array_rows(text: io.TextIOWrapper) -> Iterator[Row]:
    for number, item in enumerate(_array_items(text), start=1):
        yield _json_row(number, item)


def _array_items(text: io.TextIOWrapper) -> Iterator[object]:
    decoder = json.JSONDecoder()
    buffer, position, at_end = text.read(READ_SIZE).lstrip()[1:], 0, False
    expect_item = True
    while True:
        position = _skip_space(buffer, position)
        if position >= len(buffer) and not at_end:
            chunk = text.read(READ_SIZE)
            buffer, position, at_end = buffer[position:] + chunk, 0, not chunk
            continue
        if position >= len(buffer):
            raise Unreadable("the JSON array is not closed with ]")
        if buffer[position] == "]":
            return
        if not expect_item:
            if buffer[position] != ",":
                raise Unreadable("expected , or ] between the JSON array's elements")
            position, expect_item = position + 1, True
            continue
        try:
            item, position = decoder.raw_decode(buffer, position)
        except json.JSONDecodeError as exc:
            if at_end:
                raise Unreadable(f"not JSON after the last element read: {exc.msg}") from None
            chunk = text.read(READ_SIZE)
            buffer, position, at_end = buffer[position:] + chunk, 0, not chunk
            continue
        expect_item = False
        yield item


def _skip_space(buffer: str, position: int) -> int:
    while position < len(buffer) and buffer[position] in " \t\r\n":
        position += 1
    return position


def _json_row(number: int, item: object) -> Row:
    if not isinstance(item, dict):
        return Row(number, {}, "not a JSON object")
    unknown = unknown_columns([str(key) for key in item])
    if unknown:
        return Row(number, {}, f"unknown field {', '.join(unknown)}")
    return Row(number, _gather([(str(key), value) for key, value in item.items()]))
