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
from ontology.namespaces import POLICY_LEVEL_SCHEME, STATUS_SCHEME, SUBTYPE_SCHEMES


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
    _claim_ids(batch, known, replaced_graphs, out)
    all_ids = sorted(out.types)
    for item in batch:
        out.problems += _reference_problems(item, out.types, all_ids)
        out.problems += _theme_problems(item, vocabulary)
        out.problems += _subtype_problems(item, vocabulary)
        if item.record.pioneer is not None and item.record.type != "neighbourhood":
            out.problems.append(item.raw.problem(
                "pioneer", "only a neighbourhood can be a pioneer"))
        out.problems += _threshold_field_problems(item, vocabulary)
        out.problems += _status_problems(item, vocabulary)
        _resolve_municipality(item, out)
    return out


def _claim_ids(batch: list[SourceRecord], known: Mapping[str, KnownItem],
               replaced_graphs: set[str], out: Resolution) -> None:
    """Give each record of the batch its id, unless the batch or the store has it already;
    then add the ids of the store's records that stay."""
    first_seen: dict[str, SourceRecord] = {}
    for item in batch:
        problem = _id_taken(item, first_seen, known, replaced_graphs)
        if problem is not None:
            out.problems.append(problem)
            continue
        first_seen[item.record.id] = item
        out.types[item.record.id] = item.record.type
    for rid, owner in known.items():
        if owner.graph not in replaced_graphs:
            out.types.setdefault(rid, owner.type)


def _id_taken(item: SourceRecord, first_seen: Mapping[str, SourceRecord],
              known: Mapping[str, KnownItem], replaced_graphs: set[str]) -> Problem | None:
    """The problem when a record's id is already used earlier in the batch or in the store."""
    rec, raw = item.record, item.raw
    if rec.id in first_seen:
        other = first_seen[rec.id].raw
        where = f"{other.file}:{other.line}" if other.line else other.file
        return raw.problem("id", f"duplicate id {rec.id!r} (also at {where})")
    owner = known.get(rec.id)
    if owner and owner.graph not in replaced_graphs:
        return raw.problem(
            "id", f"id {rec.id!r} already exists in the store, from {owner.source_file}")
    return None


def _reference_problems(item: SourceRecord, types: Mapping[str, str],
                        all_ids: list[str]) -> list[Problem]:
    """Ids a record points at that are unknown, of a type the field does not take, or its own."""
    rec, raw = item.record, item.raw
    problems = []
    for name, ref in rec.references():
        if ref not in types:
            problems.append(raw.problem(
                name, f"unknown id {ref!r}: no record has this id{_suggest(ref, all_ids)}"))
            continue
        allowed = REFERENCE_FIELDS[name]
        if allowed and types[ref] not in allowed:
            kinds = " or ".join(f"{'an' if a[0] in 'aeiou' else 'a'} {a}" for a in allowed)
            problems.append(raw.problem(name, f"{ref!r} is a {types[ref]}, not {kinds}"))
        elif ref == rec.id:
            problems.append(raw.problem(name, "a record cannot point at itself"))
    return problems


def _theme_problems(item: SourceRecord, vocabulary: Vocabulary) -> list[Problem]:
    """Themes of a record that are not in the theme scheme."""
    known = ", ".join(sorted(vocabulary.themes))
    return [item.raw.problem("themes", f"unknown theme {theme!r}; known themes: {known}")
            for theme in item.record.themes if theme not in vocabulary.themes]


def _subtype_problems(item: SourceRecord, vocabulary: Vocabulary) -> list[Problem]:
    """A subtype on a type that has none, or one that is not in the type's scheme."""
    rec, raw = item.record, item.raw
    if rec.subtype is None:
        return []
    scheme = SUBTYPE_SCHEMES.get(rec.type)
    if scheme is None:
        return [raw.problem("subtype", f"a {rec.type} has no subtype; subtypes exist for "
                                       f"{', '.join(SUBTYPE_SCHEMES)}")]
    notations = vocabulary.schemes.get(scheme, {})
    if rec.subtype not in notations:
        return [raw.problem("subtype", f"unknown {scheme} {rec.subtype!r}; known: "
                                       f"{', '.join(sorted(notations))}")]
    return []


def _threshold_field_problems(item: SourceRecord, vocabulary: Vocabulary) -> list[Problem]:
    """`policy_level` and `priority` belong to thresholds; a level must be in its scheme."""
    rec, raw = item.record, item.raw
    problems = [raw.problem(name, f"only a threshold has a {name}; this is a {rec.type}")
                for name in ("policy_level", "priority")
                if getattr(rec, name) is not None and rec.type != "threshold"]
    if rec.policy_level is not None and rec.type == "threshold":
        levels = vocabulary.schemes.get(POLICY_LEVEL_SCHEME, {})
        if rec.policy_level not in levels:
            problems.append(raw.problem("policy_level", f"unknown {POLICY_LEVEL_SCHEME} "
                                        f"{rec.policy_level!r}; known: "
                                        f"{', '.join(sorted(levels))}"))
    return problems


def _status_problems(item: SourceRecord, vocabulary: Vocabulary) -> list[Problem]:
    """A `status` that is not in the recordstatus scheme."""
    status = item.record.status
    statuses = vocabulary.schemes.get(STATUS_SCHEME, {})
    if status is None or status in statuses:
        return []
    return [item.raw.problem("status", f"unknown {STATUS_SCHEME} {status!r}; known: "
                                       f"{', '.join(sorted(statuses))}")]


def _resolve_municipality(item: SourceRecord, out: Resolution) -> None:
    """Record the NIS code of a record's municipality, or the problem that it is unknown."""
    rec = item.record
    if rec.municipality is None:
        return
    m = resolve_municipality(rec.municipality)
    if m is not None:
        out.municipality_nis[rec.id] = m.nis
        return
    close = suggest_municipalities(rec.municipality)
    hint = f"; did you mean: {', '.join(close)}?" if close else (
        "; give a Flemish municipality's Dutch name or its NIS code")
    out.problems.append(item.raw.problem(
        "municipality", f"unknown Flemish municipality {rec.municipality!r}{hint}"))


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
