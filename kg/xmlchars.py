"""The characters XML 1.0 forbids, which no string in the store may hold.

A literal with such a character makes every XML result ill-formed (SPARQL XML results, RDF/XML)
and a NUL upsets many tools downstream, so ingest (and any other way in, such as SPARQL updates)
refuses them with the same rule. XML 1.0 allows TAB, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD and
U+10000–U+10FFFF; everything else is refused: the other C0 controls, lone surrogates (JSON
`"\\ud800"` decodes to one) and U+FFFE, U+FFFF.
"""

from __future__ import annotations

import re

__all__ = [
    "XML_FORBIDDEN",
    "escape_xml_forbidden",
    "xml_forbidden_char",
    "xml_forbidden_in_utf8",
    "xml_forbidden_message",
    "xml_unacceptable",
]

XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_forbidden_char(text: str) -> str | None:
    """The first character of `text` that XML 1.0 does not allow, or None."""
    found = XML_FORBIDDEN.search(text)
    return found.group() if found else None


# The same set in UTF-8 bytes, to check a serialised document without decoding it (surrogates
# cannot occur in valid UTF-8).
_XML_FORBIDDEN_UTF8 = re.compile(b"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def xml_forbidden_in_utf8(data: bytes) -> str | None:
    """The first character XML 1.0 does not allow in UTF-8 `data`, or None."""
    found = _XML_FORBIDDEN_UTF8.search(data)
    return found.group().decode("utf-8") if found else None


def xml_forbidden_message(char: str) -> str:
    """The user-facing message for a forbidden character: names it by its code point."""
    kind = "control character" if ord(char) < 0x20 else "character"
    return f"{kind} U+{ord(char):04X} is not allowed"


def escape_xml_forbidden(text: str) -> str:
    """`text` with every forbidden character written as `\\uXXXX`, safe to print in a message."""
    return XML_FORBIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def xml_unacceptable(char: str) -> str:
    """Why an XML answer cannot be given (the caller answers 406 with it)."""
    return (f"the result holds the character U+{ord(char):04X}, which XML cannot carry; ask for "
            "JSON, CSV, TSV, Turtle or N-Triples instead")
