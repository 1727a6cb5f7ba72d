"""The web security policy in one place: response headers (CSP and friends) and which URLs a
page may turn into a link.

Records come from harvests and SPARQL updates, so any IRI in the graph may be hostile
(`javascript:alert(1)` is a valid IRI). Pages therefore link only `http`/`https` URLs and the
site's own relative paths (`safe_href`), and the Content-Security-Policy forbids inline script,
so even a link that slipped through could not run code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

# The <style> elements the vendored libraries insert, each a fixed text (a test checks that the
# vendored files still hold them). They are allowed by hash, so `style-src` needs no
# 'unsafe-inline': cytoscape's container rule, and the column resizer of YASGUI's result table
# (its rules, and the cursor while a column is dragged).
VENDOR_INLINE_STYLES = (
    ".__________cytoscape_container { position: relative; }",
    " .grip-resizable{table-layout:fixed;} .grip-resizable > tbody > tr > td, .grip-resizable > "
    "tbody > tr > th{overflow:hidden} .grip-padding > tbody > tr > td, .grip-padding > tbody > "
    "tr > th{padding-left:0!important; padding-right:0!important;} .grip-container{ height:0px; "
    "position:relative;} .grip-handle{margin-left:-5px; position:absolute; z-index:5; } "
    ".grip-handle .grip-resizable{position:absolute;background-color:red;filter:alpha(opacity=1);"
    "opacity:0;width:10px;height:100%;cursor: col-resize;top:0px} .grip-lastgrip{position:"
    "absolute; width:1px; } .grip-drag{ border-left:1px dotted black;\t} .grip-flex{width:auto!"
    "important;} .grip-handle.grip-disabledgrip .grip-resizable{cursor:default; display:none;}",
    "*{cursor:col-resize!important}",
)


def csp_hash(text: str) -> str:
    """The CSP source expression that allows exactly this inline text."""
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


# No inline script, no plugins, no framing, nothing loaded from other hosts. Styles: our
# stylesheets (kind colours are classes, not style attributes) and the vendored libraries'
# fixed <style> elements above; style changes made from script through the CSSOM (cytoscape,
# YASGUI, Swagger UI position their parts so) are not inline styles and need no permission.
# Images and fonts also as data: URIs (the vendored stylesheets embed their icons that way).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    " ".join(["style-src 'self'", *map(csp_hash, VENDOR_INLINE_STYLES)]),
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP level 2
}
_RAW_HEADERS = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in SECURITY_HEADERS.items()]

# Browsers drop tabs and newlines anywhere in a URL and trim spaces and control characters at
# its ends ("java\nscript:" is "javascript:"); a URL holding any of them is never linked.
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
LINKABLE_SCHEMES = frozenset({"http", "https"})


def safe_href(url: object) -> str | None:
    """`url` if a page may link it, else None (the caller shows it as text).

    Linkable: absolute `http`/`https` URLs with a host, and references without a scheme that
    stay on this site (`/id/…`, `?format=ttl`, `#anchor`). Not linkable: every other scheme
    (`javascript:`, `data:`, `vbscript:`, `file:`…), network-path references (`//host/…`, which
    leave the site), backslashes (browsers read `/\\host` as `//host`) and control characters
    or spaces anywhere.
    """
    if not isinstance(url, str) or not url or _CONTROL_OR_SPACE.search(url) or "\\" in url:
        return None
    scheme = _SCHEME.match(url)
    if scheme is None:
        return None if url.startswith("//") else url
    if scheme.group(1).lower() not in LINKABLE_SCHEMES:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return None
    return url if url[scheme.end():].startswith("//") and parts.hostname else None


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Raw ASGI headers plus every security header they do not already have."""
    raw = list(headers or [])
    present = {k.lower() for k, _ in raw}
    return raw + [(k, v) for k, v in _RAW_HEADERS if k not in present]


# -- the curators' password --------------------------------------------------------------------

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # about 50 ms and 16 MB per check here


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$hash` (base64) of a password: what `curator_password_hash` holds."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=32)
    b64 = base64.urlsafe_b64encode
    return (f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}$"
            f"{b64(digest).decode()}")


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a `hash_password` string (False for a malformed one)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(p.isdigit() for p in parts[1:4]):
        return False
    n, r, p = (int(x) for x in parts[1:4])
    if n > 2**20 or r > 32 or p > 16:  # a hash that would cost the server too much
        return False
    try:
        salt = base64.urlsafe_b64decode(parts[4])
        expected = base64.urlsafe_b64decode(parts[5])
        digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p,
                                dklen=len(expected), maxmem=256 * 1024 * 1024)
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)
