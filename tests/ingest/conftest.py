"""Fixtures of the ingest tests: a data directory with the reference data, copied per test, and
a listening socket that hostile input must never reach."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.knowledgebase import KnowledgeBase


@pytest.fixture(scope="session")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with only the reference data, built once and copied per test."""
    data_dir = tmp_path_factory.mktemp("init") / "data"
    KnowledgeBase(data_dir=data_dir).close()
    return data_dir


@pytest.fixture
def kb(initialised: Path, tmp_path: Path) -> Iterator[KnowledgeBase]:
    """A writable knowledge base of its own for each test."""
    shutil.copytree(initialised, tmp_path / "data")
    base = KnowledgeBase(data_dir=tmp_path / "data")
    yield base
    base.close()


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


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A local listening socket that an ingest must never connect to."""
    server = Listener()
    yield server
    server.close()
