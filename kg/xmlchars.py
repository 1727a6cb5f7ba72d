"""The characters XML 1.0 forbids, which no string in the store may hold.

A literal with such a character makes every XML result ill-formed (SPARQL XML results, RDF/XML)
and a NUL upsets many tools downstream, so ingest (and any other way in, such as SPARQL updates)
refuses them with the same rule. XML 1.0 allows TAB, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD and
U+10000–U+10FFFF; everything else is refused: the other C0 controls, lone surrogates (JSON
`"\\ud800"` decodes to one) and U+FFFE, U+FFFF.
"""

from __future__ import annotations

import re

__all__ = ["XML_FORBIDDEN", "escape_xml_forbidden", "xml_forbidden_char",
           "xml_forbidden_message"]

XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_forbidden_char(text: str) -> str | None:
    """The first character of `text` that XML 1.0 does not allow, or None."""
    found = XML_FORBIDDEN.search(text)
    return found.group() if found else None


def xml_forbidden_message(char: str) -> str:
    """The user-facing message for a forbidden character: names it by its code point."""
    kind = "control character" if ord(char) < 0x20 else "character"
    return f"{kind} U+{ord(char):04X} is not allowed"


def escape_xml_forbidden(text: str) -> str:
    """`text` with every forbidden character written as `\\uXXXX`, safe to print in a message."""
    return XML_FORBIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
