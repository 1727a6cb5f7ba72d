"""The harvest over HTTP: practitioners contribute (`POST /api/contributions`), anyone with the
receipt id sees its status (`GET /api/contributions/{id}`), curators list, approve and reject
(`Authorization: Bearer <WIJKEN_CURATOR_TOKEN>`).

The first public write path of the service, so: a cap on the body (`CONTRIBUTION_BYTES`) and on
every field (`ingest.contributions`), a limit per client address and hour
(`contribution_limit`), the record checked like an ingest before anything is kept, and the
contact e-mail never in an answer.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import KnowledgeBaseDep, SettingsDep
from api.error_handlers import error_responses
from api.knowledgebase import KnowledgeBase
from ingest.contributions import Contribution
from kg.errors import (
    ForbiddenError,
    PayloadTooLargeError,
    TooManyRequestsError,
    UnauthorizedError,
    UserError,
)
from kg.settings import Settings

router = APIRouter(prefix="/api", tags=["contributions"])
CONTRIBUTION_BYTES = 64_000
ContributionId = Annotated[str, Path(max_length=40, description="The receipt id, `b-` and 20 "
                                                                 "hex digits.")]


class Receipt(BaseModel):
    """What a contributor (anyone with the receipt id) sees of a contribution."""

    id: str
    status: str = Field(description="ingediend, gevalideerd or afgewezen.")
    type: str
    title: str
    submitted: str
    receipt: str = Field(description="The receipt page on this site.")
    record_id: str = Field(description="The id the record gets (and keeps) once approved.")
    record: str | None = Field(default=None, description="The record's page, once approved.")
    reason: str | None = Field(default=None, description="The curator's reason, if rejected.")
    merged_into: str | None = Field(default=None, description="The existing record it was "
                                    "merged into, if merged.")
    reviewed: str | None = None


class Duplicate(BaseModel):
    id: str
    title: str
    score: float


class ContributionView(BaseModel):
    """What curators see: the whole contribution (never the e-mail), near-duplicates."""

    id: str
    status: str
    channel: str
    submitted: str
    organisation: str
    has_contact: bool
    record: dict[str, Any]
    review: dict[str, Any] | None = None
    near_duplicates: list[Duplicate] = Field(default_factory=list)


class Decision(BaseModel):
    curator: str = Field(default="curator", max_length=80, description="Who decides (a name "
                         "or role; published with the decision).")
    reason: str | None = Field(default=None, max_length=1000, description="Why (required to "
                               "reject; shown to the contributor).")
    edits: dict[str, Any] | None = Field(default=None, description="Approve: record fields "
                                         "the curator corrects (the contribution's fields).")
    into: str | None = Field(default=None, max_length=200, description="Merge: the id of the "
                             "existing record to merge into.")


def record_page(c: Contribution) -> str | None:
    """The page of the record a contribution became (or was merged into), once decided."""
    if c.status != "gevalideerd" or c.review is None:
        return None
    if c.review.merged_into:
        return f"/id/{c.review.merged_type}/{c.review.merged_into}"
    return f"/id/{c.record_type}/{c.record_id}"


def receipt(kb: KnowledgeBase, c: Contribution) -> Receipt:
    return Receipt(
        id=c.id, status=c.status, type=c.record_type, title=str(c.record.get("title", "")),
        submitted=c.submitted, receipt=f"/bijdragen/{c.id}", record_id=c.record_id,
        record=record_page(c),
        merged_into=c.review.merged_into if c.review else None,
        reason=c.review.reason if c.review and c.status == "afgewezen" else None,
        reviewed=c.review.at if c.review else None)


def view(kb: KnowledgeBase, c: Contribution, *, duplicates: bool = True) -> ContributionView:
    found = kb.near_duplicates(c) if duplicates and c.status == "ingediend" else []
    return ContributionView(
        id=c.id, status=c.status, channel=c.channel, submitted=c.submitted,
        organisation=c.organisation, has_contact=c.has_contact, record=c.record,
        review=c.review.model_dump() if c.review else None,
        near_duplicates=[Duplicate(id=i, title=t, score=s) for i, t, s in found])


class HourlyLimit:
    """At most `limit` events per client address in any hour (a sliding window)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(client, deque())
            while events and now - events[0] >= 3600:
                events.popleft()
            if len(events) >= self.limit:
                wait = int(3600 - (now - events[0])) + 1
                raise TooManyRequestsError(
                    f"at most {self.limit} contributions per hour from one address; try again "
                    f"in {wait // 60 + 1} minutes")
            events.append(now)
            if len(self._events) > 10_000:  # forget idle clients
                for key in [k for k, v in self._events.items() if not v]:
                    del self._events[key]


def limiter(request: Request, settings: Settings) -> HourlyLimit:
    """The app's contribution limiter (one per app, built on first use)."""
    state = request.app.state
    with _state_lock:
        found = getattr(state, "contribution_limit", None)
        if not isinstance(found, HourlyLimit) or found.limit != settings.contribution_limit:
            found = HourlyLimit(settings.contribution_limit)
            state.contribution_limit = found
    return found


_state_lock = threading.Lock()


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def accept_contribution(request: Request, kb: KnowledgeBase, settings: Settings,
                        payload: object, channel: str) -> Contribution:
    """The checks every channel shares: switched on, the client's hourly limit, then the
    contribution itself."""
    if not settings.contributions:
        raise ForbiddenError("this server does not accept contributions")
    limiter(request, settings).take(client_of(request))
    return kb.contribute(payload, channel=channel)


def require_curator(settings: Settings, authorization: str | None) -> None:
    """401 without a Bearer token, 403 with a wrong one or when reviewing is off."""
    if settings.curator_token is None:
        raise ForbiddenError("reviewing is off on this server (no curator token configured)")
    scheme, _, given = (authorization or "").partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        raise UnauthorizedError("curators send the header `Authorization: Bearer <token>`")
    if not secrets.compare_digest(given.encode(),
                                  settings.curator_token.get_secret_value().encode()):
        raise ForbiddenError("this token may not review contributions")


Authorization = Annotated[str | None, Header(description="`Bearer <curator token>`.")]


@router.post(
    "/contributions", status_code=201, response_model=Receipt,
    summary="Contribute a lesson, drempel, measure or breakthrough",
    responses=error_responses(400, 403, 413, 422, 429),
)
async def contribute(request: Request, kb: KnowledgeBaseDep, settings: SettingsDep
                     ) -> JSONResponse:
    """A record in the record format (`type`: lesson, threshold, measure or breakthrough;
    `title`, `text`, `themes`, `municipality`, `neighbourhood`, `thresholds`, `measures`,
    `actors`, `source`, `date`) plus `organisation` (required) and `email` (optional, never
    published). Checked like an ingest: every problem is answered at once (422, with
    `field: message` per problem) and nothing is kept. Accepted: 201 with the receipt; the
    contribution waits, outside the graph, for a curator."""
    body = await request.body()
    if len(body) > CONTRIBUTION_BYTES:
        raise PayloadTooLargeError(f"a contribution is at most {CONTRIBUTION_BYTES} bytes")
    try:
        payload = json.loads(body or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"the body is not JSON: {exc}") from None
    c = await run_in_threadpool(accept_contribution, request, kb, settings, payload, "api")
    answer = receipt(kb, c)
    return JSONResponse(answer.model_dump(), status_code=201,
                        headers={"Location": f"/api/contributions/{c.id}"})


@router.get("/contributions/{id}", response_model=Receipt, summary="A contribution's status",
            responses=error_responses(404, 422))
def contribution_status(kb: KnowledgeBaseDep, id: ContributionId) -> Receipt:
    """The receipt: status (ingediend, gevalideerd, afgewezen), the record's page once
    approved, the reason if rejected. The receipt id is the only key: keep it."""
    return receipt(kb, kb.inbox.get(id))


@router.get("/contributions", response_model=list[ContributionView],
            summary="Contributions to review (curators)",
            responses=error_responses(401, 403, 422))
def contributions(kb: KnowledgeBaseDep, settings: SettingsDep, authorization: Authorization = None,
                  status: Annotated[str, Query(pattern="^(ingediend|gevalideerd|afgewezen|)$",
                                               description="Only this status.")] = "ingediend",
                  ) -> list[ContributionView]:
    """The queue, oldest first: each contribution whole (never the e-mail), with the existing
    records of its type most like it (near-duplicates, from the search index)."""
    require_curator(settings, authorization)
    return [view(kb, c) for c in kb.inbox.all(status or None)]


@router.post("/contributions/{id}/approve", response_model=ContributionView,
             summary="Approve a contribution (curators)",
             responses=error_responses(401, 403, 404, 409, 422))
def approve(kb: KnowledgeBaseDep, settings: SettingsDep, id: ContributionId,
            authorization: Authorization = None,
            decision: Annotated[Decision | None, Body()] = None) -> ContributionView:
    """The record (with `edits`, if any) becomes a normal record with status *gevalideerd*:
    ingested as its own source file, searchable at once; the decision is logged and published
    as PROV. A record the ingest refuses: 422, nothing changes."""
    require_curator(settings, authorization)
    decision = decision or Decision()
    return view(kb, kb.approve_contribution(id, curator=decision.curator, edits=decision.edits),
                duplicates=False)


@router.post("/contributions/{id}/merge", response_model=ContributionView,
             summary="Merge a contribution into an existing record (curators)",
             responses=error_responses(400, 401, 403, 404, 409, 422))
def merge(kb: KnowledgeBaseDep, settings: SettingsDep, id: ContributionId,
          decision: Annotated[Decision, Body()], authorization: Authorization = None,
          ) -> ContributionView:
    """The contribution supplements the record `into` (a lesson, drempel, measure or
    breakthrough): the links it proposes that the record lacks and its text, as an editorial
    note, are added in the contribution's own named graph; the record's source is untouched.
    Status *gevalideerd*, decision *samengevoegd*; the receipt points at that record."""
    require_curator(settings, authorization)
    if not decision.into:
        raise UserError("into: name the existing record to merge into")
    return view(kb, kb.merge_contribution(id, into=decision.into, curator=decision.curator),
                duplicates=False)


@router.post("/contributions/{id}/reject", response_model=ContributionView,
             summary="Reject a contribution (curators)",
             responses=error_responses(400, 401, 403, 404, 409, 422))
def reject(kb: KnowledgeBaseDep, settings: SettingsDep, id: ContributionId,
           decision: Annotated[Decision, Body()], authorization: Authorization = None,
           ) -> ContributionView:
    """Status *afgewezen* with the `reason` (required), shown on the contributor's receipt;
    the graph gets no record."""
    require_curator(settings, authorization)
    return view(kb, kb.reject_contribution(id, curator=decision.curator,
                                           reason=decision.reason or ""), duplicates=False)
