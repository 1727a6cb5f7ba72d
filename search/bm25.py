"""Okapi BM25 over Dutch records, with weighted fields (title over text) and incremental updates.

Field weights follow the simple BM25F scheme: a term's frequency and a document's length are the
weighted sums over its fields, then the usual BM25 saturation and length normalisation apply.
The index saves to one gzip-compressed JSON file that also holds its analyzer's lexicon.
"""

from __future__ import annotations

import gzip
import heapq
import json
import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from search.analysis import DutchAnalyzer, default_analyzer

__all__ = ["DEFAULT_WEIGHTS", "BM25Index"]

DEFAULT_WEIGHTS: dict[str, float] = {"title": 2.0, "text": 1.0}
_FORMAT = "wijken-bm25"
_VERSION = 1


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

    # -- queries ------------------------------------------------------------------------------

    def search(
        self, query: str, *, k: int = 10, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """Return up to ``k`` ``(key, score)`` pairs, best first, for documents matching ``query``.

        With ``allowed``, only those keys are ranked (collection statistics stay global), so a
        filter never shrinks the result below ``k`` when ``k`` allowed documents match.
        """
        if k <= 0 or not self._docs:
            return []
        allowed_set = None if allowed is None else set(allowed)
        scores: dict[str, float] = {}
        n_docs = len(self._docs)
        avg_length = self._average_length()
        k1, b = self.k1, self.b
        lengths = self._lengths
        for term in dict.fromkeys(self.analyzer.analyze(query)):
            posting = self._postings.get(term)
            if not posting:
                continue
            df = len(posting)
            idf = math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
            items: Iterable[tuple[str, float]]
            if allowed_set is None:
                items = posting.items()
            elif len(allowed_set) < len(posting):
                items = ((key, posting[key]) for key in allowed_set if key in posting)
            else:
                items = ((key, tf) for key, tf in posting.items() if key in allowed_set)
            for key, tf in items:
                norm = k1 * (1.0 - b + b * lengths[key] / avg_length) if avg_length else k1
                scores[key] = scores.get(key, 0.0) + idf * tf * (k1 + 1.0) / (tf + norm)
        best = heapq.nsmallest(k, scores.items(), key=lambda item: (-item[1], item[0]))
        return [(key, score) for key, score in best]

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
