"""Real servers on loopback for the API tests: uvicorn in a thread, a real on-disk store.

The store is a real `KnowledgeBase` data directory (ontology, schemes and municipalities loaded)
plus one named graph of hand-written records, so the tests do not depend on the ingest pipeline.
"""

from __future__ import annotations

import os

for _var, _value in {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}.items():
    os.environ.setdefault(_var, _value)

from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402
from rdflib import Graph  # noqa: E402

from api.app import create_app  # noqa: E402
from api.knowledgebase import KnowledgeBase  # noqa: E402
from kg.settings import Settings  # noqa: E402
from tests.conftest import free_port, running  # noqa: E402 (shared with tests/web)

BASE = "https://w3id.org/100wijken/id/"
FIXTURE_GRAPH = BASE + "graph/fixture-wijken"
RECORDS_TTL = Path(__file__).with_name("records.ttl")
FAST_TIMEOUT = 2.0
ROW_CAP = 200
UPDATE_TOKEN = "geheim-token-123"


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:  # type: ignore[type-arg]
    """The one JSON error shape, with the HTTP status repeated in the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "detail"}
    assert error["status"] == status
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error  # type: ignore[no-any-return]


def fill(data_dir: Path) -> KnowledgeBase:
    """A knowledge base in `data_dir` with the reference data and the fixture records."""
    kb = KnowledgeBase(data_dir=data_dir)
    kb.store.replace_graphs({FIXTURE_GRAPH: Graph().parse(RECORDS_TTL, format="turtle")})
    return kb


@dataclass
class LiveServer:
    """A running app: its base URL, settings and knowledge base."""

    url: str
    settings: Settings
    kb: KnowledgeBase

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[..., LiveServer]]:
    """A factory that starts a server for a data directory and settings; all stop at the end."""
    with ExitStack() as stack:

        def start(data_dir: Path, *, index: bool = False, **overrides: object) -> LiveServer:
            # The server's public URL is its real address: absolute URLs point back at it.
            port = free_port()
            overrides.setdefault("public_url", f"http://127.0.0.1:{port}")
            settings = Settings(data_dir=data_dir, **overrides)
            kb = fill(data_dir)
            stack.callback(kb.close)  # after the server stopped (callbacks run in reverse)
            if index:
                kb.search_engine.sync()  # the real embedder: tests using this are marked slow
            url = stack.enter_context(running(create_app(settings, kb=kb), port))
            return LiveServer(url, settings, kb)

        yield start


@pytest.fixture(scope="session")
def live(serve: Callable[..., LiveServer], tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    """The read-only server: a short time limit and a small row cap, updates disabled."""
    return serve(
        tmp_path_factory.mktemp("live"), sparql_timeout=FAST_TIMEOUT, sparql_max_rows=ROW_CAP
    )


@pytest.fixture(scope="session")
def writable(
    serve: Callable[..., LiveServer], tmp_path_factory: pytest.TempPathFactory
) -> LiveServer:
    """A server with SPARQL updates enabled by a token, on its own data directory."""
    return serve(tmp_path_factory.mktemp("writable"), update_token=UPDATE_TOKEN)


@pytest.fixture(scope="session")
def indexed(
    serve: Callable[..., LiveServer], tmp_path_factory: pytest.TempPathFactory
) -> LiveServer:
    """A read-only server whose store has a search index built with the real Dutch embedder."""
    return serve(tmp_path_factory.mktemp("indexed"), index=True)


@pytest.fixture(scope="session")
def client(live: LiveServer) -> Iterator[httpx.Client]:
    """An httpx client for the read-only server."""
    with httpx.Client(base_url=live.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
def sample_live(sample_data_dir: Path) -> Iterator[LiveServer]:
    """A server over the whole sample corpus, ingested and indexed with the real embedder,
    opened read-only (the data directory is shared by the whole session)."""
    kb = KnowledgeBase(data_dir=sample_data_dir, read_only=True)
    try:
        with running(create_app(kb=kb)) as url:
            yield LiveServer(url, kb.settings, kb)
    finally:
        kb.close()


@pytest.fixture(scope="session")
def sample_client(sample_live: LiveServer) -> Iterator[httpx.Client]:
    """An httpx client for the sample-corpus server."""
    with httpx.Client(base_url=sample_live.url, timeout=60) as http:
        yield http
