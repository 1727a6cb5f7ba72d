"""The record model: field names, value checks and located problems (ingest/records.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.records import FIELD_NAMES, RawRecord, Record, validate
from kg.errors import Problem


def raw(data: dict, *, line: int | None = 7, field_lines: dict[str, int] | None = None
        ) -> RawRecord:
    return RawRecord("f.jsonl", line, data, field_lines or {})


def test_minimal_record_is_valid() -> None:
    record, problems = validate(raw({"id": "les-1", "type": "lesson", "title": "Een les"}))
    assert problems == []
    assert record == Record(id="les-1", type="lesson", title="Een les")
    assert record.themes == () and record.municipality is None


def test_every_field_problem_is_reported_at_once() -> None:
    record, problems = validate(raw({"id": "Les 1", "type": "les", "date": "21/11/2024",
                                     "colour": "red"}))
    assert record is None
    by_field = {p.field: p for p in problems}
    assert set(by_field) == {"id", "type", "title", "date", "colour"}
    assert all(p.file == "f.jsonl" and p.line == 7 for p in problems)
    assert by_field["title"].message == "is required"
    assert "lesson, threshold, measure, breakthrough" in by_field["type"].message
    assert "not a valid id" in by_field["id"].message
    assert "ISO date" in by_field["date"].message
    assert "unknown field" in by_field["colour"].message
    assert ", ".join(FIELD_NAMES) in by_field["colour"].message
    assert str(by_field["title"]) == "f.jsonl:7: title: is required"


def test_unknown_field_alone_rejects_the_record() -> None:
    record, problems = validate(raw({"id": "a", "type": "actor", "title": "A", "naam": "x"}))
    assert record is None
    assert [p.field for p in problems] == ["naam"]


def test_problem_uses_the_field_line_when_known() -> None:
    _, problems = validate(raw({"id": "a", "type": "actor", "title": "A", "date": "gisteren"},
                               line=1, field_lines={"date": 9}))
    assert problems == [Problem("f.jsonl", 9, "date", "'gisteren' is not an ISO date (YYYY-MM-DD)")]


def test_lists_split_on_pipes_strip_and_deduplicate() -> None:
    record, problems = validate(raw({
        "id": "les-1", "type": "lesson", "title": "T", "themes": " renovatie | warmte|renovatie|",
        "actors": ["veka", "veka", " abb "], "alt_labels": "VEKA"}))
    assert problems == []
    assert record.themes == ("renovatie", "warmte")
    assert record.actors == ("veka", "abb")
    assert record.alt_labels == ("VEKA",)


def test_list_of_non_strings_is_refused() -> None:
    _, problems = validate(raw({"id": "a", "type": "lesson", "title": "T",
                                "themes": [{"x": 1}]}))
    assert [(p.field, p.message) for p in problems] == [("themes", "must be a list of strings")]


def test_bad_ids_in_reference_lists_are_named() -> None:
    _, problems = validate(raw({"id": "a", "type": "lesson", "title": "T",
                                "thresholds": ["ok-1", "Niet OK"], "source": "_x"}))
    messages = {p.field: p.message for p in problems}
    assert "'Niet OK' is not a valid id" in messages["thresholds"]
    assert "'_x' is not a valid id" in messages["source"]


def test_empty_strings_count_as_missing() -> None:
    record, problems = validate(raw({"id": "a", "type": "actor", "title": "A", "text": "",
                                     "municipality": " ", "date": "", "pioneer": ""}))
    assert problems == []
    assert record.text is None and record.municipality is None and record.date is None
    _, problems = validate(raw({"id": "a", "type": "actor", "title": ""}))
    assert [(p.field, p.message) for p in problems] == [("title", "is required")]


def test_numbers_and_spreadsheet_values_are_coerced() -> None:
    record, problems = validate(raw({"id": "a", "type": "lesson", "title": "T",
                                     "municipality": 44021,
                                     "date": dt.datetime(2024, 4, 23, 0, 0)}))
    assert problems == []
    assert record.municipality == "44021"
    assert record.date == dt.date(2024, 4, 23)


@pytest.mark.parametrize(("value", "expected"), [
    ("ja", True), ("Waar", True), ("true", True), ("1", True), ("nee", False), ("FALSE", False),
    (True, True),
])
def test_pioneer_accepts_dutch_and_english_booleans(value: object, expected: bool) -> None:
    record, problems = validate(raw({"id": "w", "type": "neighbourhood", "title": "W",
                                     "pioneer": value}))
    assert problems == []
    assert record.pioneer is expected


def test_pioneer_rejects_other_words() -> None:
    _, problems = validate(raw({"id": "w", "type": "neighbourhood", "title": "W",
                                "pioneer": "misschien"}))
    assert [p.field for p in problems] == ["pioneer"]
    assert "not true/false" in problems[0].message


@pytest.mark.parametrize("url", [
    "https://example.org/a>b", "https://example.org/a b", 'https://example.org/"x"',
    "https://example.org/{id}", "ftp://example.org/", "example.org",
])
def test_url_must_be_an_http_iri_that_rdf_can_hold(url: str) -> None:
    """A URL with `<>"{}|\\^` would break the N-Triples the store writes (found: `>` did)."""
    _, problems = validate(raw({"id": "a", "type": "actor", "title": "A", "url": url}))
    assert [p.field for p in problems] == ["url"]


def test_valid_url_passes() -> None:
    record, problems = validate(raw({"id": "a", "type": "actor", "title": "A",
                                     "url": "https://www.vlaanderen.be/veka?x=1&y=%20#top"}))
    assert problems == []
    assert record.url == "https://www.vlaanderen.be/veka?x=1&y=%20#top"


def test_references_lists_every_id_field() -> None:
    record = Record(id="les-1", type="lesson", title="T", neighbourhood="wijk-1",
                    actors=("veka",), thresholds=("d-1", "d-2"), measures=("m-1",),
                    related=("les-2",), source="act-1")
    assert sorted(record.references()) == sorted([
        ("neighbourhood", "wijk-1"), ("actors", "veka"), ("thresholds", "d-1"),
        ("thresholds", "d-2"), ("measures", "m-1"), ("related", "les-2"), ("source", "act-1")])


def test_title_and_text_limits() -> None:
    _, problems = validate(raw({"id": "a", "type": "actor", "title": "x" * 501}))
    assert [p.field for p in problems] == ["title"]
    _, problems = validate(raw({"id": "a" * 121, "type": "actor", "title": "A"}))
    assert [p.field for p in problems] == ["id"]
