"""Namespaces, record types and the IRI scheme shared by every module (see docs/architecture.md)."""

from __future__ import annotations

from typing import Final

from rdflib import Namespace
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

ROOT: Final = "https://w3id.org/100wijken/"
WK: Final = Namespace(ROOT + "ns#")
ONTOLOGY_IRI: Final = ROOT + "ns"
DEFAULT_BASE_IRI: Final = ROOT + "id/"
CONCEPT_ROOT: Final = ROOT + "id/concept/"
SCHEME_ROOT: Final = ROOT + "id/conceptscheme/"
PROVINCE_ROOT: Final = ROOT + "id/provincie/"
MUNICIPALITY_ROOT: Final = "https://data.vlaanderen.be/id/gemeente/"
REFERENCE_GRAPH_ROOT: Final = ROOT + "graph/"

ORG: Final = Namespace("http://www.w3.org/ns/org#")
SCHEMA: Final = Namespace("https://schema.org/")
GEO: Final = Namespace("http://www.opengis.net/ont/geosparql#")
# ADMS: `adms:status` is the W3C/SEMIC term for a workflow status (DCAT-AP and OSLO reuse it).
ADMS: Final = Namespace("http://www.w3.org/ns/adms#")

# Record type (the `type` field) -> (class local name, Dutch label, English label).
RECORD_TYPES: Final[dict[str, tuple[str, str, str]]] = {
    "lesson": ("Lesson", "les", "lesson"),
    "threshold": ("Threshold", "drempel", "threshold"),
    "measure": ("Measure", "maatregel", "measure"),
    "breakthrough": ("Breakthrough", "doorbraak", "breakthrough"),
    "actor": ("Actor", "actor", "actor"),
    "neighbourhood": ("Neighbourhood", "wijk", "neighbourhood"),
    "activity": ("Activity", "activiteit", "activity"),
    "document": ("SourceDocument", "brondocument", "source document"),
}
# The types that answer questions; search indexes these.
KNOWLEDGE_TYPES: Final = ("lesson", "threshold", "measure", "breakthrough")
# Which concept scheme the `subtype` field of a type draws from.
SUBTYPE_SCHEMES: Final[dict[str, str]] = {
    "threshold": "drempeltype",
    "measure": "maatregeltype",
    "activity": "activiteittype",
    "actor": "actortype",
    "document": "documenttype",
}
THEME_SCHEME: Final = "thema"
POLICY_LEVEL_SCHEME: Final = "beleidsniveau"  # a threshold's `policy_level` (wk:policyLevel)
STATUS_SCHEME: Final = "recordstatus"  # any record's `status` (adms:status)

# Keyed by any term, so that a term read from the store looks up as it is.
CLASS_TO_TYPE: Final[dict[Node, str]] = {WK[cls]: t for t, (cls, _, _) in RECORD_TYPES.items()}

PREFIXES: Final[dict[str, str]] = {
    "wk": str(WK),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dct": str(DCTERMS),
    "prov": str(PROV),
    "foaf": str(FOAF),
    "org": str(ORG),
    "schema": str(SCHEMA),
    "geo": str(GEO),
    "adms": str(ADMS),
}


def concept_iri(scheme: str, notation: str) -> str:
    """IRI of a SKOS concept in one of the wijken schemes."""
    return f"{CONCEPT_ROOT}{scheme}/{notation}"


def scheme_iri(scheme: str) -> str:
    """IRI of a wijken SKOS concept scheme."""
    return f"{SCHEME_ROOT}{scheme}"


def municipality_iri(nis: str) -> str:
    """The official Flemish register IRI of a municipality."""
    return f"{MUNICIPALITY_ROOT}{nis}"


def item_iri(base_iri: str, record_type: str, record_id: str) -> str:
    """IRI of a record: stable for a base IRI, type and id."""
    return f"{base_iri}{record_type}/{record_id}"


def reference_graph(name: str) -> str:
    """Named graph holding one kind of reference data (ontology, schemes, municipalities)."""
    return f"{REFERENCE_GRAPH_ROOT}{name}"


def sparql_prefixes() -> str:
    """PREFIX declarations for every namespace above, for queries written in code."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
