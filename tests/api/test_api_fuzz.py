"""Schemathesis over the OpenAPI description, against a real server on loopback.

Every operation of `/openapi.json` (the JSON API, the SPARQL endpoint, linked data) gets
generated requests, valid and invalid, from schemathesis's three phases: the schema's
examples, the coverage phase (boundary values, missing and wrong-typed parameters, unexpected
methods) and random fuzzing. Two properties must hold for every answer: no 5xx, and every 4xx
has the one JSON error shape. The run is deterministic and bounded: a fixed seed, derandomized
generation, a fixed number of examples per operation, no example database and no deadlines,
so it passes or fails the same way on any machine.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from api.app import create_app
from kg.settings import Settings
from tests.api.conftest import LiveServer

# SPARQL query and update bodies are plain text (the endpoint's form bodies are built in).
schemathesis.serializer.alias(["application/sparql-query", "application/sparql-update"],
                              "text/plain")
MAX_EXAMPLES = 100  # per operation and generation mode in the fuzzing phase
SEED = 20_260_801
CASES: Counter[str] = Counter()


def _schema() -> Any:
    # The schema is the app's own, built at collection time (building the app starts nothing);
    # the requests go to the live server (`case.call(base_url=…)`), whose /openapi.json is the
    # same (checked below). schemathesis's fixture-based loader does not run on pytest 9.
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True,
                       "database": "none", "no-shrink": True},
        "phases": {"stateful": {"enabled": False}},
    })
    app = create_app(Settings(data_dir=Path("/nonexistent/wijken-fuzz")))
    return schemathesis.openapi.from_dict(app.openapi(), config=config)


schema = _schema()


def test_the_fuzzed_schema_is_the_servers(client: httpx.Client) -> None:
    assert client.get("/openapi.json").json() == schema.raw_schema


def check(case: Any, response: Any) -> None:
    """No 5xx; a 4xx in the one JSON error shape."""
    status = response.status_code
    body_start = response.content[:300].decode("utf-8", errors="replace")  # XLSX is binary
    where = f"{case.method} {case.formatted_path} -> {status}: {body_start}"
    assert status < 500, where
    if status >= 400:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith("application/json"), where
        body = response.json()
        assert set(body) == {"error"}, where
        error = body["error"]
        assert set(error) == {"status", "code", "message", "detail"}, where
        assert error["status"] == status, where
        assert isinstance(error["code"], str) and error["code"], where
        assert isinstance(error["message"], str) and error["message"], where


@schema.parametrize()
def test_no_server_error_and_one_error_shape(case: Any, live: LiveServer) -> None:
    # The fixture store has no search index: search answers 409 to every valid question.
    CASES[f"{case.method} {case.path}"] += 1
    check(case, case.call(base_url=live.url, timeout=30))


@pytest.mark.slow
@schema.include(path_regex="^/api/search").parametrize()
def test_search_with_an_index_has_no_server_error(case: Any, indexed: LiveServer) -> None:
    # The same over a search index built with the real embedder, so valid questions are
    # embedded and ranked (the search engine sees the generated text and filters).
    check(case, case.call(base_url=indexed.url, timeout=60))


def test_zz_every_operation_was_fuzzed() -> None:
    # Runs after the fuzz test (pytest keeps the file's order): it must have generated cases
    # for every operation, so a change of schemathesis cannot make it pass by doing nothing.
    if not CASES:
        pytest.skip("the fuzz test did not run in this session")
    operations = {f"{method.upper()} {path}" for path, ops in schema.raw_schema["paths"].items()
                  for method in ops}
    assert operations <= {op for op, n in CASES.items() if n > 0}
    assert sum(CASES.values()) >= 1_000
    print(f"schemathesis: {sum(CASES.values())} cases over {len(operations)} operations")
