"""Split long passages into overlapping chunks that fit an embedder's token limit.

Chunks are word windows (default 200 words, 40 overlapping) shrunk until the embedder's own
token count fits ``max_tokens``; an item's vector-search score is later its best chunk's score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.embedders import Embedder

__all__ = ["chunk_text"]


def chunk_text(text: str, embedder: Embedder, *, window: int = 200, overlap: int = 40) -> list[str]:
    """Return ``text`` as a list of chunks of at most ``embedder.max_tokens`` tokens each.

    A text of at most ``window`` words that fits is returned whole (one chunk, original
    spacing kept). Longer texts become windows of up to ``window`` words, each starting
    ``overlap`` words before the previous one ended; a window whose token count is too high is
    shrunk proportionally until it fits. A single word longer than the limit stays one chunk
    (the engine truncates it). Blank text gives no chunks.
    """
    if window < 1 or not 0 <= overlap < window:
        raise ValueError(f"need window >= 1 and 0 <= overlap < window, got {window}/{overlap}")
    words = text.split()
    if not words:
        return []
    limit = embedder.max_tokens
    if len(words) <= window and embedder.count_tokens(text.strip()) <= limit:
        return [text.strip()]

    chunks: list[str] = []
    start = 0
    while True:
        end = min(start + window, len(words))
        chunk = " ".join(words[start:end])
        tokens = embedder.count_tokens(chunk)
        while tokens > limit and end - start > 1:
            # shrink in proportion to the excess, always by at least one word
            fitting = int((end - start) * limit / tokens * 0.95)
            end = start + max(1, min(fitting, end - start - 1))
            chunk = " ".join(words[start:end])
            tokens = embedder.count_tokens(chunk)
        chunks.append(chunk)
        if end >= len(words):
            return chunks
        # overlap never exceeds half the window actually used, so every step advances
        start = max(end - min(overlap, (end - start) // 2), start + 1)
