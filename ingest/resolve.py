"""Reference resolution: ids within the batch and against the store, themes, subtypes and
municipalities. Every problem names the record's file, line and field and says what would fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from ingest.records import REFERENCE_FIELDS, SourceRecord
from kg.errors import Problem
from kg.municipalities import resolve_municipality, suggest_municipalities
from ontology.namespaces import SUBTYPE_SCHEMES


@dataclass(frozen=True)
class KnownItem:
    """A record id already in the store: its type and the named graph (file) it lives in."""

    type: str
    graph: str
    source_file: str


@dataclass
class Vocabulary:
    """The notations a batch may use: themes and the subtype schemes."""

    themes: Mapping[str, str]
    schemes: Mapping[str, Mapping[str, str]]


@dataclass
class Resolution:
    """The outcome: id -> type of every record a batch may point at, and resolved values."""

    types: dict[str, str] = field(default_factory=dict)
    municipality_nis: dict[str, str] = field(default_factory=dict)  # record id -> NIS code
    problems: list[Problem] = field(default_factory=list)


def _suggest(value: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(value, candidates, n=3, cutoff=0.6)
    return f"; did you mean: {', '.join(close)}?" if close else ""


def resolve(
    batch: list[SourceRecord],
    *,
    known: Mapping[str, KnownItem],
    replaced_graphs: set[str],
    vocabulary: Vocabulary,
) -> Resolution:
    """Check a batch's ids and references; `known` holds the store's records by id.

    Records in `replaced_graphs` are about to be replaced by this batch, so their ids count as
    free; every other known id is taken.
    """
    out = Resolution()
    first_seen: dict[str, SourceRecord] = {}
    for item in batch:
        rec, raw = item.record, item.raw
        if rec.id in first_seen:
            other = first_seen[rec.id].raw
            where = f"{other.file}:{other.line}" if other.line else other.file
            out.problems.append(raw.problem("id", f"duplicate id {rec.id!r} (also at {where})"))
            continue
        owner = known.get(rec.id)
        if owner and owner.graph not in replaced_graphs:
            out.problems.append(raw.problem(
                "id", f"id {rec.id!r} already exists in the store, from {owner.source_file}"))
            continue
        first_seen[rec.id] = item
        out.types[rec.id] = rec.type
    for rid, owner in known.items():
        if owner.graph not in replaced_graphs:
            out.types.setdefault(rid, owner.type)

    all_ids = sorted(out.types)
    themes = sorted(vocabulary.themes)
    for item in batch:
        rec, raw = item.record, item.raw
        for name, ref in rec.references():
            if ref not in out.types:
                out.problems.append(raw.problem(
                    name, f"unknown id {ref!r}: no record has this id{_suggest(ref, all_ids)}"))
                continue
            allowed = REFERENCE_FIELDS[name]
            if allowed and out.types[ref] not in allowed:
                kinds = " or ".join(f"{'an' if a[0] in 'aeiou' else 'a'} {a}" for a in allowed)
                out.problems.append(
                    raw.problem(name, f"{ref!r} is a {out.types[ref]}, not {kinds}"))
            elif ref == rec.id:
                out.problems.append(raw.problem(name, "a record cannot point at itself"))
        for theme in rec.themes:
            if theme not in vocabulary.themes:
                out.problems.append(raw.problem(
                    "themes", f"unknown theme {theme!r}; known themes: {', '.join(themes)}"))
        if rec.subtype is not None:
            scheme = SUBTYPE_SCHEMES.get(rec.type)
            notations = vocabulary.schemes.get(scheme, {}) if scheme else {}
            if scheme is None:
                out.problems.append(raw.problem(
                    "subtype", f"a {rec.type} has no subtype; subtypes exist for "
                               f"{', '.join(SUBTYPE_SCHEMES)}"))
            elif rec.subtype not in notations:
                out.problems.append(raw.problem(
                    "subtype", f"unknown {scheme} {rec.subtype!r}; known: "
                               f"{', '.join(sorted(notations))}"))
        if rec.pioneer is not None and rec.type != "neighbourhood":
            out.problems.append(raw.problem("pioneer", "only a neighbourhood can be a pioneer"))
        if rec.municipality is not None:
            m = resolve_municipality(rec.municipality)
            if m is None:
                close = suggest_municipalities(rec.municipality)
                hint = f"; did you mean: {', '.join(close)}?" if close else (
                    "; give a Flemish municipality's Dutch name or its NIS code")
                out.problems.append(raw.problem(
                    "municipality", f"unknown Flemish municipality {rec.municipality!r}{hint}"))
            else:
                out.municipality_nis[rec.id] = m.nis
    return out


def dangling_after_removal(
    removed: Mapping[str, KnownItem], referrers: Mapping[str, list[tuple[str, str]]]
) -> list[Problem]:
    """Problems for records this run removes while records in other files still point at them.

    `referrers` maps a removed id to (source file, referring id) pairs outside the run.
    """
    problems = []
    for rid, item in sorted(removed.items()):
        for source_file, referrer in referrers.get(rid, []):
            problems.append(Problem(
                item.source_file, None, "id",
                f"record {rid!r} is no longer in this file, but {referrer!r} in {source_file} "
                "still points at it"))
    return problems
