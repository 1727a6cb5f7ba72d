"""Short extracts of an item's text: the search hit's snippet and the page teasers."""

from __future__ import annotations

import re
from collections.abc import Sequence

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def shorten(text: str, size: int) -> str:
    """The text on one line, cut at a word boundary to at most about `size` chars (+ " …")."""
    text = " ".join(text.split())
    if len(text) <= size:
        return text
    return text[:size].rsplit(" ", 1)[0] + " …"


def snippet(text: str, matched: Sequence[str], *, size: int = 240) -> str:
    """The sentence with the most matched words (or the opening), cut to about `size` chars."""
    sentences = [s for s in _SENTENCE.split(text.strip()) if s] or [text]
    words = [m.lower() for m in matched]
    best = max(sentences, key=lambda s: sum(w in s.lower() for w in words)) if words \
        else sentences[0]
    return shorten(best, size)
