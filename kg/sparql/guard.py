"""Checks a SPARQL query or update must pass before any engine sees it.

Three things are refused here, each with a clear error, before Oxigraph parses the text:

* **Operations that fetch a URL** (``SERVICE``, ``LOAD``). Oxigraph, the engine that runs the
  query, does not expose its parse tree to Python, and another parser (rdflib's) disagrees with
  it exactly where it matters: Oxigraph reads ``1SERVICE`` as ``1`` + ``SERVICE``, ``load:x`` as
  ``LOAD :x`` and ``service:x { … }`` as ``SERVICE :x { … }``, where rdflib sees a syntax error
  or a prefixed name. So the rule is *conservative by construction*: the text is cut into the
  tokens whose insides can never be keywords — strings, comments, IRIs, and the parts of
  variables, language tags, blank-node labels and local names that follow an ASCII letter,
  digit or underscore of the same token — and every other stretch of letters, wherever it
  stands, glued to a number, a keyword or a prefix, is searched for the two words (after Unicode
  case folding). Whatever Oxigraph would read as one of the keywords contains it. The price is
  that a prefix such as ``service:`` or a variable written ``?x·service`` is refused too.
  Behind this rule, query workers run with network sockets denied by the kernel
  (`kg.sandbox`), so no form of a query can connect out even if the rule had a gap.
* **Nesting deeper than a limit** (braces, parentheses, brackets): Oxigraph's recursive parser
  would exhaust the stack and kill the process. Brackets in strings and comments do not count;
  opening brackets inside an IRI-shaped token do (so a ``<((((…`` that Oxigraph reads as a
  less-than operator cannot slip by), closing ones there do not.
* **Characters that XML 1.0 cannot carry**, in updates only (NUL and other C0 controls, raw or
  as ``\\b``/``\\f``/``\\u0000`` escapes in strings): they would make every SPARQL XML and RDF/XML
  answer ill-formed. A query may still compute such a string; the XML writers refuse it then.

The same scan reports the query form (``SELECT``/``ASK`` or ``CONSTRUCT``/``DESCRIBE``) for
content negotiation, and the bare keywords (to know whether ``FROM`` chooses the dataset).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.errors import ForbiddenQueryError, UserError
from kg.xmlchars import xml_forbidden_char

FETCHING_KEYWORDS = ("SERVICE", "LOAD")
QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})
DEFAULT_MAX_NESTING = 128
"""Oxigraph parses 2,000 nested groups on an 8 MB thread stack and crashes at about 5,000."""

_NAME_START = r"A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF" \
              r"\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD" \
              r"\U00010000-\U000EFFFF"
_NAME = _NAME_START + r"_0-9\u00B7\u0300-\u036F\u203F-\u2040"
_LOCAL_ESCAPE = r"\\[_~.\-!$&'()*+,;=/?#@%]|%[0-9A-Fa-f]{2}"

# Order matters: long string delimiters before short ones, IRIs before the `<` operator,
# prefixed names before bare words. Groups ending in `_masked` hold text that cannot be a
# keyword except after a character that is not an ASCII letter, digit or underscore.
_TOKEN = re.compile(
    rf"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*(?:'''|$)
               |\"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|$)
               |'(?:[^'\\\n\r]|\\.)*'?
               |"(?:[^"\\\n\r]|\\.)*"?)
    | (?P<iri><[^<>"{{}}|^`\\\x00-\x20]*>)
    | (?P<lang_masked>@[A-Za-z0-9\-]+)
    | (?P<var_masked>[?$][{_NAME}]+)
    | (?P<bnode_masked>_:[{_NAME}.\-]*)
    | (?P<prefix>[{_NAME}.\-]*):(?P<local_masked>(?:[{_NAME}.\-:]|{_LOCAL_ESCAPE})*)
    | (?P<word>[{_NAME}\-]+)
    | (?P<escape>\\.)
    | (?P<open>[{{(\[])
    | (?P<close>[}})\]])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_ASCII_NAME_CHAR = re.compile(r"[A-Za-z0-9_]")
_STRING_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_FORBIDDEN_WORDS = tuple(w.casefold() for w in FETCHING_KEYWORDS)


@dataclass(frozen=True)
class SparqlShape:
    """What the endpoint needs to know about a query or update before running it."""

    form: str | None
    """`SELECT`, `CONSTRUCT`, `DESCRIBE` or `ASK` (the first one at token level), else None."""
    keywords: frozenset[str]
    """Every bare word (upper-cased) outside strings, IRIs, names and comments."""
    depth: int = 0
    """The deepest nesting of `{`, `(` and `[` (see the module docstring for what counts)."""
    fetching: tuple[str, ...] = ()
    """The fetching keywords found (`SERVICE`, `LOAD`), in the order of `FETCHING_KEYWORDS`."""


def decode_codepoints(text: str) -> str:
    """Decode `\\uXXXX` and `\\UXXXXXXXX` escapes (SPARQL 1.1 §19.2)."""
    if "\\u" not in text and "\\U" not in text:
        return text
    return _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def _fetching_in(text: str, found: set[str]) -> None:
    folded = text.casefold()
    for word, keyword in zip(_FORBIDDEN_WORDS, FETCHING_KEYWORDS, strict=True):
        if word in folded:
            found.add(keyword)


def _fetching_in_masked(token: str, found: set[str]) -> None:
    """A word inside a variable, label or local name counts only where it does not follow an
    ASCII letter, digit or underscore: no reading of the token can split it there."""
    folded = token.casefold()
    for word, keyword in zip(_FORBIDDEN_WORDS, FETCHING_KEYWORDS, strict=True):
        start = folded.find(word, 1)
        while start != -1:
            if not _ASCII_NAME_CHAR.match(folded[start - 1]):
                found.add(keyword)
                break
            start = folded.find(word, start + 1)


def _scan(text: str) -> SparqlShape:
    words: list[str] = []
    fetching: set[str] = set()
    depth = deepest = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "word":
            word = match.group("word")
            words.append(word.upper())
            _fetching_in(word, fetching)
        elif kind == "local_masked":
            _fetching_in(match.group("prefix"), fetching)
            _fetching_in_masked(match.group("local_masked"), fetching)
        elif kind in ("var_masked", "lang_masked"):
            _fetching_in_masked(match.group(kind)[1:], fetching)  # after the ? $ @ sigil
        elif kind == "bnode_masked":
            _fetching_in_masked(match.group(kind)[2:], fetching)  # after `_:`
        elif kind == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "iri":
            # Oxigraph may read this as `<` and code: its opening brackets count as nesting.
            inner = match.group("iri")
            deepest = max(deepest, depth + inner.count("(") + inner.count("["))
    form = next((w for w in words if w in QUERY_FORMS), None)
    return SparqlShape(
        form=form,
        keywords=frozenset(words),
        depth=deepest,
        fetching=tuple(k for k in FETCHING_KEYWORDS if k in fetching),
    )


def shape(text: str) -> SparqlShape:
    """Scan a query or update: its form, keywords, nesting depth and fetching keywords.

    The text is scanned as written and, if it has codepoint escapes, decoded as well (Oxigraph
    decodes them only in strings, a parser that follows §19.2 everywhere): both readings count.
    """
    found = _scan(text)
    decoded = decode_codepoints(text)
    if decoded is text:
        return found
    other = _scan(decoded)
    return SparqlShape(
        form=found.form or other.form,
        keywords=found.keywords | other.keywords,
        depth=max(found.depth, other.depth),
        fetching=tuple(k for k in FETCHING_KEYWORDS
                       if k in found.fetching or k in other.fetching),
    )


def _check(text: str, max_depth: int) -> SparqlShape:
    found = shape(text)
    if found.fetching:
        names = " and ".join(found.fetching)
        raise ForbiddenQueryError(
            f"{names} {'is' if len(found.fetching) == 1 else 'are'} not allowed: this endpoint "
            "never fetches remote data (federated queries and LOAD are refused, and so is a "
            f"prefix, name or word that contains {names.lower()})"
        )
    if found.depth > max_depth:
        raise UserError(
            f"the query nests brackets {found.depth} levels deep; at most {max_depth} are allowed"
        )
    return found


def check_query(text: str, *, max_depth: int = DEFAULT_MAX_NESTING) -> SparqlShape:
    """The shape of a query; raises ForbiddenQueryError (403) if it could fetch a URL and
    UserError (400) if it nests deeper than `max_depth`."""
    return _check(text, max_depth)


def check_update(text: str, *, max_depth: int = DEFAULT_MAX_NESTING) -> SparqlShape:
    """Like :func:`check_query`, and refuses characters that XML 1.0 cannot carry (400)."""
    found = _check(text, max_depth)
    decoded = decode_codepoints(text)
    bad = xml_forbidden_char(text) or xml_forbidden_char(decoded)
    if bad is None:
        for match in _TOKEN.finditer(decoded):
            if match.lastgroup == "string":
                # escapes are read pairwise, so in `\\b` the b is a plain letter
                escapes = _STRING_ESCAPE.findall(match.group("string"))
                bad = next(({"b": "\b", "f": "\f"}[e] for e in escapes if e in "bf"), None)
                if bad is not None:
                    break
    if bad is not None:
        raise UserError(
            f"the update writes the control character U+{ord(bad):04X}, which RDF/XML and "
            "SPARQL XML results cannot carry"
        )
    return found
