"""The SPARQL 1.1 endpoint at `/sparql`: queries, token-protected updates, service description.

Queries run in the worker pool (time limit, row cap; see `kg.sparql.pool`); updates run in
this process through the one writer. The handlers are `async` only to read the body; everything
that blocks runs in the thread pool.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse

from api.deps import KnowledgeBaseDep, SettingsDep, SparqlPoolDep
from api.sparql.client_limits import ClientSlots
from api.sparql.protocol import (
    FORM,
    RDF_FORMATS,
    RDFLIB_SERIALIZERS,
    RESULTS_FORMATS,
    SPARQL_QUERY,
    SPARQL_UPDATE,
    SparqlRequest,
    parse_request,
    rdf_format,
    results_format,
)
from api.sparql.service_description import service_description
from kg.errors import (
    NotAcceptableError,
    UnauthorizedError,
    UpdatesDisabledError,
)
from kg.settings import Settings
from kg.sparql.guard import check_query, check_update
from kg.sparql.messages import FunctionSpec, QueryRequest
from kg.sparql.pool import SparqlWorkerPool

router = APIRouter(tags=["sparql"])
TRUNCATED_HEADER = "X-Wijken-Truncated"

_POST_BODIES: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string"},
                        "update": {"type": "string"},
                        "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                        "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                    },
                }
            },
            SPARQL_QUERY: {"schema": {"type": "string"}},
            SPARQL_UPDATE: {"schema": {"type": "string"}},
        },
    }
}


@router.get("/sparql", name="sparql", summary="SPARQL query, or the service description")
async def sparql_get(
    request: Request,
    kb: KnowledgeBaseDep,
    settings: SettingsDep,
    pool: SparqlPoolDep,
    query: Annotated[str | None, Query(description="A SPARQL 1.1 query.")] = None,
    default_graph_uri: Annotated[
        list[str] | None, Query(alias="default-graph-uri", description="Default graph IRIs.")
    ] = None,
    named_graph_uri: Annotated[
        list[str] | None, Query(alias="named-graph-uri", description="Named graph IRIs.")
    ] = None,
) -> Response:
    """Run `query` (results by `Accept`); without parameters, the SPARQL service description."""
    # The parameters above document the API; parse_request reads them itself, because the
    # protocol's rules (repeatable graph IRIs, exactly one query) are the same for GET and POST.
    accept = request.headers.get("accept", "")
    if not request.query_params and accept.startswith("text/html"):
        return RedirectResponse("/editor", status_code=303)  # a person: the query editor
    operation = parse_request("GET", request.query_params.multi_items())
    return await _dispatch(request, operation, kb, settings, pool)


@router.post(
    "/sparql",
    summary="SPARQL query or update (form, sparql-query or sparql-update body)",
    openapi_extra=_POST_BODIES,
)
async def sparql_post(
    request: Request, kb: KnowledgeBaseDep, settings: SettingsDep, pool: SparqlPoolDep
) -> Response:
    """A query or, with `Authorization: Bearer <token>`, an update."""
    operation = parse_request(
        "POST",
        request.query_params.multi_items(),
        content_type=request.headers.get("content-type"),
        body=await request.body(),
    )
    return await _dispatch(request, operation, kb, settings, pool)


async def _dispatch(
    request: Request,
    operation: SparqlRequest,
    kb: KnowledgeBaseDep,
    settings: Settings,
    pool: SparqlWorkerPool,
) -> Response:
    accept = request.headers.get("accept")
    if operation.operation == "description":
        endpoint = str(request.url_for("sparql"))
        return await run_in_threadpool(describe_service, kb, settings, endpoint, accept,
                                       pool.config.functions)
    if operation.operation == "update":
        authorization = request.headers.get("authorization")
        return await run_in_threadpool(run_update, kb, settings, operation.text, authorization)
    client = request.client.host if request.client else "unknown"
    slots: ClientSlots = request.app.state.sparql_slots
    with slots.hold(client):
        return await run_in_threadpool(run_query, pool, operation, accept,
                                       settings.sparql_max_nesting)


def run_query(pool: SparqlWorkerPool, operation: SparqlRequest, accept: str | None,
              max_nesting: int) -> Response:
    """Check, negotiate and run a query in the pool; the response carries the truncation flag."""
    shape = check_query(operation.text, max_depth=max_nesting)
    results, rdf = results_format(accept), rdf_format(accept)
    wanted = {"SELECT": results, "ASK": results, "CONSTRUCT": rdf, "DESCRIBE": rdf}
    if (results is None and rdf is None) or (shape.form and wanted[shape.form] is None):
        kind = "SPARQL results" if shape.form in ("SELECT", "ASK") else "RDF"
        raise NotAcceptableError(
            f"cannot answer with {accept!r}; this query returns {kind}, available as "
            + ", ".join(_offers(shape.form))
        )
    result = pool.run(
        QueryRequest(
            operation.text,
            default_graphs=operation.default_graphs,
            named_graphs=operation.named_graphs,
            results_format=results,
            rdf_format=rdf,
        )
    )
    headers = {
        TRUNCATED_HEADER: "true" if result.truncated else "false",
        "Server-Timing": f"sparql;dur={result.seconds * 1000:.1f}",
    }
    return Response(result.body, media_type=result.media_type, headers=headers)


def _offers(form: str | None) -> list[str]:
    formats = RDF_FORMATS if form in ("CONSTRUCT", "DESCRIBE") else RESULTS_FORMATS
    return [f.media_type for f in formats]


def run_update(
    kb: KnowledgeBaseDep, settings: Settings, text: str, authorization: str | None
) -> Response:
    """Authorise and run a SPARQL update through the writer, then re-sync derived indexes."""
    if settings.update_token is None:
        raise UpdatesDisabledError(
            "SPARQL updates are disabled on this server (no update token is configured)"
        )
    scheme, _, given = (authorization or "").partition(" ")
    expected = settings.update_token.get_secret_value().encode()
    given = given.strip()
    if (scheme.lower() != "bearer" or not given or not expected
            or not secrets.compare_digest(given.encode(), expected)):
        raise UnauthorizedError("a SPARQL update needs the header `Authorization: Bearer <token>`")
    check_update(text, max_depth=settings.sparql_max_nesting)
    kb.sparql_update(text)  # the one writer; syntax errors come back as QuerySyntaxError
    return JSONResponse({"updated": True, "generation": kb.store.generation})


def describe_service(
    kb: KnowledgeBaseDep, settings: Settings, endpoint: str, accept: str | None,
    functions: Sequence[FunctionSpec],
) -> Response:
    """The service description in the negotiated RDF format (Turtle by default)."""
    media_type = rdf_format(accept)
    if media_type is None:
        raise NotAcceptableError(
            f"cannot answer with {accept!r}; the service description is available as "
            + ", ".join(RDFLIB_SERIALIZERS)
        )
    graph = service_description(
        endpoint,
        named_graphs=kb.store.named_graphs(),
        updates=settings.update_token is not None,
        max_rows=settings.sparql_max_rows,
        timeout=settings.sparql_timeout,
        functions=functions,
    )
    body = graph.serialize(format=RDFLIB_SERIALIZERS[media_type], encoding="utf-8")
    return Response(body, media_type=media_type)
