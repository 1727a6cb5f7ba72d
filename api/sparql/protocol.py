"""The SPARQL 1.1 Protocol, minus HTTP plumbing: format tables, negotiation, request parsing.

Routes call :func:`parse_request` with what they read from the request, then negotiate the
result format with :func:`negotiate` against the tables below (driven by Oxigraph's own media
type registry, so every listed type is one Oxigraph can write). See
https://www.w3.org/TR/sparql11-protocol/ for the operations:

    GET  ?query=…                                   query
    GET  (no parameters)                            service description
    POST application/x-www-form-urlencoded          query=… or update=…
    POST application/sparql-query                   the body is the query
    POST application/sparql-update                  the body is the update
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl

import pyoxigraph as ox

from kg.errors import UnsupportedMediaTypeError, UserError

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"

# Offered media types in order of preference (the first is the default for `*/*`). Aliases that
# clients send (SPARQLWrapper, rdflib, browsers) are listed after the canonical type.
RESULTS_MEDIA_TYPES: tuple[str, ...] = (
    "application/sparql-results+json",
    "application/json",
    "application/sparql-results+xml",
    "application/xml",
    "text/xml",
    "text/csv",
    "text/tab-separated-values",
)
RDF_MEDIA_TYPES: tuple[str, ...] = (
    "text/turtle",
    "application/x-turtle",
    "application/turtle",
    "application/n-triples",
    "application/ld+json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)
RESULTS_FORMATS = (
    ox.QueryResultsFormat.JSON,
    ox.QueryResultsFormat.XML,
    ox.QueryResultsFormat.CSV,
    ox.QueryResultsFormat.TSV,
)
RDF_FORMATS = (
    ox.RdfFormat.TURTLE,
    ox.RdfFormat.N_TRIPLES,
    ox.RdfFormat.JSON_LD,
    ox.RdfFormat.RDF_XML,
)
# rdflib serialiser names for the RDF media types (service description, linked data).
RDFLIB_SERIALIZERS: dict[str, str] = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*$")


@dataclass(frozen=True)
class SparqlRequest:
    """One protocol operation: a query, an update, or a request for the service description."""

    operation: Literal["query", "update", "description"]
    text: str = ""
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


# -- content negotiation -------------------------------------------------------------------


def _media_ranges(accept: str) -> list[tuple[str, str, float]]:
    ranges = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        kind, _, sub = fields[0].lower().partition("/")
        if not kind:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((kind, sub or "*", q))
    return ranges


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the Accept header prefers (RFC 9110 §12.5.1), or None if none is acceptable.

    Each offer takes the quality of the most specific range that matches it; the highest
    quality wins, then the more specific match, then the server's order. A missing or empty
    header accepts everything.
    """
    if not accept or not accept.strip():
        return offers[0] if offers else None
    ranges = _media_ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for order, offer in enumerate(offers):
        kind, _, sub = offer.partition("/")
        match: tuple[int, float] | None = None  # (specificity, q)
        for r_kind, r_sub, q in ranges:
            if (r_kind, r_sub) == (kind, sub):
                specificity = 2
            elif r_kind == kind and r_sub == "*":
                specificity = 1
            elif (r_kind, r_sub) == ("*", "*"):
                specificity = 0
            else:
                continue
            if match is None or specificity > match[0]:
                match = (specificity, q)
        if match is None or match[1] <= 0:
            continue
        rank = (match[1], match[0], -order)
        if best is None or rank > best:
            best, chosen = rank, offer
    return chosen


def results_format(accept: str | None) -> str | None:
    """The negotiated media type for SELECT/ASK results (canonical form), or None."""
    offer = negotiate(accept, RESULTS_MEDIA_TYPES)
    fmt = None if offer is None else ox.QueryResultsFormat.from_media_type(offer)
    return None if fmt is None else fmt.media_type


def rdf_format(accept: str | None) -> str | None:
    """The negotiated media type for CONSTRUCT/DESCRIBE results (canonical form), or None."""
    offer = negotiate(accept, RDF_MEDIA_TYPES)
    fmt = None if offer is None else ox.RdfFormat.from_media_type(offer)
    return None if fmt is None else fmt.media_type


# -- request parsing -------------------------------------------------------------------------


def _one(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise UserError(f"the `{name}` parameter may be given only once")
    return values[0] if values else None


def _graphs(params: Mapping[str, list[str]], name: str) -> tuple[str, ...]:
    graphs = tuple(params.get(name, []))
    for iri in graphs:
        if not _ABSOLUTE_IRI.match(iri):
            raise UserError(f"`{name}` must be an absolute IRI, got {iri!r}")
    return graphs


def _decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError) as exc:
        raise UserError(f"the request body is not valid {charset or 'UTF-8'} text") from exc


def _multi(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in pairs:
        params.setdefault(key, []).append(value)
    return params


def parse_request(
    method: str,
    query_params: Sequence[tuple[str, str]],
    *,
    content_type: str | None = None,
    body: bytes = b"",
) -> SparqlRequest:
    """Read a protocol operation from an HTTP request's method, URL parameters and body.

    Raises UserError (400) for a malformed request and UnsupportedMediaTypeError (415) for a
    POST body of another content type.
    """
    params = _multi(query_params)
    if method == "POST":
        _read_post_body(params, content_type, body)
    query, update = _one(params, "query"), _one(params, "update")
    if query is not None and update is not None:
        raise UserError("send either `query` or `update`, not both")
    if update is not None:
        if method != "POST":
            raise UserError("SPARQL updates must be sent with POST")
        if "using-graph-uri" in params or "using-named-graph-uri" in params:
            raise UserError(
                "`using-graph-uri` and `using-named-graph-uri` are not supported; "
                "write USING or WITH in the update"
            )
        return SparqlRequest("update", update)
    if query is None:
        if method == "POST":
            raise UserError("a POST needs a `query` or `update` parameter or a SPARQL body")
        return SparqlRequest("description")
    return SparqlRequest(
        "query",
        query,
        default_graphs=_graphs(params, "default-graph-uri"),
        named_graphs=_graphs(params, "named-graph-uri"),
    )


def _read_post_body(params: dict[str, list[str]], content_type: str | None, body: bytes) -> None:
    """Add a POST body's operation or form fields to `params` (the URL's parameters)."""
    media_type, _, rest = (content_type or "").partition(";")
    media_type = media_type.strip().lower()
    charset = None
    for param in rest.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"')
    if media_type == FORM:
        text = _decode(body, charset)
        for key, values in _multi(parse_qsl(text, keep_blank_values=True)).items():
            params.setdefault(key, []).extend(values)
    elif media_type in (SPARQL_QUERY, SPARQL_UPDATE):
        if "query" in params or "update" in params:
            raise UserError(
                f"with {media_type} the body is the operation; do not also pass "
                "`query` or `update` parameters"
            )
        key = "query" if media_type == SPARQL_QUERY else "update"
        params[key] = [_decode(body, charset)]
    else:
        raise UnsupportedMediaTypeError(
            f"unsupported content type {media_type or '(none)'!r}; send {FORM}, "
            f"{SPARQL_QUERY} or {SPARQL_UPDATE}"
        )
