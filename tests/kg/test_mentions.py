"""Dutch mention linking: actors, municipalities and themes named in a text (kg/mentions.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import URIRef

from api.knowledgebase import KnowledgeBase
from ingest import lookups
from kg.mentions import MentionLinker, Term
from ontology.namespaces import DEFAULT_BASE_IRI, WK, concept_iri, municipality_iri

VEKA = DEFAULT_BASE_IRI + "actor/veka"
ODE = DEFAULT_BASE_IRI + "actor/ode"
GENT = municipality_iri("44021")
BOOM = municipality_iri("11005")
WARMTE = concept_iri("thema", "warmte")
RENOVATIE = concept_iri("thema", "renovatie")
ENERGIEGEMEENSCHAP = concept_iri("thema", "energiegemeenschap")
MOBILITEIT = concept_iri("thema", "mobiliteit")


@pytest.fixture(scope="module")
def linker() -> Iterator[MentionLinker]:
    """A linker built from the real reference data (municipalities, themes) plus two actors."""
    kb = KnowledgeBase(data_dir=None)
    terms = lookups.mention_terms(kb.store, exclude_graphs=set())
    kb.close()
    terms += [Term("Vlaams Energie- en Klimaatagentschap", VEKA, "actor"),
              Term("VEKA", VEKA, "actor"),
              Term("Organisatie Duurzame Energie", ODE, "actor"), Term("ODE", ODE, "actor")]
    yield MentionLinker(terms)


def found(linker: MentionLinker, text: str) -> set[str]:
    return linker.link([text])[0]


def test_abbreviation_municipality_and_theme_synonym(linker: MentionLinker) -> None:
    assert found(linker, "VEKA legde in Gent uit hoe warmtenetten werken.") == {
        VEKA, GENT, WARMTE}


def test_full_actor_name_matches_in_any_case(linker: MentionLinker) -> None:
    assert found(linker, "Het vlaams energie- en klimaatagentschap hielp.") == {VEKA}


def test_abbreviations_match_case_sensitively(linker: MentionLinker) -> None:
    assert found(linker, "Een ode aan de wijk.") == set()
    assert found(linker, "Veka en ode, in kleine letters.") == set()
    assert found(linker, "Samen met ODE.") == {ODE}


def test_lowercase_common_word_does_not_link_the_municipality(linker: MentionLinker) -> None:
    assert BOOM not in found(linker, "In de tuin staat een oude boom.")
    assert BOOM not in found(linker, "Ze plantten bomen en een boom.")
    assert BOOM in found(linker, "Het project in Boom loopt.")


def test_municipality_named_like_a_word_at_sentence_start_is_not_linked(
        linker: MentionLinker) -> None:
    """"Boom" opening a sentence may be the tree, so it is not linked there.

    (Found earlier: only names that were keys of the lemma table counted as ambiguous, so of
    the 285 municipalities only "Pelt" did and "Boom" was linked here.)
    """
    assert BOOM not in found(linker, "Boom geeft schaduw op het plein.")


def test_theme_inflections_and_multiword_labels(linker: MentionLinker) -> None:
    assert found(linker, "Renovaties van woningen.") == {RENOVATIE}
    assert found(linker, "Energiegemeenschappen groeien.") == {ENERGIEGEMEENSCHAP}
    assert found(linker, "Het openbaar domein") == {concept_iri("thema", "openbaar-domein")}
    assert found(linker, "Deelwagens in de straat.") == {MOBILITEIT}


def test_texts_are_linked_one_by_one(linker: MentionLinker) -> None:
    assert linker.link(["Gent", "", "Niets hier.", "VEKA"]) == [{GENT}, set(), set(), {VEKA}]


def test_mentions_are_stored_apart_from_curated_links(tmp_path: Path) -> None:
    corpus = tmp_path / "r.jsonl"
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "veka", "type": "actor", "title": "Vlaams Energie- en Klimaatagentschap",
         "alt_labels": ["VEKA"], "text": "VEKA is het energieagentschap."},
        {"id": "stad-gent", "type": "actor", "title": "Stad Gent", "municipality": "Gent"},
        {"id": "les-een", "type": "lesson", "title": "Een les over warmte",
         "text": "VEKA en Stad Gent bespraken in Gent de warmtenetten. Er stond een boom.",
         "actors": ["stad-gent"], "themes": ["participatie"]},
    ]) + "\n", encoding="utf-8")
    kb = KnowledgeBase(data_dir=tmp_path / "data")
    try:
        kb.ingest([corpus], sync_index=False)
        les = URIRef(DEFAULT_BASE_IRI + "lesson/les-een")
        g = kb.store.graph(kb.item("les-een").graph)
        assert set(g.objects(les, WK.mentions)) == {
            URIRef(VEKA), URIRef(DEFAULT_BASE_IRI + "actor/stad-gent"), URIRef(GENT),
            URIRef(WARMTE)}
        # curated links stay as delivered: mentions never become wk:involves or dct:subject
        assert set(g.objects(les, WK.involves)) == {URIRef(DEFAULT_BASE_IRI + "actor/stad-gent")}
        assert {str(o) for o in g.objects(les, URIRef("http://purl.org/dc/terms/subject"))} == {
            concept_iri("thema", "participatie")}
        assert not list(g.objects(les, WK.municipality))
        # a record does not mention itself
        assert URIRef(VEKA) not in set(g.objects(URIRef(VEKA), WK.mentions))
        item = kb.item("les-een")
        assert {r.title for r in item.linked("mentions")} >= {"Gent", "warmte"}
        assert {r.id for r in kb.item("veka").linked("mentions", "in")} == {"les-een"}
    finally:
        kb.close()
