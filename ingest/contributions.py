"""The harvest inbox: lessons, drempels, measures and breakthroughs contributed by practitioners,
kept outside the graph until a curator approves them.

A contribution is checked as strictly as an ingest (the record format, the references against
the store, SHACL: a dry run of the ingest pipeline) before anything is kept. It is then stored as
*ingediend* in the data directory, `bijdragen/`, one JSON file per contribution, never in the
store: so no search, SPARQL query, export or werkboek can show it by mistake. What the graph
learns of it comes with the review:

- approved: the record (status *gevalideerd*) is written to `bijdragen/goedgekeurd/{id}.jsonl`
  and ingested like any source file: its own named graph, validation, SHACL, mention links, one
  transaction; a failed ingest leaves the store as it was and the contribution *ingediend*;
- rejected: status *afgewezen* with the curator's reason; nothing enters the graph.

Every decision is appended to `bijdragen/audit.jsonl` and published in the named graph
`…/graph/beoordelingen` as PROV: the contribution (`prov:Entity`, channel, organisation, date),
the review (`prov:Activity`, decision, curator, time) that `prov:used` the contribution and,
when approved, `prov:generated` the record. The contact e-mail is kept apart
(`bijdragen/contacten/`), never in the graph, an export or an API answer, and can be deleted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import threading
import unicodedata
from pathlib import Path
from typing import Any, Literal

import pyoxigraph as ox
from pydantic import BaseModel, Field
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from kg.errors import ConflictError, NotFoundError, Problem
from kg.store import Store, private_dir
from ontology.namespaces import ADMS, WK, concept_iri, item_iri, reference_graph

__all__ = ["CONTRIBUTABLE_TYPES", "CONTRIBUTOR_FIELDS", "REVIEW_GRAPH", "Contribution",
           "Inbox", "check_submission", "merge_graph"]

REVIEW_GRAPH = reference_graph("beoordelingen")


def merge_graph(cid: str) -> str:
    """The named graph that holds what a merged contribution added to an existing record."""
    return reference_graph(f"samenvoeging/{cid}")
CONTRIBUTABLE_TYPES = ("lesson", "threshold", "measure", "breakthrough")
# The record fields a contributor may fill in, and their caps (characters or list entries).
CONTRIBUTOR_FIELDS: dict[str, int] = {
    "type": 20, "title": 200, "text": 6000, "themes": 8, "municipality": 80,
    "neighbourhood": 120, "thresholds": 12, "measures": 12, "source": 120, "date": 10,
    "actors": 12,
}
META_FIELDS: dict[str, int] = {"organisation": 200, "email": 254}
LIST_NAMES = ("themes", "thresholds", "measures", "actors")
EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,189}\.[A-Za-z]{2,24}$")
Status = Literal["ingediend", "gevalideerd", "afgewezen"]


class Review(BaseModel):
    """A curator's decision."""

    decision: Literal["goedgekeurd", "afgewezen", "samengevoegd"]
    curator: str
    at: str
    reason: str | None = None
    number: int = Field(description="The decision's number in the audit log.")
    merged_into: str | None = Field(default=None, description="Merged: the existing record's "
                                    "id.")
    merged_type: str | None = None


class Contribution(BaseModel):
    """One contribution as the inbox keeps it (without the contact e-mail)."""

    id: str = Field(description="The receipt id (random, unguessable).")
    status: Status
    channel: str = Field(description="web, api or xlsx.")
    submitted: str
    organisation: str
    record: dict[str, Any] = Field(description="The record as contributed (record format, "
                                   "with its generated id).")
    has_contact: bool = Field(default=False, description="Whether an e-mail was left (never "
                              "shown).")
    review: Review | None = None

    @property
    def record_id(self) -> str:
        return str(self.record["id"])

    @property
    def record_type(self) -> str:
        return str(self.record["type"])

    def iri(self, base_iri: str) -> str:
        return f"{base_iri}bijdrage/{self.id}"


def _slug(text: str, limit: int = 48) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "bijdrage"


PREFIX = {"lesson": "les", "threshold": "drempel", "measure": "maatregel",
          "breakthrough": "doorbraak"}


def check_submission(payload: object, label: str = "bijdrage"
                     ) -> tuple[dict[str, Any], dict[str, str], list[Problem]]:
    """The record fields and the contributor's meta fields of a submission, with every
    problem of shape and size (before the record format and the references are checked)."""
    problems: list[Problem] = []
    if not isinstance(payload, dict):
        return {}, {}, [Problem(label, None, None, "a contribution is a JSON object")]
    record: dict[str, Any] = {}
    meta: dict[str, str] = {}
    for name, value in payload.items():
        if not isinstance(name, str):
            continue
        if name in META_FIELDS:
            if value in (None, ""):
                continue
            if not isinstance(value, str):
                problems.append(Problem(label, None, name, "must be text"))
            elif len(value) > META_FIELDS[name]:
                problems.append(Problem(label, None, name,
                                        f"at most {META_FIELDS[name]} characters"))
            else:
                meta[name] = value.strip()
            continue
        if name not in CONTRIBUTOR_FIELDS:
            problems.append(Problem(label, None, name, "not a field of a contribution; use "
                                    + ", ".join([*CONTRIBUTOR_FIELDS, *META_FIELDS])))
            continue
        cap = CONTRIBUTOR_FIELDS[name]
        if name in LIST_NAMES and isinstance(value, str):  # the `a|b` form of CSV and XLSX
            value = [v for v in value.split("|")]
        if isinstance(value, list):
            if len(value) > cap:
                problems.append(Problem(label, None, name, f"at most {cap} entries"))
            elif not all(isinstance(v, str) and len(v) <= 200 for v in value):
                problems.append(Problem(label, None, name, "entries must be short texts"))
            else:
                record[name] = [v.strip() for v in value if v.strip()]
        elif isinstance(value, str):
            if len(value) > cap:
                problems.append(Problem(label, None, name, f"at most {cap} characters"))
            elif value.strip():
                record[name] = value.strip()
        elif value is not None:
            problems.append(Problem(label, None, name, "must be text or a list of texts"))
    if not record.get("title"):
        problems.append(Problem(label, None, "title", "is required"))
    if record.get("type") not in CONTRIBUTABLE_TYPES:
        problems.append(Problem(label, None, "type", "must be one of: "
                                + ", ".join(CONTRIBUTABLE_TYPES)))
    if not meta.get("organisation"):
        problems.append(Problem(label, None, "organisation", "is required: the organisation "
                                "you contribute for (a municipality, team or partner)"))
    email = meta.get("email")
    if email is not None and not EMAIL.match(email):
        problems.append(Problem(label, None, "email", "is not an e-mail address"))
    return record, meta, problems


class Inbox:
    """The contributions of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "bijdragen"
        self._lock = threading.Lock()

    # -- files ------------------------------------------------------------------------------

    def _path(self, cid: str) -> Path:
        if not re.fullmatch(r"b-[0-9a-f]{20}", cid):
            raise NotFoundError(f"no contribution {cid!r}")
        return self.root / f"{cid}.json"

    def _write(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    def save(self, contribution: Contribution) -> None:
        private_dir(self.root)
        self._write(self._path(contribution.id), contribution.model_dump_json(indent=1))

    def get(self, cid: str) -> Contribution:
        path = self._path(cid)
        try:
            return Contribution.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFoundError(f"no contribution {cid!r}") from None

    def pending(self, cid: str) -> Contribution:
        """A contribution that still awaits its decision (ConflictError once decided)."""
        contribution = self.get(cid)
        if contribution.status != "ingediend":
            raise ConflictError(f"contribution {cid} is already {contribution.status}")
        return contribution

    def all(self, status: str | None = None) -> list[Contribution]:
        if not self.root.is_dir():
            return []
        out = []
        for path in sorted(self.root.glob("b-*.json")):
            c = Contribution.model_validate_json(path.read_text(encoding="utf-8"))
            if status is None or c.status == status:
                out.append(c)
        return sorted(out, key=lambda c: c.submitted)

    def record_ids(self) -> set[str]:
        """The record ids every contribution reserved (so two never collide)."""
        return {c.record_id for c in self.all()}

    # -- submitting -------------------------------------------------------------------------

    def new(self, record: dict[str, Any], meta: dict[str, str], channel: str,
            taken: set[str], now: dt.datetime | None = None) -> Contribution:
        """A new contribution (not yet saved) with a fresh receipt id and record id."""
        cid = "b-" + secrets.token_hex(10)
        base = f"{PREFIX[record['type']]}-{_slug(str(record.get('title', '')))}"
        rid = base
        taken = taken | self.record_ids()
        n = 2
        while rid in taken:
            rid = f"{base}-{n}"
            n += 1
        when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        return Contribution(id=cid, status="ingediend", channel=channel,
                            submitted=when.isoformat(), organisation=meta["organisation"],
                            record={"id": rid, **record}, has_contact="email" in meta)

    def save_contact(self, cid: str, email: str) -> None:
        folder = self.root / "contacten"
        private_dir(self.root)
        private_dir(folder)
        self._write(folder / f"{cid}.json", json.dumps({"email": email}))

    def contact(self, cid: str) -> str | None:
        path = self.root / "contacten" / f"{self._path(cid).stem}.json"
        try:
            return str(json.loads(path.read_text(encoding="utf-8"))["email"])
        except (FileNotFoundError, KeyError, json.JSONDecodeError):
            return None

    def forget_contact(self, cid: str) -> bool:
        """Delete a contribution's contact e-mail; whether there was one."""
        contribution = self.get(cid)
        path = self.root / "contacten" / f"{cid}.json"
        existed = path.exists()
        path.unlink(missing_ok=True)
        if contribution.has_contact:
            self.save(contribution.model_copy(update={"has_contact": False}))
        return existed

    # -- reviewing --------------------------------------------------------------------------

    def approved_file(self, cid: str) -> Path:
        return self.root / "goedgekeurd" / f"{self._path(cid).stem}.jsonl"

    def write_approved(self, contribution: Contribution, record: dict[str, Any]) -> Path:
        """The approved record as a source file (status gevalideerd) to ingest."""
        path = self.approved_file(contribution.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {**record, "status": "gevalideerd"}
        self._write(path, json.dumps(data, ensure_ascii=False) + "\n")
        return path

    def audit(self) -> list[dict[str, Any]]:
        path = self.root / "audit.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]

    def decide(self, contribution: Contribution, decision: str, curator: str,
               reason: str | None, now: dt.datetime | None = None, *,
               merged_into: tuple[str, str] | None = None) -> Contribution:
        """Record a decision (goedgekeurd, afgewezen, or samengevoegd into `merged_into`: the
        existing record's type and id): the audit log (appended, flushed) and the
        contribution."""
        when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
        if decision not in ("goedgekeurd", "afgewezen", "samengevoegd"):
            raise ValueError(f"not a decision: {decision!r}")
        with self._lock:
            number = len(self.audit()) + 1
            review = Review(decision=decision,  # type: ignore[arg-type]
                            curator=curator, at=when, reason=reason, number=number,
                            merged_type=merged_into[0] if merged_into else None,
                            merged_into=merged_into[1] if merged_into else None)
            line = json.dumps({"number": number, "contribution": contribution.id,
                               "record": contribution.record_id,
                               "type": contribution.record_type, "decision": review.decision,
                               "curator": curator, "at": when, "reason": reason,
                               "merged_into": review.merged_into,
                               "merged_type": review.merged_type,
                               "channel": contribution.channel,
                               "submitted": contribution.submitted,
                               "organisation": contribution.organisation},
                              ensure_ascii=False)
            self.root.mkdir(parents=True, exist_ok=True)
            with (self.root / "audit.jsonl").open("a", encoding="utf-8") as log:
                log.write(line + "\n")
                log.flush()
                os.fsync(log.fileno())
            status: Status = "afgewezen" if decision == "afgewezen" else "gevalideerd"
            updated = contribution.model_copy(update={"status": status, "review": review})
            self.save(updated)
        return updated

    def review_quads(self, base_iri: str) -> list[ox.Quad]:
        """The audit log as PROV in the named graph `REVIEW_GRAPH` (no texts, no e-mail)."""
        g = ox.NamedNode(REVIEW_GRAPH)
        out: list[ox.Quad] = []

        def add(s: str, p: object, o: ox.NamedNode | ox.Literal) -> None:
            out.append(ox.Quad(ox.NamedNode(s), ox.NamedNode(str(p)), o, g))

        def when(value: str) -> ox.Literal:
            return ox.Literal(value, datatype=ox.NamedNode(str(XSD.dateTime)))

        for entry in self.audit():
            contribution = f"{base_iri}bijdrage/{entry['contribution']}"
            review = f"{base_iri}beoordeling/{entry['number']}"
            add(contribution, RDF.type, ox.NamedNode(str(PROV.Entity)))
            add(contribution, RDF.type, ox.NamedNode(str(WK.Contribution)))
            add(contribution, RDFS.label, ox.Literal(f"Bijdrage {entry['contribution']}",
                                                     language="nl"))
            add(contribution, PROV.generatedAtTime, when(str(entry["submitted"])))
            add(contribution, WK.channel, ox.Literal(str(entry["channel"])))
            add(contribution, DCTERMS.creator, ox.Literal(str(entry["organisation"])))
            add(review, RDF.type, ox.NamedNode(str(PROV.Activity)))
            add(review, RDF.type, ox.NamedNode(str(WK.Review)))
            add(review, RDFS.label, ox.Literal(
                f"Beoordeling {entry['number']}: {entry['decision']}", language="nl"))
            add(review, PROV.used, ox.NamedNode(contribution))
            add(review, PROV.endedAtTime, when(str(entry["at"])))
            add(review, WK.decision, ox.Literal(str(entry["decision"])))
            add(review, PROV.wasAssociatedWith, ox.NamedNode(
                f"{base_iri}curator/{_slug(str(entry['curator']), 40)}"))
            add(contribution, ADMS.status, ox.NamedNode(concept_iri(
                "recordstatus",
                "afgewezen" if entry["decision"] == "afgewezen" else "gevalideerd")))
            if entry["decision"] == "samengevoegd" and entry.get("merged_into"):
                target = item_iri(base_iri, str(entry["merged_type"]), str(entry["merged_into"]))
                add(review, WK.mergedInto, ox.NamedNode(target))
                add(review, PROV.generated, ox.NamedNode(merge_graph(str(entry["contribution"]))))
            if entry["decision"] == "goedgekeurd":
                # From the review to the record, never the record as subject: the record's own
                # triples (and so its werkboek edition digest) stay those of its source file.
                record = item_iri(base_iri, str(entry["type"]), str(entry["record"]))
                add(review, PROV.generated, ox.NamedNode(record))
        return out

    def publish_reviews(self, store: Store, base_iri: str) -> None:
        """Rewrite the review graph from the audit log."""
        store.replace_graphs({REVIEW_GRAPH: self.review_quads(base_iri)})

