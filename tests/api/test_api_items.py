"""The item API on the sample corpus: items with links both ways, related items and their paths
(checked against independent SPARQL over the same store), who overcame a threshold, subgraphs."""

from __future__ import annotations

from collections import defaultdict

import httpx
import pytest

from kg.store import Store
from ontology.namespaces import sparql_prefixes
from tests.api.conftest import LiveServer, assert_error

pytestmark = pytest.mark.slow
P = sparql_prefixes()


def rows(store: Store, query: str) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in r.items()} for r in store.select(P + query)]


def get(client: httpx.Client, path: str, **params: object) -> object:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def shared_thresholds(store: Store) -> dict[str, dict[str, set[str]]]:
    """breakthrough id -> {other breakthrough id -> the threshold ids both overcome}."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in rows(store, """
        SELECT ?a ?b ?t WHERE {
          ?x a wk:Breakthrough ; dct:identifier ?a ; wk:overcomes|wk:addresses ?th .
          ?y a wk:Breakthrough ; dct:identifier ?b ; wk:overcomes|wk:addresses ?th .
          ?th a wk:Threshold ; dct:identifier ?t .
          FILTER (?a != ?b) }"""):
        found[r["a"]][r["b"]].add(r["t"])
    return found


def test_an_item_has_its_links_both_ways(sample_live: LiveServer,
                                         sample_client: httpx.Client) -> None:
    store = sample_live.kb.store
    pairs = rows(store, """SELECT ?b ?t WHERE { ?x a wk:Breakthrough ; dct:identifier ?b ;
        wk:overcomes ?y . ?y dct:identifier ?t }""")
    bid = pairs[0]["b"]
    item = get(sample_client, f"/api/items/{bid}")
    assert isinstance(item, dict)
    assert item["id"] == bid and item["type"] == "breakthrough" and item["title"]
    out = {ln["target"]["id"] for ln in item["links"]
           if ln["relation"] == "overcomes" and ln["direction"] == "out"}
    assert out == {p["t"] for p in pairs if p["b"] == bid}
    assert all(ln["target"]["title"] for ln in item["links"] if ln["target"]["id"])
    threshold = get(sample_client, f"/api/items/{pairs[0]['t']}")
    assert isinstance(threshold, dict)
    incoming = [ln for ln in threshold["links"] if ln["direction"] == "in"
                and ln["relation"] == "overcomes"]
    assert bid in {ln["target"]["id"] for ln in incoming}
    assert {ln["label"] for ln in incoming} == {"overwonnen door"}


def test_unknown_ids_are_404(sample_client: httpx.Client) -> None:
    for path in ("/api/items/bestaat-niet", "/api/items/bestaat-niet/related",
                 "/api/thresholds/bestaat-niet/breakthroughs"):
        assert_error(sample_client.get(path), 404, "not-found")
    assert_error(sample_client.get("/api/graph", params={"id": "bestaat-niet"}), 404,
                 "not-found")


def test_breakthroughs_sharing_a_threshold_are_related_through_it(
        sample_live: LiveServer, sample_client: httpx.Client) -> None:
    expected = shared_thresholds(sample_live.kb.store)
    breakthroughs = [r["id"] for r in rows(sample_live.kb.store, """
        SELECT ?id WHERE { ?b a wk:Breakthrough ; dct:identifier ?id } ORDER BY ?id""")]
    assert len(breakthroughs) >= 5 and sum(len(v) for v in expected.values()) >= 5
    for bid in breakthroughs:
        related = get(sample_client, f"/api/items/{bid}/related", type="breakthrough",
                      limit=200)
        assert isinstance(related, list)
        assert {r["type"] for r in related} <= {"breakthrough"}
        assert bid not in {r["id"] for r in related}
        scores = [r["score"] for r in related]
        assert scores == sorted(scores, reverse=True)
        through = {r["id"]: set(v["through"]) for r in related for v in r["via"]
                   if v["relation"] == "shared-threshold"}
        # Exactly the breakthroughs that share a threshold, each naming exactly those.
        assert through == dict(expected.get(bid, {})), bid


def test_related_type_and_limit(sample_live: LiveServer, sample_client: httpx.Client) -> None:
    bid = next(iter(shared_thresholds(sample_live.kb.store)))
    everything = get(sample_client, f"/api/items/{bid}/related", limit=200)
    assert isinstance(everything, list)
    assert len({r["type"] for r in everything}) > 1
    two = get(sample_client, f"/api/items/{bid}/related", limit=2)
    assert two == everything[:2]
    some = get(sample_client, f"/api/items/{bid}/related", type="lesson,measure", limit=200)
    assert isinstance(some, list)
    # The type filter keeps the order: the filtered top 200 starts like the filtered list.
    kept = [r for r in everything if r["type"] in ("lesson", "measure")]
    assert kept and some[:len(kept)] == kept
    assert_error(sample_client.get(f"/api/items/{bid}/related", params={"type": "gemeente"}),
                 400, "bad-request")
    assert_error(sample_client.get(f"/api/items/{bid}/related", params={"limit": 0}), 422)


def test_threshold_breakthroughs(sample_live: LiveServer, sample_client: httpx.Client) -> None:
    store = sample_live.kb.store
    counts = rows(store, """SELECT ?t (COUNT(DISTINCT ?b) AS ?n) WHERE {
        ?b a wk:Breakthrough ; wk:overcomes ?x . ?x dct:identifier ?t }
        GROUP BY ?t ORDER BY DESC(?n) ?t LIMIT 1""")
    tid = counts[0]["t"]
    assert int(counts[0]["n"]) >= 2
    answer = get(sample_client, f"/api/thresholds/{tid}/breakthroughs")
    assert isinstance(answer, dict)
    assert answer["threshold"]["id"] == tid
    by_id = {b["id"]: b for b in answer["breakthroughs"]}
    t = f'?t dct:identifier "{tid}" .'
    want = {r["id"] for r in rows(store, f"""SELECT ?id WHERE {{ {t}
        ?b wk:overcomes ?t ; dct:identifier ?id }}""")}
    assert set(by_id) == want
    facts: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for kind, path, key in (("measures", "wk:usesMeasure", "dct:identifier"),
                            ("neighbourhoods", "wk:neighbourhood", "dct:identifier"),
                            ("municipalities", "wk:municipality", "wk:nisCode"),
                            ("actors", "wk:involves", "dct:identifier")):
        for r in rows(store, f"""SELECT ?id ?x WHERE {{ {t} ?b wk:overcomes ?t ;
                dct:identifier ?id ; {path} ?r . ?r {key} ?x }}"""):
            facts[r["id"]][kind].add(r["x"])
    assert any(facts[b]["measures"] for b in want)
    for bid, path in by_id.items():
        assert set(facts[bid]["measures"]) == {m["id"] for m in path["measures"]}
        for kind in ("neighbourhoods", "municipalities", "actors"):
            # Also those of the measures it uses: the breakthrough's own must be among them.
            assert facts[bid][kind] <= {r["id"] for r in path[kind]}, (bid, kind)
        assert tid not in {r["id"] for r in path["other_thresholds"]}
    municipality = next(m for b in by_id.values() for m in b["municipalities"])
    assert municipality["id"].isdigit() and municipality["title"]
    lesson = rows(store, f"""SELECT ?id WHERE {{ {t} ?l a wk:Lesson ; wk:addresses ?t ;
        dct:identifier ?id }}""")
    assert {r["id"] for r in answer["lessons"]} == {r["id"] for r in lesson}
    assert_error(sample_client.get(f"/api/thresholds/{next(iter(want))}/breakthroughs"), 404,
                 "not-found")


def test_graph(sample_live: LiveServer, sample_client: httpx.Client) -> None:
    bid = next(iter(shared_thresholds(sample_live.kb.store)))
    one = get(sample_client, "/api/graph", id=bid)
    assert isinstance(one, dict)
    nodes = {n["iri"]: n for n in one["nodes"]}
    center = nodes[one["center"]]
    assert center["id"] == bid and center["type"] == "breakthrough"
    assert all(e["source"] in nodes and e["target"] in nodes for e in one["edges"])
    item = get(sample_client, f"/api/items/{bid}")
    assert isinstance(item, dict)
    overcomes = {ln["target"]["iri"] for ln in item["links"] if ln["relation"] == "overcomes"}
    assert overcomes <= {e["target"] for e in one["edges"]
                         if e["source"] == one["center"] and e["relation"] == "overcomes"}
    assert all(nodes[i]["type"] == "threshold" and nodes[i]["label"] for i in overcomes)
    two = get(sample_client, "/api/graph", id=bid, depth=2)
    assert isinstance(two, dict)
    assert len(two["nodes"]) > len(one["nodes"])
    small = get(sample_client, "/api/graph", id=bid, depth=2, max_nodes=5)
    assert isinstance(small, dict)
    assert small["truncated"] is True and len(small["nodes"]) == 5
    for params in ({"id": bid, "depth": 4}, {"id": bid, "depth": 0}, {"depth": 1},
                   {"id": bid, "max_nodes": 0}):
        assert_error(sample_client.get("/api/graph", params=params), 422, "invalid-request")
