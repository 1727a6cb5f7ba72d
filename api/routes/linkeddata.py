"""Linked-data dereferencing: every IRI wijken mints answers on this server.

`https://w3id.org/100wijken/{path}` is served at `/{path}` (w3id redirects there): records at
`/id/{type}/{id}`, concepts at `/id/concept/…`, schemes at `/id/conceptscheme/…`, provinces at
`/id/provincie/…`, source graphs at `/id/graph/…` and the ontology at `/ns`. With another
`base_iri`, records are also served at that IRI's path. Municipalities are the Flemish register's
IRIs and are not served here. Formats by `Accept` (or `?format=`): Turtle (default), HTML,
JSON-LD (compacted with the published `/context.jsonld`), N-Triples, RDF/XML.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from rdflib import Graph

import ontology
from api.deps import KnowledgeBaseDep
from api.iri_paths import IriPaths
from api.sparql.protocol import RDFLIB_SERIALIZERS, negotiate
from api.web.ld_html import html_response
from kg.describe import describe, predicate_labels
from kg.errors import NotAcceptableError, UserError
from kg.settings import Settings
from kg.store import Store
from kg.xmlchars import xml_forbidden_in_utf8, xml_unacceptable
from ontology.namespaces import ONTOLOGY_IRI, PREFIXES, ROOT

# Offered representations; the first is the default for `*/*` (curl, most RDF clients).
OFFERS = (
    "text/turtle",
    "text/html",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
)
FORMAT_PARAM = {
    "ttl": "text/turtle",
    "html": "text/html",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
}

_ID = {"@type": "@id"}
_NL = {"@language": "nl"}
CONTEXT: dict[str, Any] = {
    "@context": {
        **PREFIXES,
        "label": {"@id": "rdfs:label", **_NL},
        "comment": {"@id": "rdfs:comment", **_NL},
        "description": {"@id": "dct:description", **_NL},
        "identifier": "dct:identifier",
        "date": {"@id": "dct:date", "@type": "xsd:date"},
        "altLabel": {"@id": "skos:altLabel", **_NL},
        "prefLabel": {"@id": "skos:prefLabel", **_NL},
        "notation": "skos:notation",
        "inScheme": {"@id": "skos:inScheme", **_ID},
        "subject": {"@id": "dct:subject", **_ID},
        "subtype": {"@id": "dct:type", **_ID},
        "municipality": {"@id": "wk:municipality", **_ID},
        "neighbourhood": {"@id": "wk:neighbourhood", **_ID},
        "involves": {"@id": "wk:involves", **_ID},
        "overcomes": {"@id": "wk:overcomes", **_ID},
        "addresses": {"@id": "wk:addresses", **_ID},
        "usesMeasure": {"@id": "wk:usesMeasure", **_ID},
        "related": {"@id": "wk:related", **_ID},
        "mentions": {"@id": "wk:mentions", **_ID},
        "source": {"@id": "dct:source", **_ID},
        "wasGeneratedBy": {"@id": "prov:wasGeneratedBy", **_ID},
        "url": {"@id": "schema:url", **_ID},
        "pioneer": {"@id": "wk:pioneer", "@type": "xsd:boolean"},
        "policyLevel": {"@id": "wk:policyLevel", **_ID},
        "priority": {"@id": "wk:priority", "@type": "xsd:boolean"},
        "status": {"@id": "adms:status", **_ID},
    }
}


# Declared so the OpenAPI description defines its `{rest}` path parameter; the handler maps the
# whole request path (prefix included) to the IRI.
RestOfPath = Annotated[str, Path(description="The rest of the IRI's path, e.g. "
                                 "`lesson/vertrouwen`.")]
FormatParam = Annotated[
    str | None,
    Query(alias="format", description=f"Overrides `Accept`: one of {', '.join(FORMAT_PARAM)}."),
]


def represent(
    request: Request,
    store: Store,
    graph: Graph,
    subject: str,
    paths: IriPaths,
    format_param: str | None,
) -> Response:
    """The negotiated representation of `graph`, a description of `subject`."""
    if format_param is not None:
        if format_param not in FORMAT_PARAM:
            raise UserError(f"unknown format {format_param!r}; use {', '.join(FORMAT_PARAM)}")
        media_type: str | None = FORMAT_PARAM[format_param]
    else:
        media_type = negotiate(request.headers.get("accept"), OFFERS)
    if media_type is None:
        raise NotAcceptableError(f"this resource is available as {', '.join(OFFERS)}")
    if media_type == "text/html":
        return html_response(request, graph, subject, predicate_labels(store, graph))
    if media_type == "application/ld+json":
        compact = json.loads(
            graph.serialize(format="json-ld", context=CONTEXT["@context"], auto_compact=True)
        )
        compact["@context"] = str(request.url_for("jsonld_context"))
        return JSONResponse(compact, media_type="application/ld+json")
    body = graph.serialize(format=RDFLIB_SERIALIZERS[media_type], encoding="utf-8")
    bad = xml_forbidden_in_utf8(body) if media_type == "application/rdf+xml" else None
    if bad is not None:  # data written before the character rule would break the XML
        raise NotAcceptableError(xml_unacceptable(bad))
    return Response(body, media_type=media_type)


def build_router(settings: Settings) -> APIRouter:
    """The linked-data routes for the configured base IRI."""
    router = APIRouter(tags=["linked data"])
    paths = IriPaths(settings.base_iri)

    @router.get("/context.jsonld", name="jsonld_context", summary="The JSON-LD @context")
    def jsonld_context() -> JSONResponse:
        """The `@context` that JSON-LD descriptions refer to: prefixes and main properties."""
        return JSONResponse(CONTEXT, media_type="application/ld+json")

    @router.get("/ns", summary="The wijken ontology")
    def ontology_document(
        request: Request, kb: KnowledgeBaseDep, fmt: FormatParam = None
    ) -> Response:
        """The OWL ontology `https://w3id.org/100wijken/ns` (Turtle, JSON-LD, HTML…)."""
        graph = ontology.load_ontology()
        return represent(request, kb.store, graph, ONTOLOGY_IRI, paths, fmt)

    def resource(request: Request, kb: KnowledgeBaseDep, rest: RestOfPath,
                 fmt: FormatParam = None) -> Response:
        """A record, concept, concept scheme, province or source graph, described."""
        iri = paths.iri_for(request.url.path)
        return represent(request, kb.store, describe(kb.store, iri), iri, paths, fmt)

    served = {"/id/{rest:path}", "/graph/{rest:path}"}
    for iri_prefix, path_prefix in paths.prefixes:
        if iri_prefix != ROOT:
            served.add(path_prefix + "{rest:path}")
    for path in sorted(served):
        router.add_api_route(path, resource, methods=["GET"], summary="Dereference an IRI")
    # HEAD (linked-data clients probe with it) answers like GET; left out of the OpenAPI schema,
    # where a second method on one function would duplicate the operation id.
    endpoints: list[tuple[str, Callable[..., Response]]] = [
        ("/ns", ontology_document), *((p, resource) for p in sorted(served))]
    for path, endpoint in endpoints:
        router.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)
    return router
