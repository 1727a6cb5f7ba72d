"""Fixtures of the ingest tests: a data directory with the reference data, copied per test, and
a listening socket that hostile input must never reach."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.knowledgebase import KnowledgeBase
from tests.conftest import Listener


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


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A local listening socket that an ingest must never connect to."""
    server = Listener()
    yield server
    server.close()
