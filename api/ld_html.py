"""A plain Dutch HTML page for a linked-data description (until the web interface lands).

One table of the resource's properties, one of the links pointing at it, and a section per
hash-IRI term of the same document (the ontology's classes and properties at `/ns`). Linked
resources show their label and link to their local path when this server serves them.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS, SKOS

from kg.items import RELATIONS
from kg.namespaces import PREFIXES

PathFor = Callable[[str], str | None]
# Fallback Dutch labels for vocabulary terms the ontology does not label.
_VOCAB_LABELS = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": "type",
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
    "http://purl.org/dc/terms/description": "beschrijving",
    "http://purl.org/dc/terms/title": "titel",
    "http://purl.org/dc/terms/identifier": "id",
    "http://purl.org/dc/terms/date": "datum",
    "https://schema.org/url": "website",
}
_STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
line-height:1.5;color:#1b1b1b}table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{text-align:left;vertical-align:top;padding:.35rem .6rem;border-bottom:1px solid #ddd}
th{width:14rem;font-weight:600}code{font-size:.85em;color:#555}.lang{color:#777;font-size:.8em}"""


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


class _Page:
    def __init__(self, graph: Graph, path_for: PathFor, labels: dict[str, str]) -> None:
        self.graph, self.path_for, self.labels = graph, path_for, labels

    def predicate(self, iri: str, incoming: bool = False) -> str:
        relation = RELATIONS.get(URIRef(iri))
        if relation is not None:
            return relation[2] if incoming else relation[1]
        name = self.labels.get(iri) or _VOCAB_LABELS.get(iri) or _qname(iri)
        return f"{name} (van)" if incoming else name

    def value(self, node: object) -> str:
        if isinstance(node, Literal):
            lang = f' <span class="lang">@{escape(node.language)}</span>' if node.language else ""
            return f"{escape(str(node))}{lang}"
        if isinstance(node, URIRef):
            iri = str(node)
            text = _label(self.graph, node) or self.labels.get(iri) or _qname(iri)
            href = self.path_for(iri) or iri
            return f'<a href="{escape(href)}">{escape(text)}</a>'
        return escape(str(node))

    def table(self, rows: dict[str, list[str]], caption: str) -> str:
        if not rows:
            return ""
        body = "".join(
            f"<tr><th>{escape(name)}</th><td>{'<br>'.join(values)}</td></tr>"
            for name, values in sorted(rows.items())
        )
        return f"<table><caption hidden>{escape(caption)}</caption>{body}</table>"

    def properties(self, subject: URIRef) -> str:
        rows: dict[str, list[str]] = {}
        for p, o in sorted(self.graph.predicate_objects(subject)):
            rows.setdefault(self.predicate(str(p)), []).append(self.value(o))
        return self.table(rows, "Eigenschappen")

    def incoming(self, subject: URIRef) -> str:
        rows: dict[str, list[str]] = {}
        for s, p in sorted(self.graph.subject_predicates(subject)):
            rows.setdefault(self.predicate(str(p), incoming=True), []).append(self.value(s))
        return self.table(rows, "Inkomende verwijzingen")


def render_page(graph: Graph, subject: str, path_for: PathFor, labels: dict[str, str]) -> str:
    """The HTML page describing `subject`, with `labels` for predicates and classes."""
    page = _Page(graph, path_for, labels)
    node = URIRef(subject)
    title = _label(graph, node) or _qname(subject)
    sections = [
        f"<h1>{escape(title)}</h1>",
        f"<p><code>{escape(subject)}</code></p>",
        "<h2>Eigenschappen</h2>",
        page.properties(node),
    ]
    incoming = page.incoming(node)
    if incoming:
        sections += ["<h2>Verwijzingen naar dit item</h2>", incoming]
    terms = sorted({s for s in graph.subjects() if str(s).startswith(subject + "#")}, key=str)
    for term in terms:
        assert isinstance(term, URIRef)
        name = _label(graph, term) or _qname(str(term))
        anchor = escape(str(term).partition("#")[2])
        sections += [
            f'<h2 id="{anchor}">{escape(name)} <code>{escape(_qname(str(term)))}</code></h2>',
            page.properties(term),
        ]
    formats = " · ".join(
        f'<a href="?format={code}">{name}</a>'
        for code, name in (("ttl", "Turtle"), ("jsonld", "JSON-LD"), ("nt", "N-Triples"))
    )
    return (
        f'<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · 100 WIJKEN kennisgraaf</title><style>{_STYLE}</style>"
        f'</head><body><p><a href="/">100 WIJKEN kennisgraaf</a></p>{"".join(sections)}'
        f"<footer><p>Andere formaten: {formats}</p></footer></body></html>"
    )
