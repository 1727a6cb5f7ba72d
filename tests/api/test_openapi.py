"""Conventions that check themselves: every route is documented in the OpenAPI schema, every
JSON API route declares its response model, and every error has the one JSON shape."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app
from kg.settings import Settings
from tests.api.conftest import assert_error


@pytest.fixture(scope="module")
def schema(client: httpx.Client) -> dict:  # type: ignore[type-arg]
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def api_routes(tmp_path: Path) -> list[tuple[str, set[str], APIRoute]]:
    """(path, methods, route) of every API route of the app, through included routers."""
    # Building the app starts nothing (the lifespan runs only when served).
    app = create_app(Settings(data_dir=tmp_path))
    return [(str(c.path_format), set(c.methods or ()), c.original_route)
            for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def test_every_route_is_documented(schema: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    routes = api_routes(tmp_path)
    assert {"/api/search", "/api/search/batch", "/api/items/{id}", "/api/items/{id}/related",
            "/api/thresholds/{id}/breakthroughs", "/api/graph", "/api/health",
            "/api/stats", "/api/signals", "/sparql"} <= {path for path, _, _ in routes}
    for path, methods, route in routes:
        documented = schema["paths"].get(path, {})
        for method in methods:
            operation = documented.get(method.lower())
            if operation is None:
                # Only HEAD twins of GET routes and HTML pages may stay out of the schema.
                response_class = getattr(route.response_class, "value", route.response_class)
                assert method == "HEAD" or issubclass(response_class, HTMLResponse), path
                assert not path.startswith(("/api/", "/sparql")) or method == "HEAD", path
                continue
            assert route.summary and route.description, (method, path)
            assert operation.get("summary"), (method, path)
            assert len(operation.get("description", "")) > 20, (method, path)


def test_json_routes_declare_models_and_errors(schema: dict) -> None:  # type: ignore[type-arg]
    api_paths = {p: ops for p, ops in schema["paths"].items() if p.startswith("/api/")}
    assert len(api_paths) == 16
    for path, operations in api_paths.items():
        for method, operation in operations.items():
            success = next(s for s in ("200", "201") if s in operation["responses"])
            ok = operation["responses"][success]["content"]["application/json"]["schema"]
            assert "$ref" in ok or ok.get("type") == "array", (method, path)
            errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
            assert errors, (method, path)
            for response in errors.values():
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorResponse"), (method, path)
    error = schema["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"status", "code", "message", "detail"}
    assert schema["paths"]["/api/graph"]["get"]["parameters"][1]["schema"]["maximum"] == 3


def test_every_error_has_the_one_shape(client: httpx.Client) -> None:
    assert_error(client.get("/api/bestaat-niet"), 404, "not-found")
    assert_error(client.get("/api/items/bestaat-niet"), 404, "not-found")
    assert_error(client.get("/api/items/renovatiebegeleiding/related",
                            params={"type": "gemeente"}), 400, "bad-request")
    assert_error(client.get("/api/graph", params={"id": "renovatiebegeleiding", "depth": 9}),
                 422, "invalid-request")
    assert_error(client.get("/api/search"), 422, "invalid-request")
    assert_error(client.delete("/api/search"), 405, "method-not-allowed")
    assert_error(client.put("/api/items/renovatiebegeleiding"), 405, "method-not-allowed")
    assert_error(client.get("/api/search/batch"), 405, "method-not-allowed")
    assert_error(client.post("/api/search/batch", content=b"[]",
                             headers={"content-type": "application/json"}), 422)
    # The fixture store has no search index: a domain error with its own status.
    assert_error(client.get("/api/search", params={"q": "renovatie"}), 409, "index-mismatch")


def test_the_fixture_items_answer(client: httpx.Client) -> None:
    item = client.get("/api/items/renovatiebegeleiding")
    assert item.status_code == 200, item.text
    assert item.json()["id"] == "renovatiebegeleiding"
    stats = client.get("/api/stats")
    assert stats.status_code == 200 and stats.json()["types"]["Threshold"] >= 2
