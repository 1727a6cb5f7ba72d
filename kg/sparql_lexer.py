"""A small SPARQL tokenizer that finds keywords outside strings, IRIs and comments.

The endpoint uses it to refuse operations that fetch URLs (``SERVICE``, ``LOAD``) and to learn
a query's form (``SELECT``/``ASK`` or ``CONSTRUCT``/``DESCRIBE``) before content negotiation. A
substring test on the raw text would refuse ``"LOAD"`` in a string or ``ex:service``, and miss
nothing a tokenizer catches; a full parser (rdflib's pyparsing grammar) costs tens of
milliseconds per query and disagrees with Oxigraph on SPARQL 1.2 syntax. Syntax errors are left to
Oxigraph, whose message the user then sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.errors import ForbiddenQueryError

# Keywords that make Oxigraph open a network connection (checked: SERVICE and LOAD both resolve
# the host name; FROM / FROM NAMED / USING only select graphs already in the store).
FETCHING_KEYWORDS = frozenset({"SERVICE", "LOAD"})
QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})

# Order matters: longer string delimiters before shorter ones, IRIs before the `<` operator.
_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*(?:'''|$)
               |\"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|$)
               |'(?:[^'\\\n\r]|\\.)*'?
               |"(?:[^"\\\n\r]|\\.)*"?)
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
    | (?P<pname>(?:[^\W\d][\w\-.\u00B7]*)?:(?:[\w\-.:%\u00B7]|\\.)*)
    | (?P<word>[^\W\d]\w*)
    | (?P<number>\d[\w.]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


@dataclass(frozen=True)
class SparqlShape:
    """What the endpoint needs to know about a query or update before running it."""

    form: str | None
    """`SELECT`, `CONSTRUCT`, `DESCRIBE` or `ASK` (the first one at token level), else None."""
    keywords: frozenset[str]
    """Every bare keyword (upper-cased) outside strings, IRIs, prefixed names and comments."""


def keywords(text: str) -> list[str]:
    """The bare words of a SPARQL text in order, upper-cased; prefixed names are left out."""
    words: list[str] = []
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "word":
            words.append(match.group("word").upper())
    return words


def shape(text: str) -> SparqlShape:
    """Tokenize a query or update and report its form and keywords.

    SPARQL allows ``\\uXXXX`` escapes anywhere (SPARQL 1.1 §19.2). Oxigraph only decodes them in
    strings, but the escaped text is tokenized as well, so a parser that decodes them first
    could not be tricked into a hidden ``SERVICE`` either.
    """
    words = keywords(text)
    if _CODEPOINT.search(text):
        decoded = _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
        words += keywords(decoded)
    form = next((w for w in words if w in QUERY_FORMS), None)
    return SparqlShape(form=form, keywords=frozenset(words))


def check_safe(text: str) -> SparqlShape:
    """The shape of a query or update; raises ForbiddenQueryError if it would fetch a URL."""
    found = shape(text)
    forbidden = sorted(found.keywords & FETCHING_KEYWORDS)
    if forbidden:
        raise ForbiddenQueryError(
            f"{' and '.join(forbidden)} {'is' if len(forbidden) == 1 else 'are'} not allowed: "
            "this endpoint never fetches remote data (federated queries and LOAD are refused)"
        )
    return found
