"""FAISS vector index of item chunks, persisted as a self-describing directory.

Vectors are L2-normalised, so inner product is cosine similarity. Each item (a string key, e.g.
a record IRI) has one vector per chunk; an item's score is its best chunk's score. Up to
``hnsw_threshold`` vectors the index is exact (``IndexFlatIP``), above it approximate
(``IndexHNSWFlat``, M=32); the kind is chosen when the index is (re)built, i.e. on save. Both are
wrapped in ``IndexIDMap2`` with ids kept in an explicit map — never implicit row order.

On disk: ``config.json`` (format, model id, dim, metric, kind, counts, the caller's graph
fingerprint, versions, times), ``index.faiss`` and ``ids.json``; ``cache.npz`` (see
:class:`search.embeddingcache.EmbeddingCache`) is carried over when the directory is replaced.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from search.embedders import interchangeable
from search.embeddingcache import CACHE_FILE

__all__ = ["IndexMismatchError", "IndexMissingError", "IndexStaleError", "VectorIndex"]
__all__ += ["DEFAULT_EF_SEARCH", "DEFAULT_HNSW_THRESHOLD", "FORMAT_VERSION", "VectorIndexError"]

FORMAT_VERSION = 1
DEFAULT_HNSW_THRESHOLD = 20_000
DEFAULT_EF_SEARCH = 256
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
CONFIG_FILE, INDEX_FILE, IDS_FILE = "config.json", "index.faiss", "ids.json"
# Removed HNSW vectors stay in the graph, hidden by a selector, until this share is reached.
MAX_DELETED_SHARE = 0.1
REINDEX_HINT = "run `wijken reindex`"


class VectorIndexError(RuntimeError):
    """A vector index that cannot be used as it is; rebuilding it is the fix."""


class IndexMissingError(VectorIndexError):
    """No index directory (or no ``config.json``) where one was expected."""


class IndexMismatchError(VectorIndexError):
    """The stored index was built with another model, dimension or format."""


class IndexStaleError(VectorIndexError):
    """The stored index does not match the current graph (raised by the caller on fingerprint)."""


def _faiss() -> Any:
    import faiss

    return faiss


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _wijken_version() -> str:
    try:
        return version("wijken")
    except PackageNotFoundError:
        return "0+unknown"


class VectorIndex:
    """Chunk vectors of items with best-chunk item search; see the module docstring."""

    def __init__(
        self,
        dim: int,
        model_id: str,
        *,
        hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
        ef_search: int = DEFAULT_EF_SEARCH,
    ) -> None:
        self.dim = dim
        self.model_id = model_id
        self.hnsw_threshold = hnsw_threshold
        self.ef_search = ef_search
        self.fingerprint: str | None = None
        self.created: str | None = None
        self._chunks: dict[str, list[int]] = {}  # key -> faiss ids, in chunk order
        self._owner: dict[int, str] = {}  # faiss id -> key
        self._deleted: set[int] = set()  # ids still in an HNSW graph but removed
        self._next_id = 0
        self._lock = threading.RLock()
        self._index = self._empty("flat")

    @classmethod
    def create(
        cls,
        dim: int,
        model_id: str,
        *,
        hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
        ef_search: int = DEFAULT_EF_SEARCH,
    ) -> VectorIndex:
        """A new empty index for ``dim``-dimensional vectors of the embedder ``model_id``."""
        return cls(dim, model_id, hnsw_threshold=hnsw_threshold, ef_search=ef_search)

    @property
    def kind(self) -> str:
        """``"flat"`` or ``"hnsw"``: the structure currently in memory."""
        inner = _faiss().downcast_index(self._index.index)
        return "hnsw" if hasattr(inner, "hnsw") else "flat"

    @property
    def item_count(self) -> int:
        """Number of items (keys)."""
        return len(self._chunks)

    @property
    def chunk_count(self) -> int:
        """Number of live chunk vectors."""
        return len(self._owner)

    def __len__(self) -> int:
        return len(self._chunks)

    def __contains__(self, key: object) -> bool:
        return key in self._chunks

    def keys(self) -> list[str]:
        """The indexed item keys, in insertion order."""
        return list(self._chunks)

    def vectors_for(self, key: str) -> np.ndarray:
        """The chunk vectors of ``key`` in chunk order; ``KeyError`` if it is not indexed."""
        with self._lock:
            ids = np.array(self._chunks[key], dtype=np.int64)
            return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32)

    def upsert(self, key: str, vectors: np.ndarray) -> None:
        """Store ``vectors`` (one row per chunk, normalised) as ``key``'s chunks, replacing any."""
        vecs = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
        if vecs.ndim == 1:
            vecs = vecs.reshape(1, -1)
        if vecs.ndim != 2 or vecs.shape[1] != self.dim or len(vecs) == 0:
            raise ValueError(f"expected an (n >= 1, {self.dim}) array, got shape {vecs.shape}")
        with self._lock:
            self.remove(key)
            ids = np.arange(self._next_id, self._next_id + len(vecs), dtype=np.int64)
            self._next_id += len(vecs)
            self._index.add_with_ids(vecs, ids)
            self._chunks[key] = [int(i) for i in ids]
            self._owner.update((int(i), key) for i in ids)

    def remove(self, key: str) -> bool:
        """Drop ``key``'s chunks; return whether it was indexed."""
        with self._lock:
            ids = self._chunks.pop(key, None)
            if ids is None:
                return False
            for i in ids:
                del self._owner[i]
            if self.kind == "flat":
                faiss = _faiss()
                self._index.remove_ids(faiss.IDSelectorBatch(np.array(ids, dtype=np.int64)))
            else:  # HNSW graphs cannot drop nodes: hide them until the next rebuild
                self._deleted.update(ids)
            return True

    def search(
        self, query_vec: np.ndarray, *, k: int = 10, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top ``k`` items by best-chunk inner product with ``query_vec``, best first.

        With ``allowed``, only those keys are candidates and up to ``k`` of them are returned
        (fewer only if fewer allowed keys are indexed): exact for the flat index, and for HNSW
        exact over the allowed vectors when they are few, else a filtered HNSW search with a
        widened candidate list that falls back to exact scoring if it comes up short.
        """
        q = np.ascontiguousarray(np.asarray(query_vec, dtype=np.float32).reshape(1, -1))
        if q.shape[1] != self.dim:
            raise ValueError(f"query has dim {q.shape[1]}, index has dim {self.dim}")
        if k <= 0:
            return []
        with self._lock:
            if allowed is None:
                wanted, ids = min(k, self.item_count), None
            else:
                keys = [key for key in dict.fromkeys(allowed) if key in self._chunks]
                ids = np.array([i for key in keys for i in self._chunks[key]], dtype=np.int64)
                wanted = min(k, len(keys))
                if self.kind == "hnsw" and len(ids) <= self.hnsw_threshold:
                    return self._exact(q, ids, k)
            if wanted == 0:
                return []
            hits = self._search_chunks(q, wanted, ids)
            if len(hits) < wanted and ids is not None:
                return self._exact(q, ids, k)
            return hits

    def _search_chunks(
        self, q: np.ndarray, wanted: int, ids: np.ndarray | None
    ) -> list[tuple[str, float]]:
        """Ask FAISS for ever more chunks until ``wanted`` distinct items are found."""
        faiss = _faiss()
        hnsw = self.kind == "hnsw"
        if ids is not None:
            sel = faiss.IDSelectorBatch(ids)
            pool = len(ids)
        elif self._deleted:
            sel = faiss.IDSelectorNot(faiss.IDSelectorBatch(np.fromiter(self._deleted, np.int64)))
            pool = self.chunk_count
        else:
            sel, pool = None, self.chunk_count
        n = min(pool, max(wanted * 2, wanted + 8))
        while True:
            if hnsw:
                params: Any = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, n))
            else:
                params = faiss.SearchParameters()
            if sel is not None:
                params.sel = sel
            scores, labels = self._index.search(q, n, params=params)
            best: dict[str, float] = {}
            for label, score in zip(labels[0], scores[0], strict=True):
                key = self._owner.get(int(label)) if label >= 0 else None
                if key is not None and key not in best:
                    best[key] = float(score)
            if len(best) >= wanted or n >= pool:
                return list(best.items())[:wanted]
            n = min(pool, n * 2)

    def _exact(self, q: np.ndarray, ids: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Brute-force best-chunk scores over the chunk ``ids`` (a filtered candidate set)."""
        if len(ids) == 0:
            return []
        vectors = self._index.reconstruct_batch(ids)
        best: dict[str, float] = {}
        for i, score in zip(ids, vectors @ q[0], strict=True):
            key = self._owner[int(i)]
            best[key] = max(best.get(key, -np.inf), float(score))
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:k]

    def _empty(self, kind: str) -> Any:
        faiss = _faiss()
        if kind == "hnsw":
            inner = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            inner.hnsw.efSearch = self.ef_search
        else:
            inner = faiss.IndexFlatIP(self.dim)
        return faiss.IndexIDMap2(inner)

    def rebuild(self) -> None:
        """Rebuild the FAISS structure from the live vectors: drops hidden HNSW vectors and
        picks flat or HNSW by the current size and ``hnsw_threshold``. Called by :meth:`save`
        when needed."""
        with self._lock:
            faiss = _faiss()
            kind = "hnsw" if self.chunk_count > self.hnsw_threshold else "flat"
            stored = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            vectors = faiss.downcast_index(self._index.index).reconstruct_n(0, len(stored))
            live = np.array([int(i) in self._owner for i in stored], dtype=bool)
            index = self._empty(kind)
            if live.any():
                index.add_with_ids(np.ascontiguousarray(vectors[live]), stored[live])
            self._index = index
            self._deleted.clear()

    def _needs_rebuild(self) -> bool:
        want = "hnsw" if self.chunk_count > self.hnsw_threshold else "flat"
        total = self._index.ntotal
        return want != self.kind or (total > 0 and len(self._deleted) / total > MAX_DELETED_SHARE)

    def save(self, directory: str | os.PathLike[str], *, fingerprint: str) -> None:
        """Write the index atomically to ``directory`` (temp dir, then rename), recording the
        caller's graph ``fingerprint``; an existing ``cache.npz`` there is kept."""
        faiss = _faiss()
        target = Path(directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex}")
        with self._lock:
            if self._needs_rebuild():
                self.rebuild()
            tmp.mkdir()
            try:
                faiss.write_index(self._index, str(tmp / INDEX_FILE))
                ids = {
                    "format_version": FORMAT_VERSION,
                    "next_id": self._next_id,
                    "ids": {
                        str(i): [key, n] for key, v in self._chunks.items() for n, i in enumerate(v)
                    },
                    "deleted": sorted(self._deleted),
                }
                (tmp / IDS_FILE).write_text(json.dumps(ids), encoding="utf-8")
                self.fingerprint = fingerprint
                self.created = self.created or _now()
                (tmp / CONFIG_FILE).write_text(
                    json.dumps(self._config(), indent=2), encoding="utf-8"
                )
                if (target / CACHE_FILE).exists():
                    shutil.copy2(target / CACHE_FILE, tmp / CACHE_FILE)
                _replace_dir(tmp, target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

    def _config(self) -> dict[str, Any]:
        params = dict(hnsw_threshold=self.hnsw_threshold, ef_search=self.ef_search)
        if self.kind == "hnsw":
            params.update(M=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION)
        return {
            "format_version": FORMAT_VERSION,
            "model_id": self.model_id,
            "dim": self.dim,
            "metric": "ip",
            "index": {"kind": self.kind, "params": params},
            "item_count": self.item_count,
            "chunk_count": self.chunk_count,
            "fingerprint": self.fingerprint,
            "versions": {"wijken": _wijken_version(), "faiss": _faiss().__version__},
            "created": self.created,
            "updated": _now(),
        }

    @classmethod
    def load(
        cls,
        directory: str | os.PathLike[str],
        *,
        expected_model_id: str,
        expected_dim: int,
        hnsw_threshold: int | None = None,
        ef_search: int | None = None,
    ) -> VectorIndex:
        """Open a saved index; refuse (``IndexMismatchError``) one built for another model
        (unless `search.embedders.interchangeable`), dimension or format. The opened index
        carries ``expected_model_id``: what it adds from now on is embedded by that engine.
        Compare ``.fingerprint`` with the graph to detect staleness. ``hnsw_threshold`` and
        ``ef_search`` override the stored values (e.g. from settings)."""
        path = Path(directory)
        recover_dir(path)
        try:
            config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexMissingError(f"no vector index in {path}; {REINDEX_HINT}") from exc
        built = (config.get("model_id"), config.get("dim"))
        if config.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"vector index in {path} has format version {config.get('format_version')}, "
                f"this wijken reads version {FORMAT_VERSION}; {REINDEX_HINT}"
            )
        if built[1] != expected_dim or not interchangeable(built[0], expected_model_id):
            raise IndexMismatchError(
                f"vector index in {path} was built with model {built[0]!r} (dim {built[1]}), "
                f"but the configured embedder is {expected_model_id!r} (dim {expected_dim}); "
                f"{REINDEX_HINT} to rebuild it with the configured embedder"
            )
        params = config["index"]["params"]
        index = cls(
            expected_dim,
            expected_model_id,
            hnsw_threshold=hnsw_threshold or params.get("hnsw_threshold", DEFAULT_HNSW_THRESHOLD),
            ef_search=ef_search or max(params.get("ef_search", 0), DEFAULT_EF_SEARCH),
        )
        ids = json.loads((path / IDS_FILE).read_text(encoding="utf-8"))
        # ids grow with every upsert, so id order is insertion order and chunk order
        for raw_id, (key, _chunk) in sorted(ids["ids"].items(), key=lambda kv: int(kv[0])):
            index._chunks.setdefault(key, []).append(int(raw_id))
            index._owner[int(raw_id)] = key
        index._deleted = set(ids.get("deleted", []))
        index._next_id = int(ids["next_id"])
        index._index = _faiss().read_index(str(path / INDEX_FILE))
        if index._index.ntotal != len(index._owner) + len(index._deleted):
            raise VectorIndexError(
                f"vector index in {path} is inconsistent ({index._index.ntotal} vectors, "
                f"{len(index._owner)} ids); {REINDEX_HINT}"
            )
        index.fingerprint = config.get("fingerprint")
        index.created = config.get("created")
        return index


def saved_stamp(path: Path) -> tuple[float, int] | None:
    """When and how large the index saved in `path` is (its ``config.json``, written by every
    save), or None when none is saved: a cheap test that the index on disk was replaced."""
    try:
        stat = (path / CONFIG_FILE).stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime, stat.st_size)


def saved_model_id(path: Path) -> str | None:
    """The model id the index saved in `path` was embedded with (its ``config.json``), or None
    when none is saved or the file cannot be read."""
    try:
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = config.get("model_id") if isinstance(config, dict) else None
    return str(value) if value else None


def recover_dir(target: Path) -> bool:
    """Finish a :func:`_replace_dir` that was cut short between its two renames: put the old
    copy back where the index belongs. True if something was restored."""
    if target.exists() or not target.parent.exists():
        return False
    olds = sorted(target.parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not olds:
        return False
    os.replace(olds[-1], target)
    return True


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing it; the old copy is restored if the move fails."""
    if not target.exists():
        os.replace(new, target)
        return
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
    os.replace(target, old)
    try:
        os.replace(new, target)
    except OSError:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
