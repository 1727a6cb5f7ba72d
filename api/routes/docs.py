"""The API documentation page `/docs`: Swagger UI over `/openapi.json`.

FastAPI's own page loads Swagger UI from a CDN (broken offline, and a third party in every
visit) and starts it with an inline script (refused by the CSP). This page loads the vendored
`swagger-ui-dist` files from `/static/vendor/` and starts it from `/static/api-docs.js`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.web.templating import render

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse, name="api_docs")
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI of the JSON API, the SPARQL endpoint and the linked-data routes."""
    return render(request, "docs.html", {"openapi_url": request.app.openapi_url})
