"""The wijken ontology, SKOS concept schemes and SHACL shapes, and their reference documentation.

The Turtle files ship as package data; the loaders parse each file once and hand out copies, so
callers may add to the graphs they receive.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from ontology.namespaces import PREFIXES, THEME_SCHEME, scheme_iri

ONTOLOGY_FILE = "wijken.ttl"
SCHEMES_FILE = "schemes.ttl"
SHAPES_FILE = "shapes.ttl"
THESAURUS_FILE = "thesaurus.ttl"

# The concept schemes defined in schemes.ttl, in documentation order.
SCHEMES: tuple[str, ...] = (
    "thema",
    "lekp-werf",
    "drempeltype",
    "maatregeltype",
    "activiteittype",
    "actortype",
    "beleidsniveau",
    "recordstatus",
    "documenttype",
)


def _resource(name: str) -> Path:
    return Path(str(resources.files(__name__).joinpath(name)))


def ontology_path() -> Path:
    """Path of the OWL ontology (Turtle)."""
    return _resource(ONTOLOGY_FILE)


def schemes_path() -> Path:
    """Path of the SKOS concept schemes (Turtle)."""
    return _resource(SCHEMES_FILE)


def thesaurus_path() -> Path:
    """Path of the practitioners' thesaurus (SKOS, Turtle): small groups of near-equivalent
    terms that search uses for query expansion."""
    return _resource(THESAURUS_FILE)


def shapes_path() -> Path:
    """Path of the SHACL shapes (Turtle)."""
    return _resource(SHAPES_FILE)


@cache
def _parsed(name: str) -> Graph:
    graph = Graph()
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri)
    graph.parse(_resource(name), format="turtle")
    return graph


def _copy(name: str) -> Graph:
    source = _parsed(name)
    graph = Graph()
    for prefix, iri in source.namespaces():
        graph.bind(prefix, iri, override=True)
    graph += source
    return graph


def load_ontology() -> Graph:
    """A fresh graph holding the OWL ontology."""
    return _copy(ONTOLOGY_FILE)


def load_schemes() -> Graph:
    """A fresh graph holding every SKOS concept scheme."""
    return _copy(SCHEMES_FILE)


def load_thesaurus() -> Graph:
    """A fresh graph holding the practitioners' thesaurus."""
    return _copy(THESAURUS_FILE)


def load_shapes() -> Graph:
    """A fresh graph holding the SHACL shapes."""
    return _copy(SHAPES_FILE)


@cache
def _notations(scheme: str) -> tuple[tuple[str, str], ...]:
    graph = _parsed(SCHEMES_FILE)
    scheme_ref = URIRef(scheme_iri(scheme))
    if (scheme_ref, None, None) not in graph:
        raise ValueError(f"unknown concept scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    pairs = []
    for concept in graph.subjects(SKOS.inScheme, scheme_ref):
        notation = graph.value(concept, SKOS.notation)
        if isinstance(notation, Literal):
            pairs.append((str(notation), str(concept)))
    return tuple(sorted(pairs))


def scheme_notations(scheme: str) -> dict[str, str]:
    """Notation -> concept IRI for one concept scheme (e.g. ``"drempeltype"``).

    Raises ``ValueError`` for a scheme that schemes.ttl does not define.
    """
    return dict(_notations(scheme))


def theme_notations() -> dict[str, str]:
    """Notation -> concept IRI for the ``thema`` scheme."""
    return scheme_notations(THEME_SCHEME)


def concept_labels(scheme: str, lang: str = "nl") -> dict[str, tuple[str, ...]]:
    """Notation -> (prefLabel, *altLabels sorted) in one language, for query expansion and NLP.

    Concepts without a prefLabel in ``lang`` are left out.
    """
    graph = _parsed(SCHEMES_FILE)
    labels: dict[str, tuple[str, ...]] = {}
    for notation, iri in _notations(scheme):
        concept = URIRef(iri)
        pref = [str(o) for o in graph.objects(concept, SKOS.prefLabel) if _lang(o) == lang]
        if not pref:
            continue
        alts = sorted(str(o) for o in graph.objects(concept, SKOS.altLabel) if _lang(o) == lang)
        labels[notation] = (pref[0], *alts)
    return labels


def _lang(term: object) -> str | None:
    return term.language if isinstance(term, Literal) else None
