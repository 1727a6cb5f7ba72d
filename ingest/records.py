"""The record model: the fixed field names every input format maps to, validated by pydantic."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kg.errors import Problem
from kg.xmlchars import escape_xml_forbidden, xml_forbidden_char, xml_forbidden_message
from ontology.namespaces import RECORD_TYPES

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
RecordType = Literal[
    "lesson", "threshold", "measure", "breakthrough", "actor", "neighbourhood", "activity",
    "document",
]
LIST_FIELDS = ("themes", "actors", "thresholds", "measures", "related", "alt_labels")
REFERENCE_FIELDS: dict[str, tuple[str, ...]] = {
    # field -> the record types it may point at (empty: any type)
    "neighbourhood": ("neighbourhood",),
    "actors": ("actor",),
    "thresholds": ("threshold",),
    "measures": ("measure",),
    "related": (),
    "source": ("activity", "document"),
}


class Record(BaseModel):
    """One lesson, threshold, measure, breakthrough, actor, neighbourhood, activity or document."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str = Field(max_length=120, description="Unique id, `[a-z0-9][a-z0-9-]*`.")
    type: RecordType = Field(description="The record type.")
    title: str = Field(min_length=1, max_length=500, description="Title (Dutch).")
    text: str | None = Field(default=None, max_length=100_000, description="Body text (Dutch).")
    themes: tuple[str, ...] = Field(default=(), description="Theme notations.")
    municipality: str | None = Field(default=None, description="Municipality name or NIS code.")
    neighbourhood: str | None = Field(default=None, description="Id of a neighbourhood record.")
    actors: tuple[str, ...] = Field(default=(), description="Ids of actor records.")
    thresholds: tuple[str, ...] = Field(default=(), description="Ids of threshold records.")
    measures: tuple[str, ...] = Field(default=(), description="Ids of measure records.")
    related: tuple[str, ...] = Field(default=(), description="Ids of related records.")
    source: str | None = Field(default=None, description="Id of the activity or document.")
    date: dt.date | None = Field(default=None, description="ISO date.")
    alt_labels: tuple[str, ...] = Field(default=(), description="Other names, abbreviations.")
    subtype: str | None = Field(default=None, description="Notation in the type's scheme.")
    # An IRI may not hold the characters N-Triples/SPARQL forbid in `<…>` (RFC 3987).
    url: str | None = Field(default=None, max_length=2000,
                            pattern=r"^https?://[^\s<>\"{}|\\^`]+$")
    pioneer: bool | None = Field(default=None, description="A pioneer neighbourhood.")
    policy_level: str | None = Field(default=None, description="Threshold: notation in the "
                                     "beleidsniveau scheme (lokaal ... europees).")
    priority: bool | None = Field(default=None, description="Threshold: a priority for the "
                                  "work programme, set by curators.")
    status: str | None = Field(default=None, description="Notation in the recordstatus scheme "
                               "(voorbeeld, ingediend, gevalideerd, afgewezen).")

    @field_validator("id", "neighbourhood", "source")
    @classmethod
    def _check_id(cls, value: str | None) -> str | None:
        if value is not None and not ID_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a valid id (lowercase a-z, 0-9 and '-')")
        return value

    @field_validator("actors", "thresholds", "measures", "related")
    @classmethod
    def _check_ids(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not ID_PATTERN.match(value):
                raise ValueError(f"{value!r} is not a valid id (lowercase a-z, 0-9 and '-')")
        return values

    @field_validator(*LIST_FIELDS, mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str):
            value = value.split("|")
        if isinstance(value, list | tuple):
            out: dict[str, None] = {}  # ordered and linear, also for a list of 100,000
            for v in value:
                if not isinstance(v, str | int):
                    raise ValueError("must be a list of strings")
                s = str(v).strip()
                if s:
                    out[s] = None
            return tuple(out)
        return value

    @field_validator("text", "municipality", "neighbourhood", "source", "subtype", "url",
                     "policy_level", "status", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None:
            import pyoxigraph

            try:
                pyoxigraph.NamedNode(value)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a valid URL: {exc}") from None
        return value

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)")
        return value

    @field_validator("pioneer", "priority", mode="before")
    @classmethod
    def _bool(cls, value: Any) -> Any:
        if isinstance(value, str):
            v = value.strip().lower()
            if not v:
                return None
            if v in {"true", "ja", "yes", "1", "waar"}:
                return True
            if v in {"false", "nee", "no", "0", "onwaar"}:
                return False
            raise ValueError(f"{value!r} is not true/false")
        return value

    def references(self) -> list[tuple[str, str]]:
        """(field, id) pairs of every record this one points at."""
        refs: list[tuple[str, str]] = []
        for name in REFERENCE_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                refs.append((name, value))
            elif value:
                refs.extend((name, v) for v in value)
        return refs


FIELD_NAMES = tuple(Record.model_fields)


@dataclass
class RawRecord:
    """A record as read from a file, before validation: where it is and its field values."""

    file: str
    line: int | None
    data: dict[str, Any]
    field_lines: dict[str, int] = field(default_factory=dict)

    def problem(self, field_name: str | None, message: str) -> Problem:
        """A problem located at this record (and at the field's own line when known)."""
        line = self.field_lines.get(field_name or "", self.line)
        return Problem(self.file, line, field_name, message)


@dataclass
class SourceRecord:
    """A validated record and where it came from."""

    record: Record
    raw: RawRecord


def _forbidden_char(value: Any) -> str | None:
    """The first character XML forbids in a field value (a string or a list of them)."""
    if isinstance(value, str):
        return xml_forbidden_char(value)
    if isinstance(value, bytes | bytearray):  # YAML !!binary; pydantic decodes it to str
        return xml_forbidden_char(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, str | bytes | bytearray):
                found = _forbidden_char(item)
                if found is not None:
                    return found
    return None


def character_problems(raw: RawRecord, data: dict[str, Any]) -> dict[str, Problem]:
    """Field name -> the problem of its first forbidden character, keys included.

    Every input format ends up here (CSV, XLSX, JSON Lines, Markdown and the literals of RDF
    input), so the rule of `kg.xmlchars` is applied once for all of them.
    """
    found: dict[str, Problem] = {}
    for key, value in data.items():
        name = str(key)
        char = xml_forbidden_char(name)
        if char is not None:
            found[name] = raw.problem(escape_xml_forbidden(name),
                                      f"{xml_forbidden_message(char)} in a field name")
            continue
        char = _forbidden_char(value)
        if char is not None:
            found[name] = raw.problem(name, xml_forbidden_message(char))
    return found


def validate(raw: RawRecord) -> tuple[Record | None, list[Problem]]:
    """Validate one raw record; every field problem is reported, not only the first."""
    data = {k: v for k, v in raw.data.items() if not (v is None or v == "")}
    bad_chars = character_problems(raw, data)
    unknown = sorted(set(data) - set(FIELD_NAMES) - set(bad_chars))
    problems = [
        raw.problem(name, f"unknown field; known fields: {', '.join(FIELD_NAMES)}")
        for name in unknown
    ]
    problems += bad_chars.values()
    for name in [*unknown, *bad_chars]:
        data.pop(name, None)
    try:
        record = Record.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            field_name = str(err["loc"][0]) if err["loc"] else None
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                if field_name in bad_chars:
                    continue  # reported above: the value was there, with a bad character
                message = "is required"
            elif err["type"] == "literal_error":
                message = f"must be one of: {', '.join(RECORD_TYPES)}"
            problems.append(raw.problem(field_name, message))
        return None, problems
    if not problems:
        # What pydantic made of the values (bytes decoded, numbers as text) is checked too.
        problems += character_problems(raw, record.model_dump(exclude_none=True)).values()
    return (record if not problems else None), problems
