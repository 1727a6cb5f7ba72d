"""Reading one record with its links in both directions, labels resolved (kg/items.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from api.knowledgebase import KnowledgeBase
from kg.errors import NotFoundError
from kg.items import Item
from ontology.namespaces import DEFAULT_BASE_IRI, concept_iri, municipality_iri

RECORDS = [
    {"id": "veka", "type": "actor", "title": "Vlaams Energie- en Klimaatagentschap",
     "alt_labels": ["VEKA", "Energieagentschap"], "subtype": "vlaamse-overheid"},
    {"id": "stad-gent", "type": "actor", "title": "Stad Gent", "municipality": "Gent"},
    {"id": "wijk-muide", "type": "neighbourhood", "title": "Muide-Meulestede (Gent)",
     "municipality": "Gent", "pioneer": True, "actors": ["stad-gent"]},
    {"id": "oogstsessie-1", "type": "activity", "title": "Eerste oogstsessie",
     "subtype": "oogstsessie", "date": "2023-03-08"},
    {"id": "oogstnota", "type": "document", "title": "Oogstnota"},
    {"id": "drempel-kosten", "type": "threshold", "title": "De kosten zijn te hoog",
     "themes": ["financiering"], "subtype": "financieel"},
    {"id": "maatregel-fonds", "type": "measure", "title": "Een rollend fonds",
     "thresholds": ["drempel-kosten"], "themes": ["financiering"], "source": "oogstnota"},
    {"id": "les-een", "type": "lesson", "title": "Een rollend fonds maakt renovatie haalbaar",
     "text": "Met VEKA werkte de stad een fonds uit.", "themes": ["renovatie", "financiering"],
     "municipality": "Gent", "neighbourhood": "wijk-muide", "actors": ["stad-gent"],
     "thresholds": ["drempel-kosten"], "measures": ["maatregel-fonds"],
     "source": "oogstsessie-1", "date": "2024-01-02"},
    {"id": "doorbraak-een", "type": "breakthrough", "title": "Fonds op wijkniveau",
     "themes": ["financiering"], "thresholds": ["drempel-kosten"], "related": ["les-een"]},
]


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    root = tmp_path_factory.mktemp("items")
    f = root / "records.jsonl"
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS),
                 encoding="utf-8")
    base = KnowledgeBase(data_dir=root / "data")
    base.ingest([f], sync_index=False)
    yield base
    base.close()


def link_set(item: Item) -> set[tuple[str, str, str, str | None, str | None]]:
    return {(ln.relation, ln.direction, ln.label, ln.target.id, ln.target.title)
            for ln in item.links}


def test_item_fields(kb: KnowledgeBase) -> None:
    les = kb.item("les-een")
    assert les.id == "les-een"
    assert les.type == "lesson"
    assert les.iri == DEFAULT_BASE_IRI + "lesson/les-een"
    assert les.title == "Een rollend fonds maakt renovatie haalbaar"
    assert les.text == "Met VEKA werkte de stad een fonds uit."
    assert les.date == "2024-01-02"
    assert les.graph is not None and les.graph.startswith(DEFAULT_BASE_IRI + "graph/records-")
    assert kb.item("veka").alt_labels == ["Energieagentschap", "VEKA"]


def test_outgoing_links_with_labels(kb: KnowledgeBase) -> None:
    les = kb.item("les-een")
    out = {x for x in link_set(les) if x[1] == "out"}
    assert ("addresses", "out", "gaat over drempel", "drempel-kosten",
            "De kosten zijn te hoog") in out
    assert ("uses-measure", "out", "gebruikt maatregel", "maatregel-fonds",
            "Een rollend fonds") in out
    assert ("involves", "out", "betrokken actor", "stad-gent", "Stad Gent") in out
    assert ("neighbourhood", "out", "wijk", "wijk-muide", "Muide-Meulestede (Gent)") in out
    assert ("harvested-in", "out", "geoogst tijdens", "oogstsessie-1",
            "Eerste oogstsessie") in out
    assert ("mentions", "out", "vermeldt", "veka",
            "Vlaams Energie- en Klimaatagentschap") in out
    (municipality,) = les.linked("municipality")
    assert (municipality.iri, municipality.type, municipality.title, municipality.id) == (
        municipality_iri("44021"), "municipality", "Gent", None)
    themes = {(r.iri, r.type, r.title) for r in les.linked("theme")}
    assert themes == {(concept_iri("thema", "renovatie"), "concept", "renovatie"),
                      (concept_iri("thema", "financiering"), "concept", "financiering")}
    targets = {ln.target.type for ln in les.links
               if ln.target.id is not None and ln.direction == "out"}
    assert targets == {"threshold", "measure", "actor", "neighbourhood", "activity"}


def test_incoming_links_with_labels(kb: KnowledgeBase) -> None:
    drempel = kb.item("drempel-kosten")
    incoming = {x for x in link_set(drempel) if x[1] == "in"}
    assert incoming == {
        ("addresses", "in", "aangepakt in", "les-een",
         "Een rollend fonds maakt renovatie haalbaar"),
        ("addresses", "in", "aangepakt in", "maatregel-fonds", "Een rollend fonds"),
        ("overcomes", "in", "overwonnen door", "doorbraak-een", "Fonds op wijkniveau"),
    }
    assert [r.type for r in drempel.linked("overcomes", "in")] == ["breakthrough"]
    (subtype,) = drempel.linked("subtype")
    assert subtype.iri == concept_iri("drempeltype", "financieel")
    assert subtype.title == "financiële drempel"


def test_both_directions_of_one_link_agree(kb: KnowledgeBase) -> None:
    wijk = kb.item("wijk-muide")
    assert [r.id for r in wijk.linked("neighbourhood", "in")] == ["les-een"]
    assert [r.id for r in wijk.linked("involves")] == ["stad-gent"]
    actor = kb.item("stad-gent")
    assert {r.id for r in actor.linked("involves", "in")} == {"wijk-muide", "les-een"}
    assert [r.id for r in kb.item("oogstnota").linked("source", "in")] == ["maatregel-fonds"]
    assert [r.id for r in kb.item("oogstsessie-1").linked("harvested-in", "in")] == ["les-een"]
    assert [r.id for r in kb.item("veka").linked("mentions", "in")] == ["les-een"]
    assert [r.id for r in kb.item("doorbraak-een").linked("related")] == ["les-een"]
    assert [r.id for r in kb.item("les-een").linked("related", "in")] == ["doorbraak-een"]


def test_every_link_has_a_label_and_a_title(kb: KnowledgeBase) -> None:
    for rid in (r["id"] for r in RECORDS):
        item = kb.item(rid)
        for ln in item.links:
            assert ln.label, (rid, ln)
            assert ln.target.title, (rid, ln)
            assert ln.direction in ("in", "out")


def test_unknown_id(kb: KnowledgeBase) -> None:
    with pytest.raises(NotFoundError, match="no record with id 'bestaat-niet'"):
        kb.item("bestaat-niet")
    assert kb.items.get("bestaat-niet") is None
    # a municipality has a dct:identifier too, but it is not a record
    with pytest.raises(NotFoundError):
        kb.item("44021")


def test_id_with_quotes_is_not_injected(kb: KnowledgeBase) -> None:
    with pytest.raises(NotFoundError):
        kb.item('x" } UNION { ?s ?p ?o } #')
