"""Property tests of the `wijken search --batch` line parser (api/cli.py `parse_batch`): any text
gives questions and per-line messages, never an exception, and what it accepts is well-typed.

Bounded and deterministic (`derandomize=True`, no deadline); see tests/ingest/test_fuzz_readers.py.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from api.cli import parse_batch
from kg.xmlchars import xml_forbidden_char

FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FILTERS = ["type", "theme", "municipality", "neighbourhood", "actor"]
texts = st.text(alphabet=st.characters(codec=None), max_size=40)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(texts, inner, max_size=3), max_leaves=8)
questions = st.fixed_dictionaries({}, optional={
    "qid": values, "query": st.one_of(texts, values), "k": st.one_of(st.integers(-5, 200), values),
    "filters": st.one_of(st.dictionaries(st.one_of(st.sampled_from(FILTERS), texts), values,
                                         max_size=3), values),
    **{name: values for name in FILTERS},
})
lines = st.one_of(questions.map(json.dumps), values.map(json.dumps), texts,
                  st.builds(lambda n: "[" * n + "]" * n, st.integers(0, 5000)))


def check(text: str, filters: dict[str, str], k: int) -> None:
    out, problems = parse_batch(text, "vragen.jsonl", filters, k)
    assert all(isinstance(p, str) and p.startswith("vragen.jsonl:") for p in problems)
    if problems:
        return
    for line, q in out:
        assert isinstance(line, int) and line >= 1
        assert isinstance(q["query"], str) and q["query"].strip()
        assert xml_forbidden_char(q["query"]) is None
        assert isinstance(q["k"], int) and 1 <= q["k"] <= 100
        assert all(isinstance(q[f], str) for f in FILTERS if f in q)


@FUZZ
@given(batch=st.lists(lines, max_size=5), k=st.integers(1, 100),
       filters=st.dictionaries(st.sampled_from(FILTERS), texts, max_size=2))
@example(batch=['{"query": "x", "k": 1' + "0" * 5000 + "}"], k=10, filters={})
@example(batch=['{"query": ' + "[" * 10_000 + "]" * 10_000 + "}"], k=10, filters={})
def test_batch_lines(batch: list[str], k: int, filters: dict[str, str]) -> None:
    check("\n".join(batch), filters, k)


@FUZZ
@given(text=st.text(alphabet=st.characters(codec=None), max_size=300))
def test_batch_text(text: str) -> None:
    check(text, {}, 10)


def test_a_deep_line_is_named() -> None:
    deep = '{"query": ' + "[" * 10_000 + "]" * 10_000 + "}"
    _, problems = parse_batch(f'{{"query": "warmte"}}\n{deep}\n', "q.jsonl", {}, 10)
    assert problems == ["q.jsonl:2: nesting deeper than 64 levels"]


def test_control_characters_are_named() -> None:
    batch = json.dumps({"query": "warm\x00te", "qid": "\x1b[2J", "theme": "a\ud800"})
    _, problems = parse_batch(batch, "q.jsonl", {}, 10)
    assert problems == ["q.jsonl:1: query: control character U+0000 is not allowed",
                        "q.jsonl:1: qid: control character U+001B is not allowed",
                        "q.jsonl:1: theme: character U+D800 is not allowed"]


def test_a_line_with_u2028_is_one_line() -> None:
    out, problems = parse_batch(json.dumps({"query": "warmte\u2028net"}, ensure_ascii=False)
                                + "\n", "q.jsonl", {}, 10)
    assert problems == []
    assert [(n, q["query"]) for n, q in out] == [(1, "warmte\u2028net")]

