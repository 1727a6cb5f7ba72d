"""Fixtures shared by every test package: the sample corpus ingested once, with the real model."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI

if TYPE_CHECKING:
    from kg.store import Store

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample"


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data directory with the whole sample corpus ingested and indexed (real embedder).

    Built once per test session; open it read-only (`KnowledgeBase(..., read_only=True)`) or
    copy it, never write to it.
    """
    from api.knowledgebase import KnowledgeBase

    data_dir = tmp_path_factory.mktemp("sample") / "data"
    kb = KnowledgeBase(data_dir=data_dir, threads=os.cpu_count() or 1)
    try:
        kb.ingest([SAMPLE])
    finally:
        kb.close()
    yield data_dir


@pytest.fixture(scope="module")
def sample_store(sample_data_dir: Path) -> Iterator[Store]:
    """The sample corpus's store, opened read-only (for tests that only read the graph)."""
    from kg.store import Store

    store = Store(sample_data_dir, read_only=True)
    try:
        yield store
    finally:
        store.close()


def store_generation(data_dir: Path) -> int:
    """The store's write counter, read through a read-only open (which writes nothing)."""
    from kg.store import Store

    store = Store(data_dir, read_only=True)
    try:
        return store.generation
    finally:
        store.close()


def write_behind_the_index(data_dir: Path) -> None:
    """A write that bypasses the knowledge base, so its search index no longer reflects it."""
    from kg.store import Store

    store = Store(data_dir)
    try:
        store.update("CREATE SILENT GRAPH <https://example.org/written-behind-the-index>")
    finally:
        store.close()


class Listener:
    """A TCP server on 127.0.0.1 that records every connection it accepts (and answers none)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.connections: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, path: str = "context.jsonld") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, address = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(address)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(app: FastAPI, port: int | None = None, *, startup_seconds: float = 60.0
            ) -> Iterator[str]:
    """Run `app` with uvicorn on `port` (else a free loopback port) in a thread; yields its
    base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_seconds
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
