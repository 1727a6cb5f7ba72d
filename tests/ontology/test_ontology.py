"""Tests for the wijken ontology, concept schemes, package API and the generated reference."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

import ontology
from ontology.namespaces import (
    KNOWLEDGE_TYPES,
    ONTOLOGY_IRI,
    POLICY_LEVEL_SCHEME,
    RECORD_TYPES,
    STATUS_SCHEME,
    SUBTYPE_SCHEMES,
    THEME_SCHEME,
    WK,
    concept_iri,
    scheme_iri,
)
from ontology.reference import COMMAND, generate

REPO = Path(__file__).resolve().parents[2]
CORE_THEMES = (
    "renovatie",
    "energie",
    "vergroening",
    "water",
    "mobiliteit",
    "participatie",
    "financiering",
    "openbaar-domein",
    "samenwerking",
)

EXPECTED_TERMS = {
    "KnowledgeItem",
    "Lesson",
    "Threshold",
    "Measure",
    "Breakthrough",
    "Actor",
    "Neighbourhood",
    "Municipality",
    "Province",
    "Activity",
    "SourceDocument",
    "SourceGraph",
    "addresses",
    "overcomes",
    "usesMeasure",
    "municipality",
    "neighbourhood",
    "involves",
    "related",
    "mentions",
    "province",
    "lekpWerf",
    "pioneer",
    "nisCode",
    "contentHash",
    "recordCount",
    "sourceFile",
}


@pytest.fixture(scope="module")
def onto() -> Graph:
    return ontology.load_ontology()


@pytest.fixture(scope="module")
def schemes() -> Graph:
    return ontology.load_schemes()


def _langs(graph: Graph, subject: URIRef, prop: URIRef) -> Counter[str | None]:
    return Counter(o.language for o in graph.objects(subject, prop) if isinstance(o, Literal))


def _own_terms(graph: Graph) -> set[URIRef]:
    return {
        s
        for s in graph.subjects(RDF.type, None)
        if isinstance(s, URIRef) and str(s).startswith(str(WK))
    }


# --- ontology -------------------------------------------------------------------------------


def test_ontology_header(onto: Graph) -> None:
    node = URIRef(ONTOLOGY_IRI)
    assert (node, RDF.type, OWL.Ontology) in onto
    assert onto.value(node, OWL.versionInfo) == Literal("0.1.0")
    assert {"nl", "en"} <= set(_langs(onto, node, DCTERMS.title))
    for prop in (DCTERMS.description, DCTERMS.license, DCTERMS.created):
        assert onto.value(node, prop) is not None, prop


def test_every_own_term_has_bilingual_label_and_definition(onto: Graph) -> None:
    terms = _own_terms(onto)
    assert {str(t).removeprefix(str(WK)) for t in terms} >= EXPECTED_TERMS
    for term in terms:
        for prop in (RDFS.label, SKOS.definition):
            langs = _langs(onto, term, prop)
            assert langs["nl"] == 1 and langs["en"] == 1, f"{term} {prop}: {dict(langs)}"


def test_record_classes_match_namespaces_module(onto: Graph) -> None:
    for cls, _nl, en in RECORD_TYPES.values():
        assert (WK[cls], RDF.type, OWL.Class) in onto, cls
        assert onto.value(WK[cls], RDFS.label, default=None) is not None
        assert Literal(en, lang="en") in set(onto.objects(WK[cls], RDFS.label))
    knowledge = {WK[RECORD_TYPES[t][0]] for t in KNOWLEDGE_TYPES}
    assert set(onto.subjects(RDFS.subClassOf, WK.KnowledgeItem)) == knowledge


def test_property_axioms(onto: Graph) -> None:
    assert (WK.overcomes, RDFS.subPropertyOf, WK.addresses) in onto
    assert (WK.related, RDF.type, OWL.SymmetricProperty) in onto
    assert (WK.lekpWerf, RDFS.subPropertyOf, SKOS.relatedMatch) in onto
    for prop in (WK.municipality, WK.neighbourhood):
        assert (prop, RDFS.subPropertyOf, DCTERMS.spatial) in onto
    assert onto.value(WK.pioneer, RDFS.range) == XSD.boolean
    assert onto.value(WK.recordCount, RDFS.range) == XSD.integer
    assert onto.value(WK.addresses, RDFS.range) == WK.Threshold
    for prop in _own_terms(onto) - set(onto.subjects(RDF.type, OWL.Class)):
        kinds = set(onto.objects(prop, RDF.type))
        assert kinds & {OWL.ObjectProperty, OWL.DatatypeProperty}, prop


def test_every_wk_term_used_anywhere_is_defined(onto: Graph, schemes: Graph) -> None:
    defined = _own_terms(onto)
    used = set()
    for graph in (onto, schemes, ontology.load_shapes()):
        for triple in graph:
            used |= {t for t in triple if isinstance(t, URIRef) and str(t).startswith(str(WK))}
    assert used - defined == set()


# --- concept schemes ------------------------------------------------------------------------


def test_scheme_list_matches_architecture(schemes: Graph) -> None:
    found = {str(s) for s in schemes.subjects(RDF.type, SKOS.ConceptScheme)}
    assert found == {scheme_iri(s) for s in ontology.SCHEMES}
    assert {THEME_SCHEME, "lekp-werf", POLICY_LEVEL_SCHEME, STATUS_SCHEME,
            *SUBTYPE_SCHEMES.values()} == set(ontology.SCHEMES)
    for scheme in found:
        node = URIRef(scheme)
        for prop in (SKOS.prefLabel, SKOS.definition):
            assert {"nl", "en"} <= set(_langs(schemes, node, prop)), (scheme, prop)
        assert schemes.value(node, DCTERMS.modified) is not None


def test_every_concept_is_complete(schemes: Graph) -> None:
    concepts = set(schemes.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) >= 50
    for concept in concepts:
        notations = list(schemes.objects(concept, SKOS.notation))
        assert len(notations) == 1, concept
        notation = notations[0]
        assert isinstance(notation, Literal)
        assert notation.datatype is None and notation.language is None, concept
        in_schemes = list(schemes.objects(concept, SKOS.inScheme))
        assert len(in_schemes) == 1, concept
        name = str(in_schemes[0]).rsplit("/", 1)[-1]
        assert str(concept) == concept_iri(name, str(notation))
        for prop in (SKOS.prefLabel, SKOS.definition):
            langs = _langs(schemes, concept, prop)
            assert langs["nl"] == 1 and langs["en"] == 1, (concept, prop, dict(langs))
        broader = list(schemes.objects(concept, SKOS.broader))
        top = (concept, SKOS.topConceptOf, in_schemes[0]) in schemes
        assert top != bool(broader), f"{concept}: top concept xor broader"
        assert top == ((in_schemes[0], SKOS.hasTopConcept, concept) in schemes)
        for parent in broader:
            assert (parent, SKOS.narrower, concept) in schemes
            assert (parent, SKOS.inScheme, in_schemes[0]) in schemes
    for parent, child in schemes.subject_objects(SKOS.narrower):
        assert (child, SKOS.broader, parent) in schemes


def test_theme_notations_and_lekp_werven(schemes: Graph) -> None:
    themes = ontology.theme_notations()
    werven = set(ontology.scheme_notations("lekp-werf").values())
    assert werven == {concept_iri("lekp-werf", f"werf-{i}") for i in range(1, 5)}
    assert set(CORE_THEMES) <= set(themes)
    for notation, iri in themes.items():
        targets = {str(o) for o in schemes.objects(URIRef(iri), WK.lekpWerf)}
        assert targets and targets <= werven, notation
    assert str(schemes.value(URIRef(themes["mobiliteit"]), WK.lekpWerf)).endswith("werf-3")
    assert Literal("Water, het nieuwe goud", lang="nl") in set(
        schemes.objects(URIRef(concept_iri("lekp-werf", "werf-4")), SKOS.prefLabel)
    )


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        ("warmte", "energie"),
        ("energiegemeenschap", "energie"),
        ("ontharding", "water"),
        ("energiearmoede", "renovatie"),
    ],
)
def test_theme_hierarchy(schemes: Graph, child: str, parent: str) -> None:
    themes = ontology.theme_notations()
    assert schemes.value(URIRef(themes[child]), SKOS.broader) == URIRef(themes[parent])


def test_theme_labels_are_rich_and_unambiguous() -> None:
    labels = ontology.concept_labels(THEME_SCHEME)
    owners: dict[str, str] = {}
    for notation, (pref, *alts) in labels.items():
        assert len(alts) >= 10, f"{notation} has only {len(alts)} altLabels"
        assert pref.casefold() not in {a.casefold() for a in alts}
        for label in (pref, *alts):
            key = label.casefold()
            assert owners.setdefault(key, notation) == notation, (
                f"label {label!r} used by {owners[key]} and {notation}"
            )
    assert "burenpremie" in labels["renovatie"]
    assert "Hoppinpunt" in labels["mobiliteit"]
    assert "wadi" in labels["water"]


def test_scheme_notations_for_subtypes_and_errors() -> None:
    assert "oogstsessie" in ontology.scheme_notations("activiteittype")
    assert ontology.scheme_notations("drempeltype")["kennis"] == concept_iri(
        "drempeltype", "kennis"
    )
    with pytest.raises(ValueError, match="unknown concept scheme"):
        ontology.scheme_notations("bestaat-niet")


# --- package API and generated docs ---------------------------------------------------------


def test_paths_and_loaders_return_independent_graphs() -> None:
    for path in (ontology.ontology_path(), ontology.schemes_path(), ontology.shapes_path()):
        assert path.is_file() and path.suffix == ".ttl"
    first = ontology.load_ontology()
    first.add((WK.Extra, RDF.type, OWL.Class))
    assert (WK.Extra, RDF.type, OWL.Class) not in ontology.load_ontology()


def test_docs_ontology_md_is_in_sync() -> None:
    committed = (REPO / "docs" / "ontology.md").read_text(encoding="utf-8")
    assert committed == generate(), f"docs/ontology.md is stale; regenerate it with `{COMMAND}`"
