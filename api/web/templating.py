"""Jinja2 templates of the web interface: where they live, the helpers every page uses (type
badges and colours, links to records and URLs, Markdown) and the one call that renders a page.

Every URL that comes from data (an IRI, a record's `url`, a computed link) is written into a
page through `link()`, which links it only when `api.security.safe_href` allows it and shows
it as text otherwise; `tests/web/test_web_security.py` checks the templates for hrefs that
bypass it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape

from api.iri_paths import IriPaths
from api.security import safe_href
from ontology.namespaces import DEFAULT_BASE_IRI, MUNICIPALITY_ROOT, item_iri

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
SITE_NAME = "100 WIJKEN kennisgraaf"

# kind -> (Dutch label, colour). White text on these colours meets WCAG AA (≥ 4.5:1); the
# graph view uses the same colours, so the legend and the badges agree.
KINDS: dict[str, tuple[str, str]] = {
    "lesson": ("les", "#1d5ba3"),
    "threshold": ("drempel", "#b3261e"),
    "measure": ("maatregel", "#2e6b30"),
    "breakthrough": ("doorbraak", "#6f3a99"),
    "neighbourhood": ("wijk", "#8a4b00"),
    "actor": ("actor", "#00695c"),
    "activity": ("activiteit", "#6d4c41"),
    "document": ("brondocument", "#455a64"),
    "concept": ("begrip", "#5b5b5b"),
    "municipality": ("gemeente", "#37474f"),
    "resource": ("bron", "#616161"),
}
_HEADING = re.compile(r"^h([1-6])$")


def kind_label(kind: str | None) -> str:
    """The Dutch name of a record type or other kind of resource."""
    return KINDS.get(kind or "resource", KINDS["resource"])[0]


def kind_colour(kind: str | None) -> str:
    """The colour of a kind in badges and the graph view."""
    return KINDS.get(kind or "resource", KINDS["resource"])[1]


def kind_key(kind: str | None) -> str:
    """The kind as the `data-kind` attribute that gives an element its colour (`--kind`, set
    per kind in wijken.css): an attribute and not a style, because the CSP allows no inline
    styles."""
    return kind if kind in KINDS else "resource"


def link(url: str | None, text: Any, **attrs: Any) -> Markup:
    """`<a href="url">text</a>` when `url` may be linked (`safe_href`), else the text alone in
    a `<span>` (with the URL as its title, so it can still be read and copied). `attrs` become
    attributes of the element (`class_` for `class`, `aria_label` for `aria-label`)."""
    href = safe_href(url)
    names = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items() if v is not None}
    if href is None:
        names = {**names, "class": " ".join(filter(None, [names.get("class"), "unlinked"])),
                 "title": url or None}
    rendered = "".join(f' {name}="{escape(value)}"' for name, value in names.items()
                       if value is not None)
    if href is None:
        return Markup(f"<span{rendered}>{escape(text)}</span>")
    return Markup(f'<a href="{escape(href)}"{rendered}>{escape(text)}</a>')


@cache
def _markdown() -> MarkdownIt:
    # Raw HTML in record texts is escaped, never passed through (records come from harvests).
    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    # Links and images in record texts follow the pages' link policy: a refused URL leaves
    # the Markdown as text. (markdown-it-py documents overriding the method on the instance.)
    md.validateLink = lambda url: safe_href(url) is not None  # type: ignore[method-assign]

    def heading(renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict,
                env: EnvType) -> str:
        # Record texts start at `#`; the page already has its h1, so shift them two levels.
        token = tokens[idx]
        match = _HEADING.match(token.tag)
        if match:
            token.tag = f"h{min(6, int(match.group(1)) + 2)}"
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("heading_open", heading)
    md.add_render_rule("heading_close", heading)
    return md


def markdown(text: str | None) -> Markup:
    """A record's text (Markdown or plain) as safe HTML, headings below the page's h1/h2."""
    if not text:
        return Markup("")
    return Markup(_markdown().render(text))  # raw HTML is escaped by the parser (above)


def municipality_search_url(iri_or_nis: str) -> str:
    """Municipalities are not served here: their links open the search filtered on them."""
    nis = iri_or_nis.removeprefix(MUNICIPALITY_ROOT)
    return "/?" + urlencode({"municipality": nis})


class Links:
    """Local links to records for one base IRI (records are served at their IRI's path)."""

    def __init__(self, base_iri: str) -> None:
        self.base_iri = base_iri
        self.paths = IriPaths(base_iri)

    def href(self, iri: str, kind: str | None = None) -> str | None:
        """Where a link to `iri` should go on this server (or the IRI itself); None when
        neither may be linked (`safe_href`: a `javascript:` IRI, say)."""
        if kind == "municipality" or iri.startswith(MUNICIPALITY_ROOT):
            return municipality_search_url(iri)
        return safe_href(self.paths.path_for(iri)) or safe_href(iri)

    def record(self, record_type: str, record_id: str) -> str | None:
        """The local page of a record."""
        return self.href(item_iri(self.base_iri, record_type, record_id))


@cache
def templates() -> Jinja2Templates:
    """The shared template environment (built once)."""
    env = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env.env.globals.update(site_name=SITE_NAME, kind_label=kind_label, kind_colour=kind_colour,
                           kind_key=kind_key, kinds=KINDS, link=link)
    env.env.filters["markdown"] = markdown
    return env


def render(request: Request, name: str, context: dict[str, Any], *,
           status_code: int = 200) -> HTMLResponse:
    """Render a page template; every page gets `links` for record URLs and the current path."""
    settings = getattr(request.app.state, "settings", None)
    base_iri = settings.base_iri if settings is not None else DEFAULT_BASE_IRI
    context = {"links": Links(base_iri), "current": request.url.path, **context}
    response: HTMLResponse = templates().TemplateResponse(request, name, context,
                                                          status_code=status_code)
    return response
