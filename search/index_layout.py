"""The search index directory (`data_dir/index/`): the one module that knows its files and says
whether the index fits the configured model and the graph.

    index/
      vectors/        the FAISS index directory (`search.vectorindex`), with `cache.npz`
      vectors-2/      the same for the second embedding model, when one is configured
      bm25.json.gz    the BM25 index with its analyzer (`search.bm25`)
      state.json      the graph generation the indexes reflect and each item's passage hash;
                      written last by a sync, so it never claims more than is on disk
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from search.embedders import interchangeable
from search.vectorindex import CONFIG_FILE, recover_dir, saved_stamp

IndexState = Literal["ready", "missing", "mismatch", "stale"]
REINDEX = "`wijken reindex`"


@dataclass(frozen=True)
class IndexStatus:
    """Whether the index can answer for a model and a graph generation, and what to do if not."""

    state: IndexState
    message: str
    generation: int | None = None
    model_id: str | None = None
    items: int | None = None


class IndexLayout:
    """Paths and small reads of one index directory; nothing here loads vectors or a model."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.vectors = directory / "vectors"
        self.vectors2 = directory / "vectors-2"
        self.bm25 = directory / "bm25.json.gz"
        self.state_file = directory / "state.json"

    @classmethod
    def of(cls, data_dir: Path) -> IndexLayout:
        """The index of a data directory."""
        return cls(data_dir / "index")

    def exists(self) -> bool:
        """Whether an index was ever started here."""
        return self.directory.exists()

    def has_vectors(self, directory: Path | None = None) -> bool:
        """Whether a vector index is on disk (a replace cut short is undone first)."""
        directory = directory or self.vectors
        recover_dir(directory)
        return saved_stamp(directory) is not None

    def read_state(self) -> dict[str, Any] | None:
        """`state.json`, or None when it is missing or unreadable."""
        data = _read_json(self.state_file)
        return data if data is not None and isinstance(data.get("generation"), int) else None

    def write_state(self, state: dict[str, Any]) -> None:
        """Replace `state.json` atomically."""
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, self.state_file)

    def vectors_config(self) -> dict[str, Any] | None:
        """The vector index's `config.json`, or None."""
        return _read_json(self.vectors / CONFIG_FILE)

    def built_with(self) -> str | None:
        """The model id the vectors were embedded with, or None without an index."""
        config = self.vectors_config()
        return None if config is None else str(config.get("model_id"))

    def reflects(self, generation: int) -> bool:
        """Whether a complete index is here and reflects this graph generation."""
        state = self.read_state()
        return self.has_vectors() and state is not None and state["generation"] == generation

    def status(self, *, model_id: str | None, generation: int) -> IndexStatus:
        """The index against the configured model and the graph's generation."""
        state = self.read_state()
        config = self.vectors_config()
        if state is None or config is None or state["generation"] < 0:
            return IndexStatus("missing", missing_message())
        built_with = str(config.get("model_id"))
        items = config.get("item_count")
        found = dict(generation=state["generation"], model_id=built_with,
                     items=items if isinstance(items, int) else None)
        if model_id is None or not interchangeable(built_with, model_id):
            return IndexStatus("mismatch", mismatch_message(self.directory, built_with, model_id),
                               **found)
        if state["generation"] != generation:
            return IndexStatus("stale", stale_message(state["generation"], generation), **found)
        return IndexStatus("ready", "the search index fits the model and the graph", **found)


def missing_message() -> str:
    return f"there is no search index yet: run {REINDEX} (or ingest records, which builds it)"


def mismatch_message(directory: Path, built_with: str, model_id: str | None,
                     setting: str | None = None) -> str:
    configured = f"{model_id!r}" + (f" (WIJKEN_EMBEDDER={setting})" if setting else "")
    return (f"the search index in {directory} was built with {built_with!r}, but the configured "
            f"embedder is {configured}; run {REINDEX} to rebuild it, or configure the embedder "
            "it was built with")


def stale_message(indexed: int, generation: int) -> str:
    return (f"the search index reflects graph state {indexed}, but the graph is at state "
            f"{generation} (it was changed without updating the index); run {REINDEX}")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
