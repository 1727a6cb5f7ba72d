"""The dynamisch werkboek over HTTP: `/api/werkboek` (the book as JSON, `/api/werkboek/editions`
the edition log) and `/werkboek.{pdf,docx,md,html}` (downloads; the page itself is `/werkboek`
in `api/web/pages.py`).

Building the book reads the store and rendering a PDF takes about a second, so the handlers are
plain `def` (thread pool) and rendered files are kept per graph generation, scope and format.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.deps import KnowledgeBaseDep
from api.error_handlers import error_responses
from api.knowledgebase import KnowledgeBase
from api.werkboek.render import FORMAT_MEDIA_TYPES, render
from kg.werkboek import Werkboek, WerkboekScope

router = APIRouter(tags=["werkboek"])
RENDERED_KEPT = 12
_lock = threading.Lock()
Werf = Annotated[str, Query(max_length=40, description="Only this LEKP werf (`werf-2`).")]
Theme = Annotated[str, Query(max_length=80, description="Only this theme (notation, "
                                                         "e.g. `renovatie`).")]
Municipality = Annotated[str, Query(max_length=80, description="Only the drempels met in this "
                                    "municipality (name or NIS code).")]


def scope_of(werf: str, theme: str, municipality: str) -> WerkboekScope:
    return WerkboekScope(werf=werf.strip(), theme=theme.strip(),
                         municipality=municipality.strip())


def file_name(scope: WerkboekScope, fmt: str) -> str:
    """`werkboek.pdf`, or `werkboek-werf-2.pdf` for a partial werkboek (ASCII only)."""
    parts = [p for p in (scope.werf, scope.theme, scope.municipality) if p]
    suffix = "".join(c if c.isascii() and (c.isalnum() or c == "-") else "-"
                     for c in "-".join(parts).lower())
    return f"werkboek{'-' + suffix if suffix else ''}.{fmt}"


def rendered(request: Request, kb: KnowledgeBase, scope: WerkboekScope, fmt: str) -> bytes:
    """The werkboek as `fmt`, rendered once per generation, scope, format and day (kept on
    the app: one cache per knowledge base)."""
    today = dt.date.today().isoformat()
    key = (kb.store.generation, scope, fmt, today)
    with _lock:
        kept: dict[tuple[int, WerkboekScope, str, str], bytes] = getattr(
            request.app.state, "werkboek_files", {})
        request.app.state.werkboek_files = kept
        cached = kept.get(key)
    if cached is None:
        cached = render(kb.werkboek(scope), fmt)
        with _lock:
            if len(kept) >= RENDERED_KEPT:
                kept.clear()
            kept[key] = cached
    return cached


@router.get("/api/werkboek", response_model=Werkboek, summary="The dynamisch werkboek",
            responses=error_responses(400, 422))
def werkboek_json(kb: KnowledgeBaseDep, werf: Werf = "", theme: Theme = "",
                  municipality: Municipality = "") -> Werkboek:
    """The werkboek as data: LEKP werf → theme → drempel, per drempel where it occurs, the
    breakthroughs that overcame it (with measures, actors, places and the lessons behind them),
    its measures and lessons with their sources; the open drempels; indexes of measures, actors
    and wijken; the edition it reflects and what changed since the edition before. Unknown
    werf, theme or municipality: 400 naming the known values."""
    return kb.werkboek(scope_of(werf, theme, municipality))


@router.get("/api/werkboek/editions", summary="The werkboek's edition log",
            responses=error_responses(500))
def werkboek_editions(kb: KnowledgeBaseDep) -> list[dict[str, object]]:
    """Every edition, oldest first: number, issued, store generation, record count, and the
    records added, changed and removed since the edition before."""
    return kb.editions()


@router.get(
    "/werkboek.{fmt}", summary="Download the werkboek",
    responses={**error_responses(400, 404, 422), 200: {"content": {
        m.split(";")[0]: {} for m in FORMAT_MEDIA_TYPES.values()},
        "description": "PDF, DOCX, Markdown or HTML."}},
)
def werkboek_download(request: Request, kb: KnowledgeBaseDep,
                      fmt: Annotated[str, Path(pattern="^(pdf|docx|md|html)$",
                                               description="pdf, docx, md or html.")],
                      werf: Werf = "", theme: Theme = "",
                      municipality: Municipality = "") -> Response:
    """The werkboek (or a partial werkboek) as a file: PDF with a table of contents and page
    numbers, DOCX to edit, Markdown, or one HTML document."""
    scope = scope_of(werf, theme, municipality)
    return Response(rendered(request, kb, scope, fmt), media_type=FORMAT_MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{file_name(scope, fmt)}"'})
