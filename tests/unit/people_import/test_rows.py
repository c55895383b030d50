"""Reading import files row by row: CSV, JSON arrays (streamed) and JSON Lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from troth.errors import BadRequest
from troth.people import import_rows
from troth.people.import_rows import Row, Unreadable, open_rows


def rows_of(path: Path) -> list[Row]:
    return list(open_rows(path))


def test_co2_csv_rows_carry_their_line_numbers_and_gather_address_parts(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "email,name,postal_address.city,postal_address.country\n"
        "a@example.com,Ada,London,GB\n"
        ",,,\n"
        'b@example.com,"Grace\nHopper",,\n'
        "c@example.com,Alan,Wilmslow,GB,extra\n"
    )
    rows = rows_of(path)
    assert [row.number for row in rows] == [2, 5, 6]
    assert rows[0].cells == {
        "email": "a@example.com",
        "name": "Ada",
        "postal_address": {"city": "London", "country": "GB"},
    }
    assert rows[1].cells == {"email": "b@example.com", "name": "Grace\nHopper"}
    assert rows[2].problem == "more cells than the header has columns"


def test_co2_a_whole_address_in_one_csv_cell_is_json(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    address = json.dumps({"line1": "1 Way", "city": "Leeds", "country": "GB"})
    path.write_text('email,postal_address\na@example.com,"' + address.replace('"', '""') + '"\n')
    [row] = rows_of(path)
    assert row.cells["postal_address"] == {"line1": "1 Way", "city": "Leeds", "country": "GB"}


def test_co2_a_bad_header_names_the_unknown_columns_but_never_a_card_number(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("email,shoe_size,4111111111111111\n")
    with pytest.raises(BadRequest) as caught:
        open_rows(path)
    assert caught.value.message.startswith("unknown column 'shoe_size', (a card number);")
    assert "4111" not in caught.value.message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty: a CSV file starts with a header row"),
        ("name,company\n", "no email column: email is how rows are matched to people"),
        ("email,name,name\n", "column name appears more than once"),
    ],
)
def test_co2_a_header_that_cannot_run_is_refused(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(content)
    with pytest.raises(BadRequest) as caught:
        open_rows(path)
    assert caught.value.message == message


def test_co2_a_json_array_is_decoded_one_element_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_rows, "READ_SIZE", 7)  # every element spans several reads
    items: list[object] = [{"email": f"p{n}@example.com", "name": f"Person {n}"} for n in range(40)]
    items.append("text")
    path = tmp_path / "people.json"
    path.write_text("\ufeff  " + json.dumps(items, indent=2))
    rows = rows_of(path)
    assert len(rows) == 41
    assert rows[39].cells == {"email": "p39@example.com", "name": "Person 39"}
    assert rows[40].problem == "not a JSON object"


def test_co2_json_keys_outside_the_catalogue_reject_the_row(tmp_path: Path) -> None:
    path = tmp_path / "people.json"
    path.write_text('[{"email": "a@example.com", "shoe": 9}, {"email": "b@example.com"}]')
    rows = rows_of(path)
    assert rows[0].problem is not None
    assert rows[0].problem.startswith("unknown field 'shoe'")
    assert rows[1].cells == {"email": "b@example.com"}


def test_co2_json_lines_reject_a_bad_line_and_go_on(tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    path.write_text('{"email": "a@example.com"}\n{oops\n\n{"email": "b@example.com", "age": 40}\n')
    rows = rows_of(path)
    assert [(row.number, row.problem) for row in rows] == [
        (1, None),
        (2, "not a JSON object"),
        (4, None),
    ]
    assert rows[2].cells["age"] == 40


def test_co2_a_broken_array_stops_after_the_elements_before_it(tmp_path: Path) -> None:
    path = tmp_path / "people.json"
    path.write_text('[{"email": "a@example.com"} {"email": "b@example.com"}]')
    rows = open_rows(path)
    assert next(rows).cells == {"email": "a@example.com"}
    with pytest.raises(Unreadable, match="expected , or ]"):
        next(rows)


def test_co2_bytes_read_are_counted_for_the_progress_bar(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email\n" + "".join(f"p{n}@example.com\n" for n in range(1000)))
    seen: list[int] = []
    assert len(list(open_rows(path, seen.append))) == 1000
    assert sum(seen) == path.stat().st_size
