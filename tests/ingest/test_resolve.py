"""Reference resolution: ids, themes, subtypes and municipalities, with fixes in the messages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.knowledgebase import KnowledgeBase
from ingest import lookups
from ingest.records import RawRecord, SourceRecord, validate
from ingest.resolve import KnownItem, Vocabulary, dangling_after_removal, resolve
from kg.municipalities import resolve_municipality


@pytest.fixture(scope="module")
def vocabulary() -> Iterator[Vocabulary]:
    """The real themes and schemes, read from an in-memory store with the reference data."""
    kb = KnowledgeBase(data_dir=None)
    try:
        yield Vocabulary(lookups.theme_notations(kb.store), lookups.scheme_notations(kb.store))
    finally:
        kb.close()


def batch(*records: dict) -> list[SourceRecord]:
    out = []
    for n, data in enumerate(records, start=1):
        raw = RawRecord("in.jsonl", n, data)
        record, problems = validate(raw)
        assert problems == [], problems
        out.append(SourceRecord(record, raw))
    return out


def messages(res) -> list[str]:
    return [str(p) for p in res.problems]


def test_vocabulary_holds_the_documented_themes(vocabulary: Vocabulary) -> None:
    assert set(vocabulary.themes) == {
        "renovatie", "energie", "warmte", "energiegemeenschap", "vergroening", "ontharding",
        "water", "mobiliteit", "participatie", "energiearmoede", "financiering",
        "openbaar-domein", "samenwerking"}
    assert "juridisch" in vocabulary.schemes["drempeltype"]


def test_valid_batch_resolves_types_and_municipalities(vocabulary: Vocabulary) -> None:
    res = resolve(batch(
        {"id": "d-1", "type": "threshold", "title": "D", "subtype": "juridisch"},
        {"id": "les-1", "type": "lesson", "title": "L", "thresholds": ["d-1"],
         "themes": ["renovatie"], "municipality": "Gent", "related": ["old-1"]},
        {"id": "les-2", "type": "lesson", "title": "L2", "municipality": "11002"},
    ), known={"old-1": KnownItem("measure", "g:old", "old.csv")}, replaced_graphs=set(),
        vocabulary=vocabulary)
    assert res.problems == []
    assert res.types == {"d-1": "threshold", "les-1": "lesson", "les-2": "lesson",
                         "old-1": "measure"}
    assert res.municipality_nis == {"les-1": "44021", "les-2": "11002"}


def test_dangling_id_is_named_with_a_suggestion(vocabulary: Vocabulary) -> None:
    res = resolve(batch(
        {"id": "drempel-kosten", "type": "threshold", "title": "D"},
        {"id": "les-1", "type": "lesson", "title": "L", "thresholds": ["drempel-koste"]},
        {"id": "les-2", "type": "lesson", "title": "L", "thresholds": ["zzz-onbekend"]},
    ), known={}, replaced_graphs=set(), vocabulary=vocabulary)
    assert messages(res) == [
        "in.jsonl:2: thresholds: unknown id 'drempel-koste': no record has this id; "
        "did you mean: drempel-kosten?",
        "in.jsonl:3: thresholds: unknown id 'zzz-onbekend': no record has this id"]


def test_reference_to_the_wrong_type(vocabulary: Vocabulary) -> None:
    res = resolve(batch(
        {"id": "m-1", "type": "measure", "title": "M"},
        {"id": "les-1", "type": "lesson", "title": "L", "thresholds": ["m-1"],
         "source": "m-1"},
    ), known={}, replaced_graphs=set(), vocabulary=vocabulary)
    got = messages(res)
    assert got[0] == "in.jsonl:2: thresholds: 'm-1' is a measure, not a threshold"
    assert got[1].startswith("in.jsonl:2: source: 'm-1' is a measure, not a")
    assert got[1].endswith("not an activity or a document")
    assert len(got) == 2


def test_self_reference(vocabulary: Vocabulary) -> None:
    res = resolve(batch({"id": "les-1", "type": "lesson", "title": "L", "related": ["les-1"]}),
                  known={}, replaced_graphs=set(), vocabulary=vocabulary)
    assert messages(res) == ["in.jsonl:1: related: a record cannot point at itself"]


def test_duplicate_ids_in_a_batch_and_against_the_store(vocabulary: Vocabulary) -> None:
    res = resolve(batch(
        {"id": "a", "type": "actor", "title": "A"},
        {"id": "a", "type": "actor", "title": "A again"},
        {"id": "b", "type": "actor", "title": "B"},
    ), known={"b": KnownItem("actor", "g:other", "other.csv")}, replaced_graphs=set(),
        vocabulary=vocabulary)
    assert messages(res) == [
        "in.jsonl:2: id: duplicate id 'a' (also at in.jsonl:1)",
        "in.jsonl:3: id: id 'b' already exists in the store, from other.csv"]


def test_ids_of_replaced_graphs_are_free(vocabulary: Vocabulary) -> None:
    known = {"b": KnownItem("actor", "g:same", "in.jsonl"),
             "gone": KnownItem("threshold", "g:same", "in.jsonl")}
    res = resolve(batch({"id": "b", "type": "actor", "title": "B"},
                        {"id": "les-1", "type": "lesson", "title": "L", "thresholds": ["gone"]}),
                  known=known, replaced_graphs={"g:same"}, vocabulary=vocabulary)
    # "gone" lives only in the graph this run replaces, so pointing at it is dangling
    assert messages(res) == [
        "in.jsonl:2: thresholds: unknown id 'gone': no record has this id"]


def test_unknown_theme_lists_the_known_ones(vocabulary: Vocabulary) -> None:
    res = resolve(batch({"id": "les-1", "type": "lesson", "title": "L",
                         "themes": ["renovatie", "klimaat"]}),
                  known={}, replaced_graphs=set(), vocabulary=vocabulary)
    (problem,) = res.problems
    assert problem.field == "themes"
    assert problem.message.startswith("unknown theme 'klimaat'; known themes: ")
    listed = problem.message.split("known themes: ")[1].split(", ")
    assert listed == sorted(vocabulary.themes)


def test_subtype_checks(vocabulary: Vocabulary) -> None:
    res = resolve(batch(
        {"id": "d-1", "type": "threshold", "title": "D", "subtype": "fiscaal"},
        {"id": "les-1", "type": "lesson", "title": "L", "subtype": "juridisch"},
        {"id": "m-1", "type": "measure", "title": "M", "subtype": "begeleiding"},
    ), known={}, replaced_graphs=set(), vocabulary=vocabulary)
    got = {p.line: p.message for p in res.problems}
    assert set(got) == {1, 2}
    assert got[1].startswith("unknown drempeltype 'fiscaal'; known: financieel, juridisch")
    assert got[2] == ("a lesson has no subtype; subtypes exist for threshold, measure, "
                      "activity, actor, document")


def test_pioneer_only_for_neighbourhoods(vocabulary: Vocabulary) -> None:
    res = resolve(batch({"id": "w", "type": "neighbourhood", "title": "W", "pioneer": True},
                        {"id": "a", "type": "actor", "title": "A", "pioneer": False}),
                  known={}, replaced_graphs=set(), vocabulary=vocabulary)
    assert messages(res) == ["in.jsonl:2: pioneer: only a neighbourhood can be a pioneer"]


def test_unknown_municipality_suggests_close_names(vocabulary: Vocabulary) -> None:
    res = resolve(batch({"id": "a", "type": "actor", "title": "A", "municipality": "Gendt"},
                        {"id": "b", "type": "actor", "title": "B", "municipality": "Parijs"},
                        {"id": "c", "type": "actor", "title": "C", "municipality": "Namur"}),
                  known={}, replaced_graphs=set(), vocabulary=vocabulary)
    got = {p.line: p.message for p in res.problems}
    assert got[1].startswith("unknown Flemish municipality 'Gendt'; did you mean: Gent")
    assert got[2] == ("unknown Flemish municipality 'Parijs'; give a Flemish municipality's "
                      "Dutch name or its NIS code")
    assert "Namur" in got[3]  # a Walloon municipality is not Flemish
    assert res.municipality_nis == {}


def test_municipality_by_french_name_or_any_case(vocabulary: Vocabulary) -> None:
    res = resolve(batch({"id": "a", "type": "actor", "title": "A", "municipality": "Anvers"},
                        {"id": "b", "type": "actor", "title": "B", "municipality": "gENT"}),
                  known={}, replaced_graphs=set(), vocabulary=vocabulary)
    assert res.problems == []
    assert res.municipality_nis == {"a": resolve_municipality("Antwerpen").nis, "b": "44021"}


def test_dangling_after_removal_names_the_referrer() -> None:
    removed = {"d-1": KnownItem("threshold", "g:a", "a.csv")}
    problems = dangling_after_removal(removed, {"d-1": [("b.jsonl", "les-9")]})
    assert [str(p) for p in problems] == [
        "a.csv: id: record 'd-1' is no longer in this file, but 'les-9' in b.jsonl still "
        "points at it"]
    assert dangling_after_removal(removed, {}) == []


def test_policy_level_and_priority_only_for_thresholds(vocabulary: Vocabulary) -> None:
    res = resolve(batch(
        {"id": "d-1", "type": "threshold", "title": "D", "policy_level": "vlaams",
         "priority": True},
        {"id": "d-2", "type": "threshold", "title": "D2", "policy_level": "gemeentelijk"},
        {"id": "les-1", "type": "lesson", "title": "L", "policy_level": "lokaal",
         "priority": False},
    ), known={}, replaced_graphs=set(), vocabulary=vocabulary)
    assert messages(res) == [
        "in.jsonl:2: policy_level: unknown beleidsniveau 'gemeentelijk'; known: europees, "
        "federaal, intergemeentelijk, lokaal, vlaams",
        "in.jsonl:3: policy_level: only a threshold has a policy_level; this is a lesson",
        "in.jsonl:3: priority: only a threshold has a priority; this is a lesson",
    ]


def test_status_must_be_in_the_recordstatus_scheme(vocabulary: Vocabulary) -> None:
    res = resolve(batch(
        {"id": "les-1", "type": "lesson", "title": "L", "status": "voorbeeld"},
        {"id": "act-1", "type": "activity", "title": "A", "status": "gevalideerd"},
        {"id": "les-2", "type": "lesson", "title": "L2", "status": "goedgekeurd"},
    ), known={}, replaced_graphs=set(), vocabulary=vocabulary)
    assert messages(res) == [
        "in.jsonl:3: status: unknown recordstatus 'goedgekeurd'; known: afgewezen, gevalideerd, "
        "ingediend, voorbeeld"]
