"""Searchable documents (search/documents.py): what `load_documents` reads from a real store
(links in both directions, curated links apart from NLP mentions), the embedded passage and its
hash, and the facet values the filters match."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from api.knowledgebase import KnowledgeBase
from search.documents import Document, Ref, load_documents

RECORDS = Path(__file__).with_name("engine_records.jsonl")
MENTIONS_ONLY = {  # names a municipality and an actor in its text, links neither
    "id": "les-zonder-links", "type": "lesson",
    "title": "Wat Leuven leerde van de Energiecentrale Gent",
    "text": "Leuven bezocht de Energiecentrale Gent om het renovatieloket te vergelijken.",
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    """An in-memory store with the small engine corpus (no index, no model)."""
    tmp = tmp_path_factory.mktemp("documents")
    extra = tmp / "extra.jsonl"
    extra.write_text(json.dumps(MENTIONS_ONLY, ensure_ascii=False) + "\n", encoding="utf-8")
    base = KnowledgeBase(data_dir=None)
    base.ingest([RECORDS, extra], sync_index=False)
    yield base
    base.close()


@pytest.fixture(scope="module")
def docs(kb: KnowledgeBase) -> dict[str, Document]:
    return load_documents(kb.store)


def test_only_knowledge_items_are_documents(docs: dict[str, Document]) -> None:
    assert set(docs) == {
        "drempel-geen-aannemer", "drempel-warmtenet-duur", "drempel-lege-infoavond",
        "les-gent-renovatie", "les-gent-buurtfeest", "les-mortsel-warmte", "les-brugge-fiets",
        "maatregel-groepsaanbesteding", "doorbraak-straat-per-straat", "les-zonder-links"}
    assert {d.id: d.type for d in docs.values()}["doorbraak-straat-per-straat"] == "breakthrough"
    assert docs["maatregel-groepsaanbesteding"].type == "measure"
    assert docs["drempel-lege-infoavond"].type == "threshold"
    assert docs["les-gent-renovatie"].iri == (
        "https://w3id.org/100wijken/id/lesson/les-gent-renovatie")


def test_a_lesson_with_all_its_links(docs: dict[str, Document]) -> None:
    les = docs["les-gent-renovatie"]
    assert les.title.startswith("Een vaste wijkcoach")
    assert les.text.startswith("In de Rabotwijk")
    assert les.municipality == Ref("44021", "Gent")
    assert les.neighbourhood == Ref("wijk-rabot", "Rabot (Gent)")
    assert les.actors == [Ref("energiecentrale-gent", "Energiecentrale Gent")]
    assert les.themes == [Ref("renovatie", "renovatie")]
    assert les.thresholds == [Ref("drempel-geen-aannemer",
                                  "Eigenaars vinden geen aannemer voor kleine renovatiewerken")]
    assert [m.id for m in les.measures] == ["maatregel-groepsaanbesteding"]
    # The breakthrough names this lesson as related: the link is read from the other side.
    assert [b.id for b in les.breakthroughs] == ["doorbraak-straat-per-straat"]
    assert [r.id for r in les.related] == ["doorbraak-straat-per-straat"]


def test_breakthrough_threshold_and_measure_see_each_other(docs: dict[str, Document]) -> None:
    doorbraak = docs["doorbraak-straat-per-straat"]
    assert [t.id for t in doorbraak.thresholds] == ["drempel-lege-infoavond",
                                                    "drempel-geen-aannemer"]  # sorted by title
    assert [m.id for m in doorbraak.measures] == ["maatregel-groepsaanbesteding"]
    assert doorbraak.breakthroughs == []  # never itself
    assert [r.id for r in doorbraak.related] == ["les-gent-renovatie"]
    for rid in ("drempel-geen-aannemer", "drempel-lege-infoavond", "maatregel-groepsaanbesteding"):
        assert [b.id for b in docs[rid].breakthroughs] == ["doorbraak-straat-per-straat"], rid
    assert docs["drempel-warmtenet-duur"].breakthroughs == []
    assert docs["drempel-geen-aannemer"].thresholds == []
    assert [t.id for t in docs["drempel-warmtenet-duur"].themes] == ["financiering", "warmte"]


def test_mentions_found_by_nlp_are_not_curated_links(kb: KnowledgeBase,
                                                     docs: dict[str, Document]) -> None:
    mentioned = {str(r["o"]) for r in kb.store.select(
        "SELECT ?o WHERE { <https://w3id.org/100wijken/id/lesson/les-zonder-links> "
        "<https://w3id.org/100wijken/ns#mentions> ?o }")}
    assert "https://data.vlaanderen.be/id/gemeente/24062" in mentioned  # Leuven, by NLP
    d = docs["les-zonder-links"]
    assert d.municipality is None and d.actors == [] and d.thresholds == [] and d.themes == []
    assert d.facet_values("municipality") == set()


def test_passage_is_title_text_and_linked_labels(docs: dict[str, Document]) -> None:
    assert docs["les-mortsel-warmte"].passage == (
        "Restwarmte van een fabriek maakt een warmtenet betaalbaar\n"
        + docs["les-mortsel-warmte"].text + "\n"
        "Drempels: Een warmtenet in een woonwijk is financieel niet rendabel\n"
        "Thema's: warmte\n"
        "Plaats: Mortsel")
    assert docs["les-gent-renovatie"].passage.endswith("\nPlaats: Rabot (Gent), Gent")
    bare = Document(id="x", type="lesson", iri="i", title="Alleen een titel", text="")
    assert bare.passage == "Alleen een titel"


def test_passage_hash_follows_the_passage_only() -> None:
    d = Document(id="x", type="lesson", iri="i", title="Titel", text="Tekst.",
                 thresholds=[Ref("t", "Drempel")], actors=[Ref("a", "Actor")])
    h = d.passage_hash
    assert len(h) == 20 and all(c in "0123456789abcdef" for c in h)
    assert replace(d).passage_hash == h
    # Links that are not in the passage do not cause a re-embedding ...
    assert replace(d, actors=[], measures=[Ref("m", "Maatregel")]).passage_hash == h
    # ... a renamed linked threshold, theme or place does.
    assert replace(d, thresholds=[Ref("t", "Andere drempel")]).passage_hash != h
    assert replace(d, themes=[Ref("water", "water")]).passage_hash != h
    assert replace(d, municipality=Ref("44021", "Gent")).passage_hash != h
    assert replace(d, text="Tekst!").passage_hash != h


def test_facet_values(docs: dict[str, Document]) -> None:
    les = docs["les-gent-renovatie"]
    assert les.facet_values("type") == {"lesson", "les"}
    assert docs["drempel-geen-aannemer"].facet_values("type") == {"threshold", "drempel"}
    assert les.facet_values("theme") == {"renovatie"}
    assert les.facet_values("municipality") == {"44021", "Gent", "gent"}
    assert les.facet_values("neighbourhood") == {"wijk-rabot"}
    assert les.facet_values("actor") == {"energiecentrale-gent"}
    assert les.facet_values("threshold") == {"drempel-geen-aannemer"}
    fiets = docs["les-brugge-fiets"]
    assert fiets.facet_values("neighbourhood") == set() and fiets.facet_values("actor") == set()
    with pytest.raises(KeyError):
        les.facet_values("kleur")


def test_an_empty_store_has_no_documents() -> None:
    base = KnowledgeBase(data_dir=None)
    try:
        assert load_documents(base.store) == {}
    finally:
        base.close()
