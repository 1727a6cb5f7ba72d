"""Nesting limits checked before a text is parsed.

Python's JSON decoder, PyYAML's composer and rdflib's Turtle and JSON-LD parsers recurse once
per level of `[`/`{` (or `[`/`(`), so a few thousand levels end in a `RecursionError` deep
inside a parser. No record needs more than a handful of levels, so every structured text is
scanned first, with a small scanner that knows only where strings are, and refused past
`MAX_NESTING` levels with the line where it got too deep.
"""

from __future__ import annotations

import re

import yaml

MAX_NESTING = 64
"""The deepest `[`/`{` (JSON, YAML) or `[`/`(` (Turtle) nesting any input may have."""

# Strings are skipped whole (escapes included) so that brackets inside them do not count; an
# unterminated string runs to the end, which only makes the scan count less, and the parser
# reports the text as malformed anyway.
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[{]|[\]}]', re.DOTALL)
_TURTLE_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""(?!")))*(?:"""|\Z)'
    r"|'''(?:[^'\\]|\\.|'(?!''(?!')))*(?:'''|\Z)"
    r'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"?'
    r"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'?"
    r"|<(?:[^<>\"{}|^`\\\s]|\\[uU][0-9A-Fa-f]+)*>"  # an IRI
    r"|#[^\n]*"  # a comment
    r"|\\."  # an escaped character in a prefixed name (ex:it\'s)
    r"|[\[(]|[\])]",
    re.DOTALL,
)


def nesting_message(limit: int = MAX_NESTING) -> str:
    """The problem message for a text nested deeper than `limit`."""
    return f"nesting deeper than {limit} levels"


def _too_deep(tokens: re.Pattern[str], openers: str, closers: str, text: str,
              limit: int) -> int | None:
    depth = 0
    for match in tokens.finditer(text):
        token = match.group()
        if len(token) != 1:
            continue  # a string, IRI, comment or escape
        if token in openers:
            depth += 1
            if depth > limit:
                return text.count("\n", 0, match.start()) + 1
        elif token in closers:
            depth = max(depth - 1, 0)
    return None


def json_too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """The 1-based line where JSON `text` first nests deeper than `limit`, or None."""
    if text.count("[") + text.count("{") <= limit:  # the common case, without a scan
        return None
    return _too_deep(_JSON_TOKENS, "[{", "]}", text, limit)


def turtle_too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """The 1-based line where Turtle `text` first nests `[`/`(` deeper than `limit`, or None."""
    if text.count("[") + text.count("(") <= limit:
        return None
    return _too_deep(_TURTLE_TOKENS, "[(", "])", text, limit)


def yaml_too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """The 1-based line where YAML `text` first nests collections deeper than `limit`, or None.

    YAML nests by indentation as well as by brackets, so this follows PyYAML's own event
    stream, which its parser produces without recursion; only the composer, which builds the
    Python objects, recurses. Raises `yaml.YAMLError` for malformed YAML.
    """
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limit:
                mark = event.start_mark
                return (mark.line + 1) if mark is not None else 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None
