"""Editions of the werkboek (`kg.editions`) through the facade on a real on-disk store: an
edition per change of the records (ingest, SPARQL update), none for a change-free run or a
failed one, "Nieuw sinds de vorige editie", the log in the data directory, and the editions as
DCAT datasets linked by `prov:wasRevisionOf` in the graph."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.knowledgebase import KnowledgeBase
from kg.editions import EDITION_GRAPH, werkboek_iri
from kg.errors import IngestError
from ontology.namespaces import DEFAULT_BASE_IRI

BASE = DEFAULT_BASE_IRI
DREMPEL = {"id": "drempel-kosten", "type": "threshold", "title": "De kosten zijn te hoog",
           "text": "Eigenaars kunnen een renovatie niet voorfinancieren.",
           "themes": ["renovatie", "financiering"]}
LES = {"id": "les-fonds", "type": "lesson", "title": "Een rollend fonds helpt",
       "text": "Gent werkte met een rollend fonds.", "themes": ["financiering"],
       "municipality": "Gent", "thresholds": ["drempel-kosten"], "date": "2024-03-01"}
DOORBRAAK = {"id": "doorbraak-fonds", "type": "breakthrough", "title": "Een rollend fonds",
             "themes": ["financiering"], "municipality": "Gent",
             "thresholds": ["drempel-kosten"]}


def write(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    base = KnowledgeBase(data_dir=tmp_path / "data")
    try:
        yield base
    finally:
        base.close()


def ask(kb: KnowledgeBase, query: str) -> bool:
    result = kb.sparql("PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dcat: "
                       "<http://www.w3.org/ns/dcat#> PREFIX dct: <http://purl.org/dc/terms/> "
                       + query)
    return bool(result)


def test_each_change_of_the_records_is_an_edition(kb: KnowledgeBase, tmp_path: Path) -> None:
    f = write(tmp_path / "records.jsonl", DREMPEL, LES)
    kb.ingest([f], sync_index=False)
    log = kb.editions()
    assert [e["number"] for e in log] == [1] and log[0]["previous"] is None
    first = kb.werkboek()
    assert first.edition is not None and first.edition.current and first.edition.number == 1
    assert first.edition.changes == []

    # Re-ingesting the same file, or forcing it, changes no record: no new edition.
    kb.ingest([f], sync_index=False)
    kb.ingest([f], sync_index=False, force=True)
    assert len(kb.editions()) == 1

    # A changed text, a new record and a removed one: edition 2 says which.
    changed = {**DREMPEL, "text": "Eigenaars kunnen de renovatie niet voorfinancieren; "
               "banken lenen niet aan een VME."}
    write(f, changed, DOORBRAAK)
    kb.ingest([f], sync_index=False)
    log = kb.editions()
    assert [e["number"] for e in log] == [1, 2] and log[1]["previous"] == 1
    book = kb.werkboek()
    assert book.edition is not None and book.edition.number == 2 and book.edition.current
    changes = {(c.id, c.change) for c in book.edition.changes}
    assert changes == {("drempel-kosten", "gewijzigd"), ("doorbraak-fonds", "nieuw"),
                       ("les-fonds", "verwijderd")}
    [drempel] = book.drempels
    assert drempel.change == "gewijzigd" and drempel.breakthroughs[0].change == "nieuw"

    # In the graph: two editions of the werkboek dataset, the second a revision of the first.
    e1, e2 = (f"<{BASE}werkboek/editie/{n}>" for n in (1, 2))
    assert ask(kb, f"ASK {{ GRAPH <{EDITION_GRAPH}> {{ {e2} prov:wasRevisionOf {e1} ; "
                   f"dcat:previousVersion {e1} ; dct:isVersionOf <{werkboek_iri(BASE)}> }} }}")
    assert ask(kb, f"ASK {{ <{werkboek_iri(BASE)}> a dcat:Dataset ; dcat:hasCurrentVersion {e2} ;"
                   " dcat:distribution ?d . ?d dcat:downloadURL ?u ; dcat:mediaType ?m "
                   "FILTER (STRENDS(STR(?u), '.pdf')) }")
    assert not ask(kb, f"ASK {{ {e1} prov:wasRevisionOf ?x }}")


def test_a_sparql_update_that_changes_a_record_is_an_edition(kb: KnowledgeBase,
                                                             tmp_path: Path) -> None:
    kb.ingest([write(tmp_path / "records.jsonl", DREMPEL)], sync_index=False)
    kb.sparql_update(f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        DELETE {{ GRAPH ?g {{ ?s rdfs:label ?l }} }}
        INSERT {{ GRAPH ?g {{ ?s rdfs:label "De kosten blijven te hoog"@nl }} }}
        WHERE {{ GRAPH ?g {{ ?s rdfs:label ?l }}
                 FILTER (?s = <{BASE}threshold/drempel-kosten>) }}""")
    log = kb.editions()
    assert len(log) == 2
    assert [(c["id"], c["change"], c["title"]) for c in log[1]["changes"]] == [  # type: ignore[union-attr]
        ("drempel-kosten", "gewijzigd", "De kosten blijven te hoog")]
    kb.sparql_update("CREATE SILENT GRAPH <https://example.org/leeg>")  # no record changed
    assert len(kb.editions()) == 2


def test_a_failed_ingest_records_no_edition(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.ingest([write(tmp_path / "records.jsonl", DREMPEL)], sync_index=False)
    log_file = kb.data_dir / "werkboek" / "editions.jsonl"  # type: ignore[operator]
    before = log_file.read_bytes()
    bad = write(tmp_path / "bad.jsonl", {**LES, "thresholds": ["bestaat-niet"]})
    with pytest.raises(IngestError):
        kb.ingest([bad], sync_index=False)
    assert log_file.read_bytes() == before


def test_a_working_version_lists_what_changed_since_the_last_edition(
        kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.ingest([write(tmp_path / "records.jsonl", DREMPEL)], sync_index=False)
    # A write that bypasses the facade (no edition): the book is a working version after 1.
    kb.store.update(f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        INSERT {{ GRAPH <{BASE}graph/extra> {{ <{BASE}threshold/drempel-kosten>
        rdfs:comment "extra" }} }} WHERE {{}}""")
    book = kb.werkboek()
    assert book.edition is not None and not book.edition.current
    assert [(c.id, c.change) for c in book.edition.changes] == [("drempel-kosten", "gewijzigd")]
    assert kb.publish_edition() is not None and len(kb.editions()) == 2
    assert kb.publish_edition() is None  # nothing changed since


def test_no_editions_without_a_data_directory() -> None:
    kb = KnowledgeBase(data_dir=None)
    try:
        assert kb.publish_edition() is None and kb.editions() == []
        assert kb.werkboek().edition is None
    finally:
        kb.close()
