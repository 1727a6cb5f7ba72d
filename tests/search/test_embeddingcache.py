"""The embedding cache: only changed chunks are embedded again; pruning; persistence."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from search.embeddingcache import EmbeddingCache


class CountingEmbedder:
    """Deterministic fake embedder that records what it was asked to embed."""

    model_id = "test:counting@1"
    dim = 8
    max_tokens = 512

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        rows = [np.random.default_rng(sum(map(ord, t))).standard_normal(self.dim) for t in texts]
        out = np.array(rows, dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    embed_queries = embed_documents

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_only_new_texts_are_embedded(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    cache = EmbeddingCache(embedder.model_id, embedder.dim)
    first = cache.embed_documents(embedder, ["bouwblok", "schoolplein", "bouwblok"])
    assert embedder.seen == ["bouwblok", "schoolplein"]
    np.testing.assert_array_equal(first[0], first[2])
    cache.save(tmp_path)

    again = EmbeddingCache.load(tmp_path, model_id=embedder.model_id, dim=embedder.dim)
    embedder.seen.clear()
    second = again.embed_documents(embedder, ["schoolplein", "warmtenet", "bouwblok"])
    assert embedder.seen == ["warmtenet"]
    np.testing.assert_array_equal(second[0], first[1])
    np.testing.assert_array_equal(second[2], first[0])


def test_prune_drops_unused_entries(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    cache = EmbeddingCache(embedder.model_id, embedder.dim)
    cache.embed_documents(embedder, ["a", "b", "c"])
    assert cache.prune(["b", "x"]) == 2
    assert len(cache) == 1 and cache.get("b") is not None and cache.get("a") is None


def test_other_model_starts_empty_and_is_refused(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    cache = EmbeddingCache(embedder.model_id, embedder.dim)
    cache.embed_documents(embedder, ["a"])
    cache.save(tmp_path)
    assert len(EmbeddingCache.load(tmp_path, model_id="test:other", dim=8)) == 0
    assert len(EmbeddingCache.load(tmp_path / "none", model_id=embedder.model_id, dim=8)) == 0
    with pytest.raises(ValueError, match="cache is for"):
        EmbeddingCache("test:other", 8).embed_documents(embedder, ["a"])
    with pytest.raises(ValueError):
        cache.put("b", np.ones(3, dtype=np.float32))


def test_digests_with_trailing_zero_bytes_survive(tmp_path: Path) -> None:
    cache = EmbeddingCache("m", 2)
    texts = [f"t{i}" for i in range(2000)]  # some digests end in 0x00
    assert any(cache._key(t).endswith(b"\0") for t in texts)
    for t in texts:
        cache.put(t, np.array([1.0, 0.0]))
    cache.save(tmp_path)
    loaded = EmbeddingCache.load(tmp_path, model_id="m", dim=2)
    assert all(loaded.get(t) is not None for t in texts)
