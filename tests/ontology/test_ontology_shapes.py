"""Tests for the SHACL shapes: pyshacl (inference none) on small real instance graphs."""

from __future__ import annotations

import pytest
from pyshacl import validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SH, SKOS, XSD

import ontology
from ontology.namespaces import (
    DEFAULT_BASE_IRI,
    SCHEMA,
    WK,
    concept_iri,
    item_iri,
    municipality_iri,
)


def _rec(record_type: str, record_id: str) -> URIRef:
    return URIRef(item_iri(DEFAULT_BASE_IRI, record_type, record_id))


def _valid_records() -> Graph:
    g = Graph()
    gent = URIRef(municipality_iri("44021"))
    threshold = _rec("threshold", "versnipperde-eigendom")
    breakthrough = _rec("breakthrough", "collectieve-aanvraag")
    lesson = _rec("lesson", "start-met-buurtgesprek")
    actor = _rec("actor", "energent")
    wijk = _rec("neighbourhood", "muide-meulestede")
    activity = _rec("activity", "oogstsessie-2023-03-08")
    document = _rec("document", "oogstnota-2024")
    measure = _rec("measure", "renovatiecoach")
    records = {
        threshold: (WK.Threshold, "Versnipperde eigendom in appartementsgebouwen"),
        breakthrough: (WK.Breakthrough, "Collectieve premieaanvraag per bouwblok"),
        lesson: (WK.Lesson, "Start met een buurtgesprek"),
        actor: (WK.Actor, "EnerGent"),
        wijk: (WK.Neighbourhood, "Muide-Meulestede"),
        activity: (WK.Activity, "Eerste oogstsessie"),
        document: (WK.SourceDocument, "Oogstnota 100 WIJKEN PLATFORM"),
        measure: (WK.Measure, "Renovatiecoach per straat"),
    }
    for node, (cls, title) in records.items():
        g.add((node, RDF.type, cls))
        g.add((node, DCTERMS.identifier, Literal(str(node).rsplit("/", 1)[-1])))
        g.add((node, RDFS.label, Literal(title, lang="nl")))
    themes = ontology.theme_notations()
    g.add((threshold, DCTERMS.type, URIRef(concept_iri("drempeltype", "juridisch"))))
    g.add((measure, DCTERMS.type, URIRef(concept_iri("maatregeltype", "begeleiding"))))
    g.add((activity, DCTERMS.type, URIRef(concept_iri("activiteittype", "oogstsessie"))))
    g.add((actor, DCTERMS.type, URIRef(concept_iri("actortype", "cooperatie"))))
    g.add((lesson, DCTERMS.description, Literal("Bewoners **eerst** horen.", lang="nl")))
    g.add((lesson, DCTERMS.subject, URIRef(themes["participatie"])))
    g.add((lesson, WK.municipality, gent))
    g.add((lesson, WK.neighbourhood, wijk))
    g.add((lesson, WK.involves, actor))
    g.add((lesson, WK.addresses, threshold))
    g.add((lesson, WK.usesMeasure, measure))
    g.add((lesson, WK.related, breakthrough))
    g.add((lesson, PROV.wasGeneratedBy, activity))
    g.add((lesson, DCTERMS.date, Literal("2023-03-08", datatype=XSD.date)))
    g.add((lesson, SKOS.altLabel, Literal("buurtgesprek", lang="nl")))
    g.add((lesson, SCHEMA.url, URIRef("https://www.example.org/les")))
    g.add((lesson, WK.mentions, URIRef(themes["renovatie"])))
    g.add((lesson, WK.mentions, gent))
    g.add((breakthrough, WK.overcomes, threshold))
    g.add((breakthrough, DCTERMS.source, document))
    g.add((wijk, WK.pioneer, Literal(True)))
    g.add((wijk, WK.municipality, gent))
    return g


def _validate(records: Graph) -> tuple[bool, set[tuple[str, str]]]:
    data = records + ontology.load_ontology() + ontology.load_schemes()
    data.add((URIRef(municipality_iri("44021")), RDF.type, WK.Municipality))
    conforms, report, _text = validate(
        data, shacl_graph=ontology.load_shapes(), inference="none", allow_warnings=False
    )
    found = set()
    # Only top-level results: sh:node failures also nest the inner shape's results.
    for result in report.objects(None, SH.result):
        focus = str(report.value(result, SH.focusNode)).rsplit("/", 1)[-1]
        found.add((focus, str(report.value(result, SH.resultMessage))))
    return bool(conforms), found


def test_shapes_accept_valid_records() -> None:
    conforms, found = _validate(_valid_records())
    assert conforms, found


LESSON = _rec("lesson", "start-met-buurtgesprek")


def _break_label(g: Graph) -> None:
    g.remove((LESSON, RDFS.label, None))


def _break_addresses(g: Graph) -> None:
    g.add((LESSON, WK.addresses, _rec("actor", "energent")))


def _break_id(g: Graph) -> None:
    g.set((LESSON, DCTERMS.identifier, Literal("Start_Met")))


def _break_theme(g: Graph) -> None:
    g.add((LESSON, DCTERMS.subject, URIRef(concept_iri("drempeltype", "sociaal"))))


def _break_label_language(g: Graph) -> None:
    g.set((LESSON, RDFS.label, Literal("Start with a talk", lang="en")))


def _break_date(g: Graph) -> None:
    g.set((LESSON, DCTERMS.date, Literal("8 maart 2023")))


def _break_subtype_scheme(g: Graph) -> None:
    g.set(
        (
            _rec("threshold", "versnipperde-eigendom"),
            DCTERMS.type,
            URIRef(concept_iri("maatregeltype", "planning")),
        )
    )


def _break_mention(g: Graph) -> None:
    g.add((LESSON, WK.mentions, BNode()))


@pytest.mark.parametrize(
    ("breaker", "focus", "message"),
    [
        (_break_label, "start-met-buurtgesprek", "title (rdfs:label@nl) is required, exactly once"),
        (
            _break_addresses,
            "start-met-buurtgesprek",
            "thresholds (wk:addresses) must be wk:Threshold records",
        ),
        (
            _break_id,
            "start-met-buurtgesprek",
            "id (dct:identifier) must be a plain string matching ^[a-z0-9][a-z0-9-]*$",
        ),
        (
            _break_theme,
            "start-met-buurtgesprek",
            "themes (dct:subject) must be concepts of the thema scheme",
        ),
        (
            _break_label_language,
            "start-met-buurtgesprek",
            "title (rdfs:label) must be Dutch text (@nl)",
        ),
        (
            _break_date,
            "start-met-buurtgesprek",
            "date (dct:date) must be one xsd:date (YYYY-MM-DD)",
        ),
        (
            _break_subtype_scheme,
            "versnipperde-eigendom",
            "subtype (dct:type) of a threshold must be one concept of the drempeltype scheme",
        ),
        (
            _break_mention,
            "start-met-buurtgesprek",
            "mentions (wk:mentions) must be actors, municipalities or theme concepts",
        ),
    ],
)
def test_shapes_reject_invalid_records(breaker, focus: str, message: str) -> None:
    records = _valid_records()
    breaker(records)
    conforms, found = _validate(records)
    assert not conforms
    assert found == {(focus, message)}
