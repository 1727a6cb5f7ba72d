"""Reference data: the 285 Flemish municipalities (2025) and five provinces, loaded once."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS

from api.knowledgebase import KnowledgeBase
from kg.municipalities import (
    flemish_municipalities,
    flemish_provinces,
    municipality_graph,
    resolve_municipality,
    suggest_municipalities,
)
from ontology.namespaces import PROVINCE_ROOT, WK, reference_graph, sparql_prefixes

GEMEENTE = "https://data.vlaanderen.be/id/gemeente/"


def test_285_flemish_municipalities_with_unique_nis_codes() -> None:
    ms = flemish_municipalities()
    assert len(ms) == 285
    assert len({m.nis for m in ms}) == 285
    assert len({m.name_nl for m in ms}) == 285
    assert all(re.fullmatch(r"[1-7]\d{4}", m.nis) for m in ms)
    assert [m.nis for m in ms] == sorted(m.nis for m in ms)
    assert all(m.iri == GEMEENTE + m.nis for m in ms)


def test_five_flemish_provinces() -> None:
    assert flemish_provinces() == {
        "10000": "Provincie Antwerpen", "20001": "Provincie Vlaams-Brabant",
        "30000": "Provincie West-Vlaanderen", "40000": "Provincie Oost-Vlaanderen",
        "70000": "Provincie Limburg"}
    assert {m.province_nis for m in flemish_municipalities()} == set(flemish_provinces())


def test_well_known_nis_codes() -> None:
    codes = {m.name_nl: m.nis for m in flemish_municipalities()}
    assert codes["Gent"] == "44021"
    assert codes["Antwerpen"] == "11002"
    assert codes["Leuven"] == "24062"
    assert codes["Brugge"] == "31005"
    assert codes["Boom"] == "11005"


def test_2025_mergers_are_applied() -> None:
    names = {m.name_nl for m in flemish_municipalities()}
    assert "Borsbeek" not in names  # merged into Antwerpen on 1 January 2025
    assert {"Pajottegem", "Merelbeke-Melle", "Tessenderlo-Ham"} <= names
    assert resolve_municipality("Borsbeek") is None


def test_resolve_by_name_code_french_case_and_accents() -> None:
    gent = resolve_municipality("Gent")
    assert gent is not None and gent.nis == "44021"
    assert resolve_municipality("GENT") == gent
    assert resolve_municipality("  gent ") == gent
    assert resolve_municipality("Gand") == gent
    assert resolve_municipality("44021") == gent
    assert resolve_municipality(" 44021 ") == gent
    assert resolve_municipality("Anvers").name_nl == "Antwerpen"
    assert resolve_municipality("Namen") is None  # Walloon: not in the Flemish list
    assert resolve_municipality("57081") is None  # Tournai's NIS code
    assert resolve_municipality("") is None


def test_suggestions_for_a_typo() -> None:
    assert suggest_municipalities("Gendt")[0] == "Gent"
    assert "Mechelen" in suggest_municipalities("Mechlen")
    assert suggest_municipalities("xyzzy") == []
    assert len(suggest_municipalities("Brugg", n=2)) <= 2


def test_municipality_graph_links_official_iris_and_provinces() -> None:
    g = municipality_graph()
    ms = set(g.subjects(RDF.type, WK.Municipality))
    assert len(ms) == 285
    assert all(str(m).startswith(GEMEENTE) for m in ms)
    gent = URIRef(GEMEENTE + "44021")
    assert g.value(gent, RDFS.label) == Literal("Gent", lang="nl")
    assert g.value(gent, WK.nisCode) == Literal("44021")
    assert g.value(gent, WK.province) == URIRef(PROVINCE_ROOT + "40000")
    provinces = set(g.subjects(RDF.type, WK.Province))
    assert len(provinces) == 5
    assert all(g.value(m, WK.province) in provinces for m in ms)
    assert all(g.value(m, RDFS.label).language == "nl" for m in ms)


def test_reference_data_is_loaded_once(tmp_path: Path) -> None:
    kb = KnowledgeBase(data_dir=tmp_path / "d")
    graphs = kb.store.named_graphs()
    assert {reference_graph(n) for n in ("ontology", "schemes", "municipalities")} <= set(graphs)
    rows = kb.store.select(sparql_prefixes() + f"""
        SELECT (COUNT(?m) AS ?n) WHERE {{ GRAPH <{reference_graph("municipalities")}> {{
          ?m a wk:Municipality ; wk:nisCode ?nis ; rdfs:label ?l }} }}""")
    assert int(rows[0]["n"]) == 285
    dump = kb.store.dump(ox.RdfFormat.N_QUADS)
    generation = kb.store.generation
    assert kb.ensure_reference_data() is False
    kb.close()
    again = KnowledgeBase(data_dir=tmp_path / "d")  # what a second `wijken init` does
    assert again.store.generation == generation
    assert again.store.dump(ox.RdfFormat.N_QUADS) == dump
    again.close()


def test_reference_data_from_an_older_version_is_reloaded(tmp_path: Path) -> None:
    kb = KnowledgeBase(data_dir=tmp_path / "d")
    g = reference_graph("municipalities")
    kb.store.update(f"""DELETE WHERE {{ GRAPH <{g}> {{ <{GEMEENTE}44021> ?p ?o }} }} ;
        DELETE WHERE {{ GRAPH <{g}> {{ <{g}> <{WK.contentHash}> ?h }} }} ;
        INSERT DATA {{ GRAPH <{g}> {{ <{g}> <{WK.contentHash}> "sha256:old" }} }}""")
    assert kb.store.select(f"SELECT ?p WHERE {{ <{GEMEENTE}44021> ?p ?o }}") == []
    assert kb.ensure_reference_data() is True
    rows = kb.store.select(f"SELECT ?l WHERE {{ <{GEMEENTE}44021> <{RDFS.label}> ?l }}")
    assert rows == [{"l": Literal("Gent", lang="nl")}]
    assert kb.ensure_reference_data() is False
    kb.close()
