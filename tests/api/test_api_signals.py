"""`/api/signals` over real HTTP on the sample corpus: JSON equal to the facade's signals, CSV
and XLSX downloads of the same table, filters, and clean errors."""

from __future__ import annotations

import csv
import io

import httpx

from kg.signals import SIGNAL_COLUMNS, SignalFilters
from tests.api.conftest import LiveServer, assert_error


def test_json_lists_every_drempel_most_widespread_first(sample_live: LiveServer,
                                                        sample_client: httpx.Client) -> None:
    response = sample_client.get("/api/signals")
    assert response.status_code == 200
    body = response.json()
    expected = sample_live.kb.signals()
    assert body["count"] == len(expected) == len(body["signals"]) and body["filters"] == {}
    assert [s["id"] for s in body["signals"]] == [s.id for s in expected]
    first = body["signals"][0]
    assert first["municipalities"] >= body["signals"][-1]["municipalities"]
    assert first["status"] in {"overwonnen", "deels", "open"}
    assert set(first) >= {"neighbourhoods", "lessons", "linked_items", "activities", "trend",
                          "places", "first_date", "last_date", "themes", "werven"}


def test_filters_reach_the_signals(sample_live: LiveServer, sample_client: httpx.Client) -> None:
    body = sample_client.get("/api/signals", params={"theme": "renovatie", "level": "vlaams",
                                                     "province": "70000"}).json()
    assert body["filters"] == {"theme": "renovatie", "level": "vlaams", "province": "70000"}
    expected = sample_live.kb.signals(SignalFilters(theme="renovatie", level="vlaams",
                                                    province="70000"))
    assert expected and all(s.policy_level and s.policy_level.id == "vlaams" for s in expected)
    assert [s["id"] for s in body["signals"]] == [s.id for s in expected]
    assert all("renovatie" in {t["id"] for t in s["themes"]} for s in body["signals"])


def test_csv_and_xlsx_hold_the_same_table(sample_client: httpx.Client) -> None:
    from openpyxl import load_workbook

    signals = sample_client.get("/api/signals", params={"werf": "werf-2"}).json()["signals"]
    response = sample_client.get("/api/signals", params={"werf": "werf-2", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "drempelsignalen.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == SIGNAL_COLUMNS and len(rows) == len(signals) + 1
    assert [r[1] for r in rows[1:]] == [s["id"] for s in signals]
    column = SIGNAL_COLUMNS.index("gemeenten")
    assert [int(r[column]) for r in rows[1:]] == [s["municipalities"] for s in signals]
    response = sample_client.get("/api/signals", params={"werf": "werf-2", "format": "xlsx"})
    assert response.status_code == 200 and response.content[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet.title == "Drempelsignalen"
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert tuple(table[0]) == SIGNAL_COLUMNS and len(table) == len(signals) + 1
    assert [r[1] for r in table[1:]] == [s["id"] for s in signals]
    assert [r[column] for r in table[1:]] == [s["municipalities"] for s in signals]


def test_bad_parameters_are_clean_errors(sample_client: httpx.Client) -> None:
    error = assert_error(sample_client.get("/api/signals", params={"theme": "geen-thema"}), 400)
    assert "theme 'geen-thema'" in error["message"] and "renovatie" in error["message"]
    assert_error(sample_client.get("/api/signals", params={"format": "pdf"}), 422)
    assert_error(sample_client.get("/api/signals", params={"werf": "x" * 500}), 422)


def test_uncurated_mentions_are_counted_apart(sample_live: LiveServer,
                                              sample_client: httpx.Client) -> None:
    """Mentions: items about a drempel that nobody linked to it, at least as close in the index
    as the median curated link; never a linked item, never a drempel, and no effect on the
    linked counts."""
    from kg.signals import curated_links

    body = sample_client.get("/api/signals").json()
    kb = sample_live.kb
    engine = kb.search_engine
    docs = engine.documents()
    linked = curated_links(kb.store)
    cosines = sorted(c for t, items in linked.items() for i in items
                     if (c := engine.similarity(t, i)) is not None)
    cut = cosines[len(cosines) // 2]
    total = 0
    for s in body["signals"]:
        assert s["mentions"] == len(s["mentioned_in"])
        for ref in s["mentioned_in"]:
            assert ref["id"] not in linked.get(s["id"], set())
            assert docs[ref["id"]].type in ("lesson", "measure", "breakthrough")
            similarity = engine.similarity(s["id"], ref["id"])
            assert similarity is not None and similarity >= cut - 1e-6
            total += 1
        # The linked evidence is counted without them.
        assert s["linked_items"] == len(linked.get(s["id"], set()))
    assert total > 0, "the sample has texts about drempels that are not linked to them"
    rows = list(csv.reader(io.StringIO(sample_client.get(
        "/api/signals", params={"format": "csv"}).text)))
    column = rows[0].index("vermeldingen zonder link")
    assert [int(r[column]) for r in rows[1:]] == [s["mentions"] for s in body["signals"]]
