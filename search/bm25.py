"""Okapi BM25 over Dutch records, with weighted fields (title over text) and incremental updates.

Field weights follow the simple BM25F scheme: a term's frequency and a document's length are the
weighted sums over its fields, then the usual BM25 saturation and length normalisation apply.
The index saves to one gzip-compressed JSON file that also holds its analyzer's lexicon.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.analysis import DutchAnalyzer, default_analyzer

__all__ = ["DEFAULT_WEIGHTS", "BM25Index"]

DEFAULT_WEIGHTS: dict[str, float] = {"title": 2.0, "text": 1.0}
_FORMAT = "wijken-bm25"
_VERSION = 1


@dataclass(frozen=True)
class _Compiled:
    """Postings as arrays over a fixed row order (sorted keys)."""

    keys: list[str]
    index: dict[str, int]
    norm: np.ndarray  # k1 * (1 - b + b * length / average length), per row
    postings: dict[str, tuple[np.ndarray, np.ndarray]]  # term -> (rows, term frequencies)


def _top(scores: np.ndarray, candidates: np.ndarray, keys: list[str], k: int) -> list[int]:
    """The k best candidate rows by score (ties by key), without sorting them all."""
    cut = np.partition(scores[candidates], len(candidates) - k)[len(candidates) - k]
    best = candidates[scores[candidates] >= cut]
    return sorted(best.tolist(), key=lambda r: (-scores[r], keys[r]))[:k]


class BM25Index:
    """An in-memory Okapi BM25 index of documents keyed by string, each made of named fields.

    ``weights`` maps field names to weights (unknown fields weigh 1.0). Statistics (document
    frequencies, average length) stay exact under :meth:`add` and :meth:`remove`.
    """

    def __init__(
        self,
        analyzer: DutchAnalyzer | None = None,
        *,
        k1: float = 1.2,
        b: float = 0.75,
        weights: Mapping[str, float] | None = None,
    ) -> None:
        self.analyzer = analyzer if analyzer is not None else default_analyzer()
        self.k1 = k1
        self.b = b
        self.weights: dict[str, float] = dict(DEFAULT_WEIGHTS if weights is None else weights)
        self._docs: dict[str, dict[str, float]] = {}
        self._lengths: dict[str, float] = {}
        self._postings: dict[str, dict[str, float]] = {}
        self._total_length: float | None = 0.0
        self._compiled: _Compiled | None = None

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, key: object) -> bool:
        return key in self._docs

    # -- updates ------------------------------------------------------------------------------

    def add(self, key: str, fields: Mapping[str, str]) -> None:
        """Index (or re-index) the document ``key`` from its text fields, e.g. title and text."""
        freqs: dict[str, float] = {}
        length = 0.0
        for name, text in fields.items():
            if not text:
                continue
            weight = self.weights.get(name, 1.0)
            terms = self.analyzer.analyze(text)
            length += weight * len(terms)
            for term, count in Counter(terms).items():
                freqs[term] = freqs.get(term, 0.0) + weight * count
        self._store(key, freqs, length)

    def remove(self, key: str) -> None:
        """Drop the document ``key``; raises ``KeyError`` when it is not indexed."""
        terms = self._docs.pop(key)
        del self._lengths[key]
        for term in terms:
            posting = self._postings[term]
            del posting[key]
            if not posting:
                del self._postings[term]
        self._total_length = None
        self._compiled = None

    def _store(self, key: str, freqs: dict[str, float], length: float) -> None:
        if key in self._docs:
            self.remove(key)
        self._docs[key] = freqs
        self._lengths[key] = length
        postings = self._postings
        for term, tf in freqs.items():
            posting = postings.get(term)
            if posting is None:
                postings[term] = {key: tf}
            else:
                posting[key] = tf
        self._total_length = None
        self._compiled = None

    # -- queries ------------------------------------------------------------------------------

    def search(
        self, query: str, *, k: int = 10, allowed: Collection[str] | None = None,
        extra: Mapping[str, float] | None = None,
    ) -> list[tuple[str, float]]:
        """Return up to ``k`` ``(key, score)`` pairs, best first, for documents matching ``query``.

        With ``allowed``, only those keys are ranked (collection statistics stay global), so a
        filter never shrinks the result below ``k`` when ``k`` allowed documents match.
        ``extra`` adds texts (e.g. a thesaurus' synonyms of the query's words) whose terms count
        with the given weight, each at most once and never more than a word of the query.
        """
        if k <= 0 or not self._docs:
            return []
        weighted = dict.fromkeys(self.analyzer.analyze(query), 1.0)
        for text, weight in (extra or {}).items():
            for term in self.analyzer.analyze(text):
                weighted[term] = max(weighted.get(term, 0.0), weight)
        compiled = self._compile()
        keys, norm = compiled.keys, compiled.norm
        scores = np.zeros(len(keys), dtype=np.float64)
        touched = np.zeros(len(keys), dtype=bool)
        n_docs = len(keys)
        for term, weight in weighted.items():
            posting = compiled.postings.get(term)
            if posting is None or weight <= 0:
                continue
            rows, tf = posting
            idf = math.log(1.0 + (n_docs - len(rows) + 0.5) / (len(rows) + 0.5))
            scores[rows] += weight * idf * tf * (self.k1 + 1.0) / (tf + norm[rows])
            touched[rows] = True
        if allowed is not None:
            mask = np.zeros(len(keys), dtype=bool)
            index = compiled.index
            allowed_rows = [index[key] for key in allowed if key in index]
            mask[allowed_rows] = True
            touched &= mask
        candidates = np.flatnonzero(touched)
        if len(candidates) == 0:
            return []
        # best first; ties by key, as a stable, history-free order
        order = sorted(candidates.tolist(), key=lambda r: (-scores[r], keys[r]))[:k] \
            if len(candidates) <= 4 * k else _top(scores, candidates, keys, k)
        return [(keys[r], float(scores[r])) for r in order]

    def _compile(self) -> _Compiled:
        """The postings as numpy arrays, rebuilt after the index changed."""
        if self._compiled is None:
            keys = sorted(self._docs)
            index = {key: row for row, key in enumerate(keys)}
            avg = self._average_length()
            lengths = np.array([self._lengths[key] for key in keys], dtype=np.float64)
            norm = self.k1 * (1.0 - self.b + self.b * lengths / avg) if avg else \
                np.full(len(keys), self.k1)
            postings = {
                term: (np.array([index[key] for key in posting], dtype=np.int64),
                       np.array(list(posting.values()), dtype=np.float64))
                for term, posting in self._postings.items()
            }
            self._compiled = _Compiled(keys, index, norm, postings)
        return self._compiled

    def explain(self, query: str, key: str) -> list[str]:
        """Return the words of ``query``, as written, that match document ``key`` (no repeats)."""
        terms = self._docs.get(key)
        if terms is None:
            return []
        matched: list[str] = []
        for word, word_terms in self.analyzer.analyze_words(query):
            if word not in matched and any(term in terms for term in word_terms):
                matched.append(word)
        return matched

    def contains(self, key: str, text: str) -> bool:
        """Whether document ``key`` holds every term of ``text`` (a phrase's words, in any
        order)."""
        terms = self._docs.get(key)
        wanted = self.analyzer.analyze(text)
        return terms is not None and bool(wanted) and all(t in terms for t in wanted)

    def _average_length(self) -> float:
        if self._total_length is None:
            # fsum is exact and order-free, so scores do not depend on the update history.
            self._total_length = math.fsum(self._lengths.values())
        return self._total_length / len(self._lengths) if self._lengths else 0.0

    # -- persistence --------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the index, its parameters and its analyzer's config as gzip JSON to ``path``."""
        payload = {
            "format": _FORMAT,
            "version": _VERSION,
            "k1": self.k1,
            "b": self.b,
            "weights": self.weights,
            "analyzer": self.analyzer.config(),
            "documents": {
                key: {"length": self._lengths[key], "terms": terms}
                for key, terms in self._docs.items()
            },
        }
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        tmp.write_bytes(gzip.compress(data, compresslevel=6))
        tmp.replace(target)

    @classmethod
    def load(cls, path: str | Path, *, analyzer: DutchAnalyzer | None = None) -> BM25Index:
        """Read an index written by :meth:`save`.

        Without ``analyzer`` the saved analyzer config is rebuilt; a given analyzer must have the
        same fingerprint, else ``ValueError`` (its terms would not match the stored ones).
        """
        payload = json.loads(gzip.decompress(Path(path).read_bytes()).decode("utf-8"))
        if payload.get("format") != _FORMAT or payload.get("version") != _VERSION:
            raise ValueError(f"{path}: not a {_FORMAT} v{_VERSION} index")
        config = payload["analyzer"]
        if analyzer is None:
            analyzer = DutchAnalyzer.from_config(config)
        if analyzer.fingerprint() != config["fingerprint"]:
            raise ValueError(f"{path}: index was built with another analyzer (lexicon/stemmer)")
        index = cls(analyzer, k1=payload["k1"], b=payload["b"], weights=payload["weights"])
        for key, doc in payload["documents"].items():
            index._store(key, doc["terms"], doc["length"])
        return index
