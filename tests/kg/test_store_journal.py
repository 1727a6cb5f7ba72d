"""Large writes are bulk-loaded under an undo journal: a failed write leaves the store as it was."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef

from kg import store as store_module
from kg.store import Store

G = "https://example.org/graph/a"


def _graph(n: int, value: str) -> Graph:
    g = Graph()
    for i in range(n):
        g.add((URIRef(f"https://example.org/s{i}"), URIRef("https://example.org/p"),
               Literal(f"{value} {i}", lang="nl")))
    return g


def _dump(store: Store) -> bytes:
    return b"\n".join(sorted(store.dump(ox.RdfFormat.N_QUADS).splitlines()))


def test_bulk_write_replaces_the_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "BULK_THRESHOLD", 10)
    store = Store(tmp_path)
    store.replace_graphs({G: _graph(50, "oud")})
    store.replace_graphs({G: _graph(30, "nieuw")})
    assert len(store.graph(G)) == 30
    assert all("nieuw" in str(o) for o in store.graph(G).objects())
    assert not (tmp_path / store_module.JOURNAL_DIRNAME).exists()


def test_interrupted_bulk_write_is_undone_on_reopen(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "BULK_THRESHOLD", 10)
    store = Store(tmp_path)
    store.replace_graphs({G: _graph(40, "oud")})
    before = _dump(store)
    generation = store.generation

    real = ox.Store.bulk_extend

    def crash_half_way(self: ox.Store, quads: object) -> None:
        items = list(quads)  # type: ignore[call-overload]
        real(self, items[: len(items) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(ox.Store, "bulk_extend", crash_half_way)
    with pytest.raises(OSError, match="disk full"):
        store.replace_graphs({G: _graph(60, "nieuw"), G + "x": _graph(20, "extra")})
    assert (tmp_path / store_module.JOURNAL_DIRNAME / "pending.json").exists()
    monkeypatch.setattr(ox.Store, "bulk_extend", real)
    store.close()

    reopened = Store(tmp_path)
    assert reopened.recovered
    assert _dump(reopened) == before
    assert reopened.generation > generation  # readers learn the store changed under them
    assert not (tmp_path / store_module.JOURNAL_DIRNAME).exists()
