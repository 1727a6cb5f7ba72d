"""Cache of chunk embeddings, so a reindex only embeds chunks whose text changed.

Entries are keyed by sha256(model_id, chunk text) and stored as ``cache.npz`` next to the vector
index (``VectorIndex.save`` keeps the file when it replaces the index directory).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from search.embedders import Embedder

__all__ = ["CACHE_FILE", "EmbeddingCache"]

CACHE_FILE = "cache.npz"


class EmbeddingCache:
    """Chunk text → document vector for one embedder (``model_id``, ``dim``)."""

    def __init__(self, model_id: str, dim: int) -> None:
        self.model_id = model_id
        self.dim = dim
        self._vectors: dict[bytes, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._vectors)

    def _key(self, text: str) -> bytes:
        return hashlib.sha256(f"{self.model_id}\n{text}".encode()).digest()

    def get(self, text: str) -> np.ndarray | None:
        """The cached vector of ``text``, or None."""
        return self._vectors.get(self._key(text))

    def put(self, text: str, vector: np.ndarray) -> None:
        """Remember ``vector`` as the embedding of ``text``."""
        vec = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vec.shape != (self.dim,):
            raise ValueError(f"expected a vector of dim {self.dim}, got shape {vec.shape}")
        self._vectors[self._key(text)] = vec

    def embed_documents(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """``embedder.embed_documents(texts)``, embedding only the texts not cached yet."""
        if embedder.model_id != self.model_id:
            raise ValueError(f"cache is for {self.model_id!r}, not {embedder.model_id!r}")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for row, text in enumerate(texts):
            cached = self.get(text)
            if cached is None:
                missing.setdefault(text, []).append(row)
            else:
                out[row] = cached
        if missing:
            fresh = embedder.embed_documents(list(missing))
            for (text, rows), vec in zip(missing.items(), fresh, strict=True):
                self.put(text, vec)
                out[rows] = vec
        return out

    def prune(self, keep: Iterable[str]) -> int:
        """Drop every entry whose text is not in ``keep``; return how many were dropped."""
        wanted = {self._key(text) for text in keep}
        stale = [key for key in self._vectors if key not in wanted]
        for key in stale:
            del self._vectors[key]
        return len(stale)

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write ``cache.npz`` into ``directory`` atomically (temp file, then rename)."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        # raw digests as uint8 rows: numpy "S" strings would drop trailing NUL bytes
        keys = np.frombuffer(b"".join(self._vectors), dtype=np.uint8).reshape(-1, 32)
        vectors = (
            np.vstack(list(self._vectors.values()))
            if self._vectors
            else np.empty((0, self.dim), dtype=np.float32)
        )
        tmp = path / f".{CACHE_FILE}.tmp-{os.getpid()}"
        with tmp.open("wb") as fh:
            np.savez(fh, model_id=np.array(self.model_id), keys=keys, vectors=vectors)
        os.replace(tmp, path / CACHE_FILE)

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, model_id: str, dim: int) -> EmbeddingCache:
        """The cache saved in ``directory``; empty if there is none or it is for another model."""
        cache = cls(model_id, dim)
        file = Path(directory) / CACHE_FILE
        if not file.exists():
            return cache
        with np.load(file, allow_pickle=False) as data:
            if str(data["model_id"]) != model_id or data["vectors"].shape[1:] != (dim,):
                return cache
            for key, vec in zip(data["keys"], data["vectors"], strict=True):
                cache._vectors[key.tobytes()] = vec
        return cache
