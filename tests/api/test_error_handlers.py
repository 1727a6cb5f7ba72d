"""The one JSON error shape also for validation errors and unexpected exceptions."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.error_handlers import install_error_handlers
from kg.errors import IngestError, Problem


def app_with_failures() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    @app.get("/number")
    def number(n: int) -> int:
        return n

    @app.get("/ingest")
    def ingest() -> None:
        raise IngestError([Problem(file="a.csv", line=3, field="id", message="ontbreekt")])

    return app


def test_unexpected_errors_are_500_without_echo(tmp_path: Path) -> None:
    # No real server here: the failing routes exist only in this test app.
    with TestClient(app_with_failures(), raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error == {
        "status": 500,
        "code": "internal-error",
        "message": "internal error; see the server log",
        "detail": None,
    }
    assert "secret" not in response.text


def test_validation_errors_and_detail() -> None:
    with TestClient(app_with_failures()) as client:
        invalid = client.get("/number", params={"n": "veel"})
        ingest = client.get("/ingest")
    assert invalid.status_code == 422
    error = invalid.json()["error"]
    assert error["code"] == "invalid-request"
    assert error["detail"][0]["loc"] == ["query", "n"]
    assert ingest.status_code == 422
    assert ingest.json()["error"]["detail"] == ["a.csv:3: id: ontbreekt"]
