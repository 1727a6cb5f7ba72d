"""The Dutch web pages: search (`/`), the overview (`/overzicht`), the drempel signals
(`/signalen`), the neighbourhoods (`/wijken`), the dynamisch werkboek (`/werkboek`) and the
SPARQL editor (`/editor`). Record pages are the HTML form of each IRI
(`api/web/ld_html.py`).

Pages are server-rendered (Jinja2) and work without JavaScript; the search form is a GET form,
so a question with its filters is a shareable URL. Search, the store and the index block:
the handlers are plain `def` and run in the thread pool.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import KnowledgeBaseDep
from api.sparql.examples import DEFAULT_EXAMPLE, EXAMPLES
from api.web.facets import FACETS, facet_counts, parse_filters, passes
from api.web.templating import render
from api.werkboek.render import werkboek_context
from kg.errors import SearchIndexError, UserError
from kg.overview import build_overview
from kg.signals import SignalFilters, signal_options
from kg.werkboek import WerkboekScope
from search.engine import MAX_K, MAX_QUERY_CHARS

router = APIRouter(tags=["web"], include_in_schema=False)
PAGE_SIZE = 10
EXAMPLE_QUESTIONS = (
    "Hoe helpen we eigenaars die hun renovatie niet kunnen voorfinancieren?",
    "hittestress en te weinig schaduw in de straat",
    "businesscase van een warmtenet in een bestaande wijk",
    "een hoppinpunt in de wijk",
    "kwetsbare bewoners bereiken",
)


def _page_size(raw: str | None) -> int:
    try:
        return max(1, min(MAX_K, int(raw or PAGE_SIZE)))
    except ValueError:
        return PAGE_SIZE


def _url(query: str, filters: dict[str, list[str]], **extra: Any) -> str:
    params: list[tuple[str, Any]] = [("q", query)] if query else []
    params += [(name, value) for name, values in filters.items() for value in values]
    params += [(k, v) for k, v in extra.items() if v is not None]
    return "/?" + urlencode(params) if params else "/"


@router.get("/", response_class=HTMLResponse, name="search_page")
def search_page(request: Request, kb: KnowledgeBaseDep) -> HTMLResponse:
    """Search: one box, results with context and explanation, facet filters with counts."""
    query = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY_CHARS]
    k = _page_size(request.query_params.get("k"))
    selected = parse_filters(request.query_params.multi_items())
    context: dict[str, Any] = {"query": query, "k": k, "selected": selected, "facets": [],
                               "result": None, "browse": None, "error": None,
                               "examples": EXAMPLE_QUESTIONS, "facet_labels": FACETS}
    status = 200
    try:
        docs = kb.search_engine.documents()
        context["facets"] = facet_counts(docs.values(), selected)
        context["total"] = len(docs)
        if query:
            filters = {name: ",".join(values) for name, values in selected.items()}
            context["result"] = kb.search(query, k=k, filters=filters)
        elif selected:
            found = sorted((d for d in docs.values() if passes(d, selected)),
                           key=lambda d: (d.type, d.title.lower()))
            context["browse"] = {"count": len(found), "docs": found[:k]}
    except (UserError, SearchIndexError) as exc:
        context["error"] = str(exc)
        status = exc.status
    # Links that keep the question and drop one filter value, or show more hits.
    context["remove_links"] = [
        (name, value, _url(query, {n: [v for v in vs if (n, v) != (name, value)]
                                   for n, vs in selected.items()}))
        for name, values in selected.items() for value in values]
    context["more_url"] = _url(query, selected, k=min(MAX_K, k + PAGE_SIZE)) \
        if k < MAX_K else None
    context["clear_url"] = _url(query, {})
    # "Bedoelt u …?": links that add a filter the question seems to ask for.
    result = context["result"]
    context["suggestion_links"] = [] if result is None else [
        (s.label, _url(query, {**selected, s.filter: sorted(
            set(selected.get(s.filter, [])) | set(s.value.split(",")))}))
        for s in result.suggestions]
    return render(request, "search.html", context, status_code=status)


@router.get("/overzicht", response_class=HTMLResponse, name="overview_page")
def overview_page(request: Request, kb: KnowledgeBaseDep) -> HTMLResponse:
    """Counts per record type, per theme and per LEKP werf, with bar charts."""
    return render(request, "overview.html", {"overview": build_overview(kb.store)})


@router.get("/signalen", response_class=HTMLResponse, name="signals_page")
def signals_page(request: Request, kb: KnowledgeBaseDep) -> HTMLResponse:
    """Drempel signals: drempels ranked by how widely they recur, with filters by werf, theme
    and province, and CSV/XLSX downloads of the same table."""
    params = request.query_params
    chosen = {name: " ".join(params.get(name, "").split())[:80]
              for name in ("werf", "theme", "level", "province")}
    context: dict[str, Any] = {"chosen": chosen, "signals": [], "error": None,
                               "options": signal_options(kb.store)}
    status = 200
    try:
        context["signals"] = kb.signals(SignalFilters(**chosen))
    except UserError as exc:
        context["error"] = str(exc)
        status = exc.status
    # The query string of each download (the template writes the path itself).
    context["download"] = {fmt: urlencode({**{k: v for k, v in chosen.items() if v},
                                           "format": fmt}) for fmt in ("csv", "xlsx")}
    return render(request, "signals.html", context, status_code=status)


@router.get("/werkboek", response_class=HTMLResponse, name="werkboek_page")
def werkboek_page(request: Request, kb: KnowledgeBaseDep) -> HTMLResponse:
    """The dynamisch werkboek: werf → theme → drempel, navigable through its table of contents,
    with a partial werkboek per werf, theme or municipality and the downloads (PDF, DOCX,
    Markdown, HTML). Prints as a book (print CSS)."""
    params = request.query_params
    chosen = {name: " ".join(params.get(name, "").split())[:80]
              for name in ("werf", "theme", "municipality")}
    options = signal_options(kb.store)
    places = {(p.id, p.label) for s in kb.signals() for p in s.places}
    context: dict[str, Any] = {
        "chosen": chosen, "error": None, "book": None, "standalone": False,
        "options": {"werf": options["werf"], "theme": options["theme"],
                    "municipality": sorted(places, key=lambda p: p[1])}}
    status = 200
    try:
        book = kb.werkboek(WerkboekScope(**chosen))
        context["book"] = book
        context["ctx"] = werkboek_context(book, dt.datetime.now(dt.UTC))
    except UserError as exc:
        context["error"] = str(exc)
        status = exc.status
    query = urlencode({k: v for k, v in chosen.items() if v})
    context["download_query"] = "?" + query if query else ""
    return render(request, "werkboek.html", context, status_code=status)


@router.get("/wijken", response_class=HTMLResponse, name="neighbourhoods_page")
def neighbourhoods_page(request: Request, kb: KnowledgeBaseDep) -> HTMLResponse:
    """The neighbourhoods side by side, pioneers (koplopers) first: municipality, themes, their
    own lessons, measures and breakthroughs, and the drempels they met and overcame."""
    return render(request, "neighbourhoods.html", {"wijken": kb.compare_neighbourhoods()})


@router.get("/editor", response_class=HTMLResponse, name="sparql_editor")
def sparql_editor(request: Request) -> HTMLResponse:
    """The SPARQL editor (YASGUI) pointed at this server's `/sparql`, with example queries."""
    return render(request, "sparql.html", {
        "examples": EXAMPLES, "default": DEFAULT_EXAMPLE,
        "examples_json": [[ex.key, ex.query] for ex in EXAMPLES]})
