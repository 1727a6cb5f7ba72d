"""The FAISS vector index: upsert/remove/search, filtered search, persistence and refusal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from search.embeddingcache import EmbeddingCache
from search.vectorindex import (
    IndexMismatchError,
    IndexMissingError,
    VectorIndex,
    VectorIndexError,
)

DIM = 16
MODEL = "test:random@1"


def unit(rng: np.random.Generator, n: int = 1) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def filled(n_items: int, chunks: int = 1, *, seed: int = 0, **kwargs: int) -> VectorIndex:
    rng = np.random.default_rng(seed)
    index = VectorIndex.create(DIM, MODEL, **kwargs)
    for i in range(n_items):
        index.upsert(f"item-{i}", unit(rng, chunks))
    return index


def exact(index: VectorIndex, q: np.ndarray, keys: list[str], k: int) -> list[str]:
    best = {key: float(np.max(index.vectors_for(key) @ q)) for key in keys}
    return sorted(best, key=lambda key: -best[key])[:k]


def test_upsert_search_and_best_chunk_score() -> None:
    index = filled(50, chunks=3)
    target = index.vectors_for("item-7")
    assert target.shape == (3, DIM)
    hits = index.search(target[2], k=5)
    assert hits[0][0] == "item-7" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert len(hits) == 5 and len({key for key, _ in hits}) == 5
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert [key for key, _ in hits] == exact(index, target[2], index.keys(), 5)
    assert (index.item_count, index.chunk_count, index.kind) == (50, 150, "flat")


def test_upsert_replaces_and_remove_drops() -> None:
    rng = np.random.default_rng(1)
    index = filled(10)
    new = unit(rng, 4)
    index.upsert("item-3", new)
    np.testing.assert_allclose(index.vectors_for("item-3"), new)
    assert index.chunk_count == 13
    assert index.remove("item-3") and not index.remove("item-3")
    assert "item-3" not in index
    assert "item-3" not in index.keys()  # noqa: SIM118 - keys() is API under test
    assert all(key != "item-3" for key, _ in index.search(new[0], k=10))
    assert len(index.search(new[0], k=50)) == 9
    with pytest.raises(KeyError):
        index.vectors_for("item-3")
    with pytest.raises(ValueError):
        index.upsert("bad", np.ones((2, DIM + 1), dtype=np.float32))


def test_k_distinct_items_even_when_chunks_cluster() -> None:
    rng = np.random.default_rng(2)
    index = VectorIndex.create(DIM, MODEL)
    base = unit(rng)[0]
    for i in range(3):  # three items whose 30 chunks all sit right next to the query
        index.upsert(f"close-{i}", unit(rng, 30) * 0.05 + base)
    for i in range(20):
        index.upsert(f"far-{i}", unit(rng, 2))
    hits = index.search(base, k=8)
    assert len(hits) == 8
    assert {key for key, _ in hits[:3]} == {"close-0", "close-1", "close-2"}


def test_filtered_flat_search_returns_k_allowed() -> None:
    index = filled(300, chunks=2)
    q = index.vectors_for("item-0")[0]
    allowed = [f"item-{i}" for i in range(200, 260)] + ["not-indexed"]
    hits = index.search(q, k=10, allowed=allowed)
    assert len(hits) == 10
    assert [key for key, _ in hits] == exact(index, q, allowed[:-1], 10)
    assert len(index.search(q, k=10, allowed={"item-5", "item-9", "nope"})) == 2
    assert index.search(q, k=10, allowed=[]) == []


@pytest.mark.parametrize("allowed_count", [8, 150])  # few: exact path; many: filtered HNSW
def test_filtered_hnsw_search_returns_k_allowed(allowed_count: int) -> None:
    index = filled(400, chunks=2, hnsw_threshold=100, ef_search=64)
    index.rebuild()
    assert index.kind == "hnsw"
    q = index.vectors_for("item-1")[0]
    allowed = {f"item-{i}" for i in range(100, 100 + allowed_count)}
    hits = index.search(q, k=20, allowed=allowed)
    assert len(hits) == min(20, allowed_count)
    assert {key for key, _ in hits} <= allowed
    truth = exact(index, q, sorted(allowed), len(hits))
    assert len({key for key, _ in hits} & set(truth)) >= 0.8 * len(truth)


def test_hnsw_removed_items_stay_hidden_across_save(tmp_path: Path) -> None:
    index = filled(200, hnsw_threshold=50)
    index.save(tmp_path / "idx", fingerprint="g1")
    assert index.kind == "hnsw"
    q = index.vectors_for("item-4")[0]
    index.remove("item-4")
    assert "item-4" not in dict(index.search(q, k=30))
    index.save(tmp_path / "idx", fingerprint="g2")  # 1 of 200 removed: kept hidden, no rebuild
    ids = json.loads((tmp_path / "idx" / "ids.json").read_text())
    assert len(ids["deleted"]) == 1 and len(ids["ids"]) == 199
    loaded = VectorIndex.load(tmp_path / "idx", expected_model_id=MODEL, expected_dim=DIM)
    assert "item-4" not in dict(loaded.search(q, k=30))
    assert len(loaded.search(q, k=30)) == 30


def test_kind_follows_threshold_on_save(tmp_path: Path) -> None:
    index = filled(60, hnsw_threshold=50)
    assert index.kind == "flat"  # no switch before a rebuild
    index.save(tmp_path / "idx", fingerprint="f")
    config = json.loads((tmp_path / "idx" / "config.json").read_text())
    assert index.kind == config["index"]["kind"] == "hnsw"
    assert config["index"]["params"]["M"] == 32
    for i in range(30):
        index.remove(f"item-{i}")
    index.save(tmp_path / "idx", fingerprint="f")
    assert index.kind == "flat" and index.chunk_count == 30


@pytest.mark.parametrize("threshold", [20_000, 50])
def test_save_load_round_trip(tmp_path: Path, threshold: int) -> None:
    index = filled(120, chunks=2, hnsw_threshold=threshold)
    index.save(tmp_path / "idx", fingerprint="sha256:abc")
    loaded = VectorIndex.load(tmp_path / "idx", expected_model_id=MODEL, expected_dim=DIM)
    assert loaded.fingerprint == "sha256:abc"
    assert loaded.keys() == index.keys() and loaded.kind == index.kind
    np.testing.assert_array_equal(loaded.vectors_for("item-9"), index.vectors_for("item-9"))
    rng = np.random.default_rng(5)
    for q in unit(rng, 5):
        assert loaded.search(q, k=7) == index.search(q, k=7)
        allowed = index.keys()[::3]
        assert loaded.search(q, k=7, allowed=allowed) == index.search(q, k=7, allowed=allowed)
    loaded.upsert("item-new", unit(rng))  # ids keep growing after a load
    assert loaded.chunk_count == 241 and "item-new" in loaded

    config = json.loads((tmp_path / "idx" / "config.json").read_text())
    assert config["model_id"] == MODEL and config["dim"] == DIM and config["metric"] == "ip"
    assert (config["item_count"], config["chunk_count"]) == (120, 240)
    assert config["format_version"] == 1 and config["fingerprint"] == "sha256:abc"
    assert {"wijken", "faiss"} <= set(config["versions"]) and config["created"]
    ids = json.loads((tmp_path / "idx" / "ids.json").read_text())
    assert ids["ids"]["0"] == ["item-0", 0] and ids["ids"]["1"] == ["item-0", 1]


def test_save_replaces_atomically_and_keeps_cache(tmp_path: Path) -> None:
    target = tmp_path / "idx"
    cache = EmbeddingCache(MODEL, DIM)
    cache.put("tekst", unit(np.random.default_rng(3))[0])
    filled(5).save(target, fingerprint="one")
    cache.save(target)
    filled(7, seed=1).save(target, fingerprint="two")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]  # no temp dirs left
    assert sorted(p.name for p in target.iterdir()) == [
        "cache.npz",
        "config.json",
        "ids.json",
        "index.faiss",
    ]
    loaded = VectorIndex.load(target, expected_model_id=MODEL, expected_dim=DIM)
    assert (loaded.fingerprint, loaded.item_count) == ("two", 7)
    assert len(EmbeddingCache.load(target, model_id=MODEL, dim=DIM)) == 1


def test_load_refuses_other_model_or_dim(tmp_path: Path) -> None:
    filled(3).save(tmp_path / "idx", fingerprint="f")
    with pytest.raises(IndexMismatchError) as err:
        VectorIndex.load(tmp_path / "idx", expected_model_id="st:other@2", expected_dim=DIM)
    message = str(err.value)
    assert MODEL in message and "st:other@2" in message and "run `wijken reindex`" in message
    with pytest.raises(IndexMismatchError, match=r"dim 16.*dim 384"):
        VectorIndex.load(tmp_path / "idx", expected_model_id=MODEL, expected_dim=384)


def test_load_missing_or_inconsistent(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="wijken reindex"):
        VectorIndex.load(tmp_path / "none", expected_model_id=MODEL, expected_dim=DIM)
    filled(3).save(tmp_path / "idx", fingerprint="f")
    ids_file = tmp_path / "idx" / "ids.json"
    ids = json.loads(ids_file.read_text())
    del ids["ids"]["0"]
    ids_file.write_text(json.dumps(ids))
    with pytest.raises(VectorIndexError, match="inconsistent"):
        VectorIndex.load(tmp_path / "idx", expected_model_id=MODEL, expected_dim=DIM)
