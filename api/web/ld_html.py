"""The HTML form of every IRI: a record page for records, a plain description for the rest.

A record (`/id/{type}/{id}`) gets its page: text, links grouped by relation, related
breakthroughs and why, an interactive graph of its neighbourhood, and for a threshold who
overcame it elsewhere, for a neighbourhood its pioneer case and similar neighbourhoods. Every
other resource (concepts, schemes, provinces, source graphs, the ontology at `/ns`) gets a
table of its properties and of the links pointing at it, plus a section per hash-IRI term.
Both show every RDF property of the resource with resolved labels.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from api.knowledgebase import KnowledgeBase
from api.security import safe_href
from api.web import item_views
from api.web.templating import Links, render
from kg.items import RELATIONS
from ontology.namespaces import CLASS_TO_TYPE, CONCEPT_ROOT, PREFIXES, WK

PathFor = Callable[[str], str | None]
# Fallback Dutch labels for vocabulary terms the ontology does not label.
_VOCAB_LABELS = {
    str(RDF.type): "type",
    str(RDFS.label): "naam",
    str(RDFS.comment): "toelichting",
    str(RDFS.subClassOf): "subklasse van",
    str(RDFS.subPropertyOf): "subeigenschap van",
    str(RDFS.domain): "domein",
    str(RDFS.range): "bereik",
    str(SKOS.prefLabel): "naam",
    str(SKOS.altLabel): "andere naam",
    str(SKOS.notation): "notatie",
    str(SKOS.inScheme): "in schema",
    str(SKOS.definition): "definitie",
    str(DCTERMS.description): "beschrijving",
    str(DCTERMS.title): "titel",
    str(DCTERMS.identifier): "id",
    str(DCTERMS.date): "datum",
    "https://schema.org/url": "website",
}
_THEME_ROOT = CONCEPT_ROOT + "thema/"


@dataclass
class Value:
    """One value of a property: text, an optional link and a language tag."""

    text: str
    href: str | None = None
    lang: str | None = None


def _qname(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def _label(graph: Graph, node: URIRef | BNode) -> str | None:
    """The Dutch label of a node in the graph, else an untagged one, else any."""
    found = [o for p in (RDFS.label, SKOS.prefLabel, DCTERMS.title) for o in graph.objects(node, p)]
    literals = [o for o in found if isinstance(o, Literal)]
    for wanted in ("nl", None):
        for lit in literals:
            if lit.language == wanted:
                return str(lit)
    return str(literals[0]) if literals else None


class Description:
    """Rows of (Dutch property label, values) for the resources of a description graph."""

    def __init__(self, graph: Graph, links: Links, labels: dict[str, str]) -> None:
        self.graph, self.links, self.labels = graph, links, labels

    def predicate(self, iri: str, incoming: bool = False) -> str:
        """The Dutch label of a property (of its inverse for incoming links)."""
        relation = RELATIONS.get(URIRef(iri))
        if relation is not None:
            return relation[2] if incoming else relation[1]
        name = self.labels.get(iri) or _VOCAB_LABELS.get(iri) or _qname(iri)
        return f"{name} (van)" if incoming else name

    def value(self, node: object) -> Value:
        """A literal with its language, or a link labelled with the resource's label."""
        if isinstance(node, Literal):
            return Value(str(node), lang=node.language)
        if isinstance(node, URIRef):
            iri = str(node)
            text = _label(self.graph, node) or self.labels.get(iri) or _qname(iri)
            # The RDF view links each IRI as it is: here, or the register (municipalities).
            # The template's `link()` shows an IRI that may not be linked as text.
            return Value(text, href=safe_href(self.links.paths.path_for(iri)) or iri)
        return Value(str(node))

    def properties(self, subject: URIRef) -> list[tuple[str, list[Value]]]:
        """The subject's own properties, by label."""
        rows: dict[str, list[Value]] = {}
        for p, o in sorted(self.graph.predicate_objects(subject)):
            rows.setdefault(self.predicate(str(p)), []).append(self.value(o))
        return sorted(rows.items())

    def incoming(self, subject: URIRef) -> list[tuple[str, list[Value]]]:
        """The links pointing at the subject, by the inverse label."""
        rows: dict[str, list[Value]] = {}
        for s, p in sorted(self.graph.subject_predicates(subject)):
            rows.setdefault(self.predicate(str(p), incoming=True), []).append(self.value(s))
        return sorted(rows.items())


def _record(graph: Graph, node: URIRef) -> tuple[str, str] | None:
    """(type, id) when the described resource is a record."""
    kinds = [CLASS_TO_TYPE[c] for c in graph.objects(node, RDF.type)
             if isinstance(c, URIRef) and c in CLASS_TO_TYPE]
    ids = [str(o) for o in graph.objects(node, DCTERMS.identifier)]
    return (kinds[0], ids[0]) if kinds and ids else None


def _depth(request: Request) -> int:
    raw = request.query_params.get("depth", "1")
    return int(raw) if raw in {str(d) for d in item_views.GRAPH_DEPTHS} else 1


def record_page(request: Request, desc: Description, node: URIRef, record_id: str
                ) -> HTMLResponse:
    """The page of one record (lesson, threshold, measure, breakthrough, neighbourhood…)."""
    kb: KnowledgeBase = request.app.state.kb
    item = kb.item(record_id)
    links: Links = desc.links
    context: dict[str, Any] = {
        "item": item, "subject": str(node),
        "properties": desc.properties(node), "incoming": desc.incoming(node),
        "depth": _depth(request), "depths": item_views.GRAPH_DEPTHS,
        "through_type": item_views.THROUGH_TYPE,
    }
    skip = frozenset({("neighbourhood", "in")}) if item.type == "neighbourhood" else frozenset()
    context["groups"] = item_views.link_groups(item, skip=skip)
    context["related"] = item_views.related_breakthroughs(kb, item)
    context["through"] = item_views.through_labels(kb, context["related"])
    graph = item_views.graph_payload(kb, item, context["depth"], links.href)
    # Inside <script>, "<" could end the element ("</script>") or open a comment: escape it.
    context["graph"] = graph
    context["graph_json"] = Markup(json.dumps(graph, ensure_ascii=False).replace("<", "\\u003c"))
    if item.type == "threshold":
        context["answer"] = kb.threshold_breakthroughs(item.id)
    if item.type == "neighbourhood":
        context["case"] = item_views.neighbourhood_case(kb, item)
        context["met"] = kb.neighbourhood_thresholds(item.id)
        context["timeline"] = kb.neighbourhood_timeline(item.id)
        context["similar"] = kb.similar_neighbourhoods(item.id)
        context["pioneer"] = any(str(o) == "true" for o in desc.graph.objects(node, WK.pioneer))
    return render(request, "item.html", context)


def html_response(request: Request, graph: Graph, subject: str, labels: dict[str, str]
                  ) -> HTMLResponse:
    """The HTML page describing `subject`, with `labels` for predicates and classes."""
    links = Links(request.app.state.settings.base_iri)
    desc = Description(graph, links, labels)
    node = URIRef(subject)
    record = _record(graph, node)
    if record is not None:
        return record_page(request, desc, node, record[1])
    terms = sorted({s for s in graph.subjects() if str(s).startswith(subject + "#")}, key=str)
    sections = [
        {"anchor": str(t).partition("#")[2], "title": _label(graph, t) or _qname(str(t)),
         "qname": _qname(str(t)), "properties": desc.properties(t)}
        for t in terms if isinstance(t, URIRef)
    ]
    theme = subject.removeprefix(_THEME_ROOT) if subject.startswith(_THEME_ROOT) else None
    return render(request, "resource.html", {
        "title": _label(graph, node) or _qname(subject), "subject": subject,
        "properties": desc.properties(node), "incoming": desc.incoming(node),
        "sections": sections, "theme": theme,
    })
