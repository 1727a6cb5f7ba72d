"""The harvest inbox (`ingest.contributions`): the shape and size checks of a submission, fresh
record ids that never collide, the contact e-mail kept apart and deletable, and the review log
as PROV without texts or e-mail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.contributions import CONTRIBUTOR_FIELDS, Inbox, check_submission
from kg.errors import NotFoundError

GOOD = {"type": "lesson", "title": "Een les", "text": "Tekst.", "themes": ["renovatie"],
        "organisation": "Gemeente Gent", "email": "an@gent.be"}


def fields(problems: list) -> set[str | None]:  # type: ignore[type-arg]
    return {p.field for p in problems}


def test_a_good_submission_splits_record_and_contributor() -> None:
    record, meta, problems = check_submission(GOOD)
    assert problems == []
    assert record == {"type": "lesson", "title": "Een les", "text": "Tekst.",
                      "themes": ["renovatie"]}
    assert meta == {"organisation": "Gemeente Gent", "email": "an@gent.be"}
    # The CSV/XLSX form of a list.
    record, _, problems = check_submission({**GOOD, "themes": "renovatie|warmte"})
    assert problems == [] and record["themes"] == ["renovatie", "warmte"]


@pytest.mark.parametrize(("change", "field"), [
    ({"type": "actor"}, "type"), ({"type": None}, "type"), ({"title": ""}, "title"),
    ({"organisation": ""}, "organisation"), ({"email": "geen-adres"}, "email"),
    ({"id": "eigen-id"}, "id"), ({"status": "gevalideerd"}, "status"),
    ({"text": "x" * (CONTRIBUTOR_FIELDS["text"] + 1)}, "text"),
    ({"title": "x" * (CONTRIBUTOR_FIELDS["title"] + 1)}, "title"),
    ({"themes": ["renovatie"] * 9}, "themes"), ({"themes": [{"a": 1}]}, "themes"),
    ({"date": 20240101}, "date"), ({"organisation": "o" * 201}, "organisation"),
])
def test_every_shape_problem_names_its_field(change: dict[str, object], field: str) -> None:
    _, _, problems = check_submission({**GOOD, **change})
    assert field in fields(problems), problems


def test_a_submission_is_an_object() -> None:
    for payload in (None, [], "tekst", 3):
        _, _, problems = check_submission(payload)
        assert problems and "JSON object" in problems[0].message


def test_record_ids_are_fresh_and_receipts_unguessable(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    record, meta, _ = check_submission({**GOOD, "title": "Een Les!"})
    taken = {"les-een-les"}
    first = inbox.new(record, meta, "api", taken)
    assert first.record_id == "les-een-les-2" and first.status == "ingediend"
    inbox.save(first)
    second = inbox.new(record, meta, "api", taken)
    assert second.record_id == "les-een-les-3"  # ids reserved by saved contributions count
    assert first.id != second.id and len(first.id) == 22
    assert inbox.get(first.id) == first
    with pytest.raises(NotFoundError):
        inbox.get("../../etc/passwd")
    with pytest.raises(NotFoundError):
        inbox.get("b-" + "0" * 20)


def test_the_contact_is_kept_apart_and_can_be_forgotten(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    record, meta, _ = check_submission(GOOD)
    c = inbox.new(record, meta, "web", set())
    inbox.save(c)
    inbox.save_contact(c.id, meta["email"])
    assert "an@gent.be" not in (tmp_path / "bijdragen" / f"{c.id}.json").read_text()
    assert inbox.contact(c.id) == "an@gent.be" and inbox.get(c.id).has_contact
    assert inbox.forget_contact(c.id) is True
    assert inbox.contact(c.id) is None and not inbox.get(c.id).has_contact
    assert inbox.forget_contact(c.id) is False


def test_decisions_are_logged_and_published_without_texts(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    record, meta, _ = check_submission({**GOOD, "text": "geheime tekst"})
    c = inbox.new(record, meta, "web", set())
    inbox.save(c)
    inbox.save_contact(c.id, "an@gent.be")
    done = inbox.decide(c, "afgewezen", "An", "dubbel")
    assert done.status == "afgewezen" and done.review is not None
    assert done.review.reason == "dubbel" and done.review.number == 1
    log = [json.loads(x) for x in (tmp_path / "bijdragen" / "audit.jsonl").read_text()
           .splitlines()]
    assert [e["decision"] for e in log] == ["afgewezen"]
    quads = inbox.review_quads("https://w3id.org/100wijken/id/")
    text = " ".join(str(q) for q in quads)
    assert "geheime tekst" not in text and "an@gent.be" not in text
    assert "afgewezen" in text and "Gemeente Gent" in text
