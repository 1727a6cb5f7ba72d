"""The harvest in Dutch web pages: the contribution form (`/bijdragen`), the receipt page
(`/bijdragen/{id}`), the spreadsheet template and upload of a harvest session, and the curators'
pages (`/curatie`: sign in, the queue, approve or reject).

Everything works without JavaScript (`static/bijdragen.js` adds the near-duplicate hints while
typing). Every form carries a CSRF token: the public forms a double-submit cookie
(`wijken_csrf`), the curators' forms a token derived from their session. A curator signs in with
the configured curator token; the session is a signed cookie (HMAC, HttpOnly, SameSite=Strict,
Secure behind https) that expires after `SESSION_HOURS`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.deps import KnowledgeBaseDep, SettingsDep
from api.knowledgebase import KnowledgeBase
from api.routes.contributions import accept_contribution, client_of, limiter
from api.security import verify_password
from api.web.templating import render
from ingest.contributions import CONTRIBUTABLE_TYPES, CONTRIBUTOR_FIELDS, Contribution
from kg.errors import (
    ForbiddenError,
    IngestError,
    NotFoundError,
    PayloadTooLargeError,
    TooManyRequestsError,
    UserError,
    WijkenError,
)
from kg.settings import Settings
from ontology.namespaces import THEME_SCHEME, scheme_iri, sparql_prefixes

router = APIRouter(tags=["web"], include_in_schema=False)
CSRF_COOKIE, SESSION_COOKIE = "wijken_csrf", "wijken_curatie"
SESSION_HOURS = 8
FORM_BYTES = 64_000
SHEET_BYTES = 2_000_000
SHEET_ROWS = 200
TYPE_LABELS = {"lesson": "les", "threshold": "drempel", "measure": "maatregel",
               "breakthrough": "doorbraak"}
LIST_FIELDS = ("themes", "thresholds", "measures", "actors")


# -- CSRF and sessions ----------------------------------------------------------------------

def _secure(settings: Settings) -> bool:
    return settings.public_origin.startswith("https://")


def _csrf_cookie(request: Request) -> str:
    value = request.cookies.get(CSRF_COOKIE, "")
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else ""


def _with_csrf_cookie(response: Response, value: str, settings: Settings) -> Response:
    response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="strict",
                        secure=_secure(settings), path="/")
    return response


def _check_csrf(expected: str, form: FormData) -> None:
    given = str(form.get("csrf") or "")
    if not expected or not given or not hmac.compare_digest(given, expected):
        raise ForbiddenError("the form's security token is missing or expired: reload the page "
                             "and send it again")


def _secret(settings: Settings) -> str | None:
    """What signs the curators in on the site: the token, else the password hash."""
    found = settings.curator_token or settings.curator_password_hash
    return found.get_secret_value() if found is not None else None


def _key(settings: Settings) -> bytes:
    secret = _secret(settings)
    if secret is None:
        raise ForbiddenError("reviewing is off on this server (no curator token or password "
                             "configured)")
    return hmac.new(secret.encode(), b"wijken-curatie-sessie", hashlib.sha256).digest()


def _signs_in(settings: Settings, given: str) -> bool:
    """The curator token, or the password behind `curator_password_hash`."""
    token, password = settings.curator_token, settings.curator_password_hash
    if token is not None and given and hmac.compare_digest(
            given.encode(), token.get_secret_value().encode()):
        return True
    return password is not None and bool(given) and verify_password(
        given, password.get_secret_value())


def _sign(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def _session(request: Request, settings: Settings) -> str | None:
    """The signed-in curator's name, or None."""
    if _secret(settings) is None:
        return None
    raw = request.cookies.get(SESSION_COOKIE, "")
    parts = raw.split(".")
    if len(parts) != 3:
        return None
    name_b64, expiry, signature = parts
    if not hmac.compare_digest(signature, _sign(_key(settings), f"{name_b64}.{expiry}")):
        return None
    if not expiry.isdigit() or int(expiry) < time.time():
        return None
    try:
        return base64.urlsafe_b64decode(name_b64 + "=" * (-len(name_b64) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def _session_csrf(request: Request, settings: Settings) -> str:
    return _sign(_key(settings), "csrf:" + request.cookies.get(SESSION_COOKIE, ""))[:32]


async def _form(request: Request, limit: int) -> FormData:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLargeError(f"a form is at most {limit} bytes")
    try:
        return await request.form(max_files=1, max_fields=200, max_part_size=limit)
    except (ValueError, KeyError) as exc:
        raise UserError(f"the form could not be read: {exc}") from None


# -- the contribution form -------------------------------------------------------------------

def _options(kb: KnowledgeBase) -> dict[str, list[tuple[str, str]]]:
    """The choices of the form, from the graph (kept per graph generation)."""
    p = sparql_prefixes()

    def rows(query: str) -> list[tuple[str, str]]:
        return [(str(r["v"]), str(r["l"])) for r in kb.store.select(p + query)]

    return {
        "themes": rows(f"""SELECT ?v ?l WHERE {{ ?c skos:inScheme <{scheme_iri(THEME_SCHEME)}> ;
            skos:notation ?v ; skos:prefLabel ?l FILTER (lang(?l) = "nl") }} ORDER BY ?l"""),
        "municipality": rows("""SELECT ?v ?l WHERE { ?m a wk:Municipality ; rdfs:label ?l ;
            dct:identifier ?v } ORDER BY ?l"""),
        "neighbourhood": rows("""SELECT ?v ?l WHERE { ?n a wk:Neighbourhood ; dct:identifier ?v ;
            rdfs:label ?l } ORDER BY ?l"""),
        "thresholds": rows("""SELECT ?v ?l WHERE { ?n a wk:Threshold ; dct:identifier ?v ;
            rdfs:label ?l } ORDER BY ?l"""),
        "measures": rows("""SELECT ?v ?l WHERE { ?n a wk:Measure ; dct:identifier ?v ;
            rdfs:label ?l } ORDER BY ?l"""),
        "source": rows("""SELECT ?v ?l WHERE { ?n a wk:Activity ; dct:identifier ?v ;
            rdfs:label ?l } ORDER BY ?l"""),
    }


def options(request: Request, kb: KnowledgeBase) -> dict[str, list[tuple[str, str]]]:
    state = request.app.state
    generation = kb.store.generation
    kept = getattr(state, "contribution_options", None)
    if not kept or kept[0] != generation:
        kept = (generation, _options(kb))
        state.contribution_options = kept
    found: dict[str, list[tuple[str, str]]] = kept[1]
    return found


def _form_page(request: Request, kb: KnowledgeBase, settings: Settings, *,
               values: dict[str, Any] | None = None, problems: list[str] | None = None,
               status: int = 200, sheet_problems: list[str] | None = None) -> Response:
    csrf = _csrf_cookie(request) or secrets.token_hex(16)
    response = render(request, "contribute.html", {
        "values": values or {}, "problems": problems or [], "sheet_problems": sheet_problems
        or [], "options": options(request, kb), "types": TYPE_LABELS, "csrf": csrf,
        "caps": CONTRIBUTOR_FIELDS, "open": settings.contributions}, status_code=status)
    return _with_csrf_cookie(response, csrf, settings)


@router.get("/bijdragen", response_class=HTMLResponse, name="contribute_page")
def contribute_page(request: Request, kb: KnowledgeBaseDep, settings: SettingsDep) -> Response:
    """The form: a les, drempel, maatregel or doorbraak in the record format's fields."""
    return _form_page(request, kb, settings)


def _payload(form: FormData) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for name in [*CONTRIBUTOR_FIELDS, "organisation", "email"]:
        if name in LIST_FIELDS:
            values = [str(v) for v in form.getlist(name) if isinstance(v, str) and v.strip()]
            if values:
                payload[name] = values
        else:
            value = form.get(name)
            if isinstance(value, str) and value.strip():
                payload[name] = value
    return payload


@router.post("/bijdragen", response_class=HTMLResponse, name="contribute_post")
async def contribute_post(request: Request, kb: KnowledgeBaseDep,
                          settings: SettingsDep) -> Response:
    """Check and keep a contribution; on success a redirect to its receipt (303), else the
    form again with every problem and the values as they were."""
    form = await _form(request, FORM_BYTES)
    _check_csrf(_csrf_cookie(request), form)
    payload = _payload(form)
    try:
        c = await run_in_threadpool(accept_contribution, request, kb, settings, payload, "web")
    except IngestError as exc:
        return _form_page(request, kb, settings, values=payload, status=exc.status,
                          problems=[_problem(str(p)) for p in exc.problems])
    except (UserError, TooManyRequestsError, ForbiddenError) as exc:
        return _form_page(request, kb, settings, values=payload, status=exc.status,
                          problems=[str(exc)])
    return RedirectResponse(f"/bijdragen/{c.id}", status_code=303)


def _problem(text: str) -> str:
    """`bijdrage:1: title: is required` as the form shows it: `title: is required`."""
    return text.removeprefix("bijdrage:1: ").removeprefix("bijdrage: ")


@router.get("/bijdragen/sjabloon.xlsx", response_class=HTMLResponse, name="contribution_template")
def contribution_template(kb: KnowledgeBaseDep, request: Request) -> Response:
    """The spreadsheet template of a harvest session: one row per contribution, the record
    format's columns, lists to choose from (types, themes, drempels, activities)."""
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    opts = options(request, kb)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Bijdragen"
    columns = ["type", "title", "text", "themes", "municipality", "neighbourhood",
               "thresholds", "measures", "source", "date"]
    sheet.append(columns)
    sheet.freeze_panes = "A2"
    lists = book.create_sheet("Keuzelijsten")
    for col, (name, values) in enumerate([
            ("type", [(t, t) for t in CONTRIBUTABLE_TYPES]), ("themes", opts["themes"]),
            ("thresholds", opts["thresholds"]), ("measures", opts["measures"]),
            ("source", opts["source"]), ("neighbourhood", opts["neighbourhood"])], start=1):
        letter = chr(64 + col)
        lists.cell(row=1, column=col, value=name)
        for row, (value, _label) in enumerate(values, start=2):
            lists.cell(row=row, column=col, value=value)
        target = chr(65 + columns.index(name))
        rule = DataValidation(type="list", formula1=f"=Keuzelijsten!${letter}$2:${letter}$"
                              f"{max(2, len(values) + 1)}", allow_blank=True,
                              showErrorMessage=name == "type")
        if name in ("themes", "thresholds", "measures"):
            rule.promptTitle = name
            rule.prompt = "Meerdere waarden: scheid ze met |"
            rule.showErrorMessage = False
        sheet.add_data_validation(rule)
        rule.add(f"{target}2:{target}{SHEET_ROWS + 1}")
    for name, width in (("B", 50), ("C", 80), ("D", 30), ("G", 40)):
        sheet.column_dimensions[name].width = width
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), media_type="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet", headers={
                        "Content-Disposition": 'attachment; filename="bijdragen-sjabloon.xlsx"'})


@router.post("/bijdragen/spreadsheet", response_class=HTMLResponse, name="contribute_sheet")
async def contribute_sheet(request: Request, kb: KnowledgeBaseDep,
                           settings: SettingsDep) -> Response:
    """A harvest session's spreadsheet: every row checked first (`file:line: field:
    message`); only when all rows pass are they kept, each as a contribution."""
    form = await _form(request, SHEET_BYTES)
    _check_csrf(_csrf_cookie(request), form)
    upload = form.get("spreadsheet")
    organisation = str(form.get("organisation") or "")
    email = str(form.get("email") or "")
    if not isinstance(upload, UploadFile):
        return _form_page(request, kb, settings, status=400,
                          sheet_problems=["kies een spreadsheet (.xlsx)"])
    name = Path(upload.filename or "bijdragen.xlsx").name
    try:
        data = await upload.read(SHEET_BYTES + 1)
    finally:
        await form.close()
    if len(data) > SHEET_BYTES:
        raise PayloadTooLargeError(f"a spreadsheet is at most {SHEET_BYTES} bytes")
    try:
        made = await run_in_threadpool(_sheet, request, kb, settings, name, data,
                                       organisation, email)
    except IngestError as exc:
        return _form_page(request, kb, settings, status=exc.status,
                          sheet_problems=[str(p) for p in exc.problems])
    except (UserError, TooManyRequestsError, ForbiddenError) as exc:
        return _form_page(request, kb, settings, status=exc.status, sheet_problems=[str(exc)])
    return render(request, "contributed_sheet.html", {"contributions": made, "file": name},
                  status_code=201)


def _sheet(request: Request, kb: KnowledgeBase, settings: Settings, name: str, data: bytes,
           organisation: str, email: str) -> list[Contribution]:
    if not settings.contributions:
        raise ForbiddenError("this server does not accept contributions")
    lines, rows = kb.contributions_from_sheet(name, data)
    if not rows:
        raise UserError(f"{name}: no rows below the header")
    if len(rows) > SHEET_ROWS:
        raise UserError(f"{name}: at most {SHEET_ROWS} rows per spreadsheet")
    limit = limiter(request, settings)
    for _ in rows:  # each row is a contribution
        limit.take(client_of(request))
    meta = {"organisation": organisation, **({"email": email} if email else {})}
    return kb.contribute_batch([{**row, **meta} for row in rows], channel="xlsx", file=name,
                               lines=lines)


@router.get("/bijdragen/{id}", response_class=HTMLResponse, name="contribution_page")
def contribution_page(request: Request, kb: KnowledgeBaseDep, id: str) -> HTMLResponse:
    """The receipt: what was contributed, its status, the reason if rejected, the record once
    approved."""
    try:
        c = kb.inbox.get(id)
    except NotFoundError:
        return render(request, "404.html", {"message": "Deze bijdrage bestaat niet (of het "
                                            "ontvangstbewijs is onvolledig)."}, status_code=404)
    return render(request, "contribution.html", {"c": c, "types": TYPE_LABELS,
                                                 "labels": _labels(request, kb)})


def _labels(request: Request, kb: KnowledgeBase) -> dict[str, str]:
    """Id -> Dutch label of every choice, to show what a contribution links to."""
    return {v: label for values in options(request, kb).values() for v, label in values}


# -- curators --------------------------------------------------------------------------------

@router.get("/curatie", response_class=HTMLResponse, name="curation_page")
def curation_page(request: Request, kb: KnowledgeBaseDep, settings: SettingsDep) -> Response:
    """Signed in: the queue (oldest first) with near-duplicates, proposed links and the forms
    to approve or reject; else the sign-in form."""
    curator = _session(request, settings)
    if curator is None:
        csrf = _csrf_cookie(request) or secrets.token_hex(16)
        response = render(request, "curation_login.html", {
            "csrf": csrf, "enabled": _secret(settings) is not None})
        return _with_csrf_cookie(response, csrf, settings)
    queue = kb.inbox.all("ingediend")
    recent = [c for c in reversed(kb.inbox.all()) if c.status != "ingediend"][:10]
    return render(request, "curation.html", {
        "curator": curator, "queue": [(c, kb.near_duplicates(c)) for c in queue],
        "recent": recent, "csrf": _session_csrf(request, settings), "types": TYPE_LABELS,
        "labels": _labels(request, kb), "done": request.query_params.get("gedaan", "")[:200]})


@router.post("/curatie/aanmelden", response_class=HTMLResponse, name="curation_sign_in")
async def curation_sign_in(request: Request, settings: SettingsDep) -> Response:
    form = await _form(request, 4000)
    _check_csrf(_csrf_cookie(request), form)
    key = _key(settings)
    token = str(form.get("token") or "")[:1000]
    name = " ".join(str(form.get("name") or "").split())[:80] or "curator"
    if not _signs_in(settings, token):
        time.sleep(0.5)  # a guess costs time
        csrf = _csrf_cookie(request)
        return render(request, "curation_login.html", {
            "csrf": csrf, "enabled": True, "error": "Dit token geeft geen toegang."},
            status_code=403)
    name_b64 = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
    expiry = str(int(time.time()) + SESSION_HOURS * 3600)
    value = f"{name_b64}.{expiry}.{_sign(key, f'{name_b64}.{expiry}')}"
    response = RedirectResponse("/curatie", status_code=303)
    response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="strict",
                        secure=_secure(settings), path="/", max_age=SESSION_HOURS * 3600)
    return response


@router.post("/curatie/afmelden", response_class=HTMLResponse, name="curation_sign_out")
async def curation_sign_out(request: Request, settings: SettingsDep) -> Response:
    form = await _form(request, 4000)
    if _session(request, settings) is not None:
        _check_csrf(_session_csrf(request, settings), form)
    response = RedirectResponse("/curatie", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _curator_form(request: Request, settings: Settings) -> tuple[str, FormData]:
    curator = _session(request, settings)
    if curator is None:
        raise ForbiddenError("sign in as a curator first (/curatie)")
    form = await _form(request, FORM_BYTES)
    _check_csrf(_session_csrf(request, settings), form)
    return curator, form


@router.post("/curatie/{id}/goedkeuren", response_class=HTMLResponse, name="curation_approve")
async def curation_approve(request: Request, kb: KnowledgeBaseDep, settings: SettingsDep,
                           id: str) -> Response:
    curator, form = await _curator_form(request, settings)
    edits: dict[str, object] = {k: str(form.get(k)) for k in ("title", "text")
                                if str(form.get(k) or "").strip()}
    try:
        c = await run_in_threadpool(kb.approve_contribution, id, curator=curator,
                                    edits=edits or None)
    except WijkenError as exc:
        return _back(f"niet goedgekeurd: {exc}")
    return _back(f"goedgekeurd: {c.record.get('title', '')}")


@router.post("/curatie/{id}/afwijzen", response_class=HTMLResponse, name="curation_reject")
async def curation_reject(request: Request, kb: KnowledgeBaseDep, settings: SettingsDep,
                          id: str) -> Response:
    curator, form = await _curator_form(request, settings)
    try:
        c = await run_in_threadpool(kb.reject_contribution, id, curator=curator,
                                    reason=str(form.get("reason") or ""))
    except WijkenError as exc:
        return _back(f"niet afgewezen: {exc}")
    return _back(f"afgewezen: {c.record.get('title', '')}")


@router.post("/curatie/{id}/samenvoegen", response_class=HTMLResponse, name="curation_merge")
async def curation_merge(request: Request, kb: KnowledgeBaseDep, settings: SettingsDep,
                         id: str) -> Response:
    curator, form = await _curator_form(request, settings)
    into = " ".join(str(form.get("into") or "").split())[:200]
    try:
        if not into:
            raise UserError("kies het record om mee samen te voegen")
        c = await run_in_threadpool(kb.merge_contribution, id, into=into, curator=curator)
    except WijkenError as exc:
        return _back(f"niet samengevoegd: {exc}")
    return _back(f"samengevoegd in {into}: {c.record.get('title', '')}")


def _back(message: str) -> Response:
    return RedirectResponse("/curatie?" + urlencode({"gedaan": message[:200]}), status_code=303)
