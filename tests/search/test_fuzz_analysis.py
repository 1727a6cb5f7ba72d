"""Property tests of the query side of lexical search: the Dutch analyzer and BM25 answer any
text (control characters, lone surrogates, endless compounds) without another exception, and
an endless compound is analysed at once instead of recursing for seconds.

Bounded and deterministic (`derandomize=True`, no deadline); see tests/ingest/test_fuzz_readers.py.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from search.analysis import (
    MAX_COMPOUND_LETTERS,
    DutchAnalyzer,
    core_lexicon,
    default_analyzer,
    fold,
)
from search.bm25 import BM25Index

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PARTS = sorted(w for w in core_lexicon() if len(w) >= 3)
anything = st.text(alphabet=st.characters(codec=None), max_size=300)
compounds = st.lists(st.sampled_from([*PARTS, "s", "en", "e"]), max_size=400).map("".join)
queries = st.one_of(anything, compounds, st.lists(st.one_of(compounds, anything),
                                                  max_size=5).map(" ".join))

INDEX = BM25Index()
for key, title, text in [
    ("a", "Renovatiebegeleiding in de wijk", "Samen renoveren met een renteloze lening."),
    ("b", "Warmtenet en hemelwateropvang", "De buurt deelt deelwagens en een warmtepomp."),
    ("c", "Ontharding", "Speelplaatsen vergroenen.\x00\ud800"),
]:
    INDEX.add(key, {"title": title, "text": text})


@FUZZ
@given(text=queries)
@example(text="water" * 2000)  # 10,000 letters of one compound: RecursionError before
@example(text="\ud800\x00\ufffe" + "renovatie" * 300)
def test_analyzer_answers_any_text(text: str) -> None:
    analyzer = default_analyzer()
    terms = analyzer.analyze(text)
    assert all(isinstance(t, str) and t for t in terms)
    words = analyzer.analyze_words(text)
    assert all(isinstance(w, str) and isinstance(ts, tuple) for w, ts in words)
    assert isinstance(fold(text), str)


@FUZZ
@given(query=queries, k=st.integers(-1, 20), allowed=st.none() | st.lists(
    st.sampled_from(["a", "b", "c", "x"]), max_size=3))
def test_bm25_search_and_explain_answer_any_query(query: str, k: int,
                                                  allowed: list[str] | None) -> None:
    hits = INDEX.search(query, k=k, allowed=allowed)
    assert len(hits) <= max(k, 0)
    for key, score in hits:
        assert key in "abc" and score > 0
        assert isinstance(INDEX.explain(query, key), list)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(word=st.lists(st.sampled_from(PARTS), min_size=1, max_size=2000).map("".join))
def test_compound_splitting_is_bounded(word: str) -> None:
    analyzer = DutchAnalyzer()
    start = time.perf_counter()
    parts = analyzer.split_compound(word)
    if len(word) > MAX_COMPOUND_LETTERS:
        assert parts == []
    assert time.perf_counter() - start < 5  # generous: a few ms in practice, never seconds


def test_a_real_compound_is_still_split() -> None:
    assert default_analyzer().split_compound("hemelwateropvang") != []
