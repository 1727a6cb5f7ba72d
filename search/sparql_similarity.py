"""`wk:similarity(?item, "tekst")`: Dutch semantic similarity as a SPARQL extension function.

The function answers the cosine similarity (``xsd:double``) between an item's best-matching
chunk in the search index and the text embedded as a query. It runs inside the SPARQL worker
process (see :mod:`kg.sparql.pool`): the embedder and the index load there on first use, so a
query that does not call the function never pays for them. Query embeddings and per-item scores
are cached, because Oxigraph calls the function once per solution.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.errors import SearchIndexError, WijkenError
from kg.sparql.messages import FunctionSpec
from kg.terms import OxTerm
from ontology.namespaces import WK
from search.embedders import Embedder, configure_threads, load_embedder
from search.lru import LRUCache
from search.tuned import TUNED_MARK, tuned_for
from search.vectorindex import VectorIndex, VectorIndexError, saved_model_id, saved_stamp

if TYPE_CHECKING:
    import numpy as np

SIMILARITY_IRI = str(WK.similarity)
XSD_DOUBLE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#double")
# Longer texts are cut: the embedder reads at most 512 tokens anyway, and a huge literal should
# not cost a huge tokenisation.
MAX_TEXT_CHARS = 4000
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimilarityConfig:
    """Where the function finds its index and which embedder built it (picklable)."""

    index_dir: Path
    embedder: str
    base_iri: str
    threads: int = 1
    # Where a tuned model the index names is found (`search.tuned`); None: never tuned.
    data_dir: Path | None = None


class SimilarityFunction:
    """The callable Oxigraph invokes for ``wk:similarity``; errors are kept for the caller.

    Oxigraph turns an exception in a custom function into an unbound value, which would make
    "the index is missing" look like "nothing matched". So the function remembers the first
    configuration error of a query and the worker reports it with :meth:`take_error`.
    """

    def __init__(self, config: SimilarityConfig, *, cache_size: int = 256) -> None:
        self.config = config
        self._embedder: Embedder | None = None
        self._index: VectorIndex | None = None
        self._index_stamp: tuple[float, int] | None = None
        self._queries: LRUCache[str, np.ndarray] = LRUCache(cache_size)
        self._scores: LRUCache[tuple[str, str], float | None] = LRUCache(cache_size * 64)
        self._error: WijkenError | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def prepare(self) -> None:
        """Called by the worker before a query that names the function."""
        self.refresh()

    def refresh(self) -> None:
        """Drop the loaded index if the one on disk was replaced since (call before a query)."""
        if self._index is not None and self._stamp() != self._index_stamp:
            self._index = None
            self._scores.clear()

    def take_error(self) -> WijkenError | None:
        """The configuration error met during the last query, if any (and forget it)."""
        error, self._error = self._error, None
        return error

    def _stamp(self) -> tuple[float, int] | None:
        return saved_stamp(self.config.index_dir)

    def _load(self) -> tuple[Embedder, VectorIndex]:
        if self._index is None:
            # The index names its model: one `wijken tune` adopted is served with its tuning.
            built_with = saved_model_id(self.config.index_dir)
            tuned = tuned_for(built_with, self.config.data_dir)
            current = None if self._embedder is None else self._embedder.model_id
            if current is None or (current != built_with if tuned else TUNED_MARK in current):
                configure_threads(self.config.threads)
                self._embedder = load_embedder(self.config.embedder, tuned=tuned)
                self._queries.clear()
            embedder = self._embedder
            assert embedder is not None
            stamp = self._stamp()
            try:
                self._index = VectorIndex.load(
                    self.config.index_dir,
                    expected_model_id=embedder.model_id,
                    expected_dim=embedder.dim,
                )
            except VectorIndexError as exc:
                raise SearchIndexError(f"wk:similarity cannot use the search index: {exc}") from exc
            self._index_stamp = stamp
        assert self._embedder is not None
        return self._embedder, self._index

    # -- the function ---------------------------------------------------------------------

    def __call__(self, item: OxTerm, text: OxTerm) -> ox.Literal | None:
        """Cosine similarity of ``item`` (an IRI) to ``text`` (a literal); unbound otherwise."""
        if not isinstance(item, ox.NamedNode) or not isinstance(text, ox.Literal):
            return None
        try:
            score = self.score(item.value, text.value)
        except WijkenError as exc:
            self._error = self._error or exc
            return None
        if score is None:
            return None
        return ox.Literal(repr(score), datatype=XSD_DOUBLE)

    def score(self, iri: str, text: str) -> float | None:
        """Best-chunk cosine similarity of the item ``iri`` to ``text``; None if not indexed."""
        text = text.strip()[:MAX_TEXT_CHARS]
        if not text:
            return None
        cached = self._scores.get((iri, text))
        if cached is not None or (iri, text) in self._scores:
            return cached
        embedder, index = self._load()
        key = self._key(iri, index)
        value: float | None = None
        if key is not None:
            vectors = index.vectors_for(key)
            value = float((vectors @ self._query_vector(embedder, text)).max())
        self._scores.put((iri, text), value)
        return value

    def _query_vector(self, embedder: Embedder, text: str) -> np.ndarray:
        vector: np.ndarray | None = self._queries.get(text)
        if vector is None:
            vector = embedder.embed_queries([text])[0]
            self._queries.put(text, vector)
        return vector

    def _key(self, iri: str, index: VectorIndex) -> str | None:
        """The index key of an item: its record id (`{base_iri}{type}/{id}`) or its IRI."""
        if iri in index:
            return iri
        base = self.config.base_iri
        if iri.startswith(base):
            record_id = iri[len(base) :].rpartition("/")[2]
            if record_id and record_id in index:
                return record_id
        return None


def similarity_function(index_dir: Path, *, embedder: str, base_iri: str,
                        threads: int = 1, data_dir: Path | None = None) -> FunctionSpec:
    """`wk:similarity` as a registration for the SPARQL workers (see `kg.sparql.messages`)."""
    config = SimilarityConfig(index_dir=index_dir, embedder=embedder, base_iri=base_iri,
                              threads=threads, data_dir=data_dir)
    return FunctionSpec(
        SIMILARITY_IRI, f"{__name__}:SimilarityFunction", config,
        label=(("nl", "semantische gelijkenis"), ("en", "semantic similarity")),
        description=(
            'wk:similarity(?item, "Nederlandse tekst") returns an xsd:double: the cosine '
            "similarity between the item's best-matching text chunk and the text, embedded "
            "with the configured Dutch embedding model. Unbound for items not in the index."),
    )
